use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Why a list of key hashes could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ApiKeysError {
    /// An entry is not `[name=]sha256:<64 hex digits>`.
    #[error(
        "key hash #{position} is not `sha256:<64 hex digits>` or `<name>=sha256:<64 hex digits>` (a name is 1 to 64 letters, digits, `.`, `_`, `-` or `@`)"
    )]
    Malformed {
        /// 1-based position in the comma-separated list.
        position: usize,
    },
    /// The list has no entries, which would lock everyone out.
    #[error("no key hashes configured")]
    Empty,
}

/// The SHA-256 hashes of the keys allowed to call an API, each with a name
/// that audit records show. Several at once, so a key can be rotated
/// without downtime. A fast hash suffices: keys are long random strings,
/// not passwords, so there is nothing to brute-force.
#[derive(Clone)]
pub struct ApiKeys {
    // Shared: the auth middleware clones this for every request.
    hashes: std::sync::Arc<[(String, [u8; 32])]>,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKeys({} keys)", self.hashes.len())
    }
}

impl ApiKeys {
    /// Parses a comma-separated list of `sha256:<hex>` or
    /// `<name>=sha256:<hex>` entries; an unnamed key is called `key-<n>`
    /// after its position.
    pub fn parse(list: &str) -> Result<Self, ApiKeysError> {
        let hashes = list
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .enumerate()
            .map(|(i, entry)| {
                let malformed = ApiKeysError::Malformed { position: i + 1 };
                let (name, hash) = match entry.split_once('=') {
                    Some((name, hash)) if valid_name(name) => (name.to_owned(), hash),
                    Some(_) => return Err(malformed),
                    None => (format!("key-{}", i + 1), entry),
                };
                let digits = hash.strip_prefix("sha256:").unwrap_or(hash);
                let mut bytes = [0u8; 32];
                hex::decode_to_slice(digits, &mut bytes).map_err(|_| malformed)?;
                Ok((name, bytes))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if hashes.is_empty() {
            return Err(ApiKeysError::Empty);
        }
        Ok(Self {
            hashes: hashes.into(),
        })
    }

    /// Whether `key` is one of the allowed keys. Every stored hash is compared,
    /// in constant time, so timing reveals neither which key nor how much matched.
    pub fn verify(&self, key: &str) -> bool {
        self.identify(key).is_some()
    }

    /// The name of `key`, if it is one of the allowed keys; compared in
    /// constant time like [`ApiKeys::verify`].
    pub fn identify(&self, key: &str) -> Option<&str> {
        let presented: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        let mut found = None;
        for (name, stored) in self.hashes.iter() {
            if bool::from(stored.ct_eq(&presented)) {
                found = Some(name.as_str());
            }
        }
        found
    }

    /// The keys' names, in configured order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.hashes.iter().map(|(name, _)| name.as_str())
    }
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'))
}

/// The `sha256:<hex>` form of a key, as written in configuration.
pub fn hash_key(key: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(key.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_configured_key_and_nothing_else() {
        let list = format!("{}, {}", hash_key("old-key"), hash_key("new-key"));
        let keys = ApiKeys::parse(&list).unwrap();
        assert!(keys.verify("old-key"));
        assert!(keys.verify("new-key"));
        assert!(!keys.verify("other-key"));
        assert!(!keys.verify(""));
    }

    #[test]
    fn named_keys_are_identified_by_name_and_unnamed_ones_by_position() {
        let list = format!("ana@support={},{}", hash_key("ana-key"), hash_key("second"));
        let keys = ApiKeys::parse(&list).unwrap();
        assert_eq!(keys.identify("ana-key"), Some("ana@support"));
        assert_eq!(keys.identify("second"), Some("key-2"));
        assert_eq!(keys.identify("third"), None);
        assert_eq!(keys.names().collect::<Vec<_>>(), ["ana@support", "key-2"]);
        for bad in [
            format!("={}", hash_key("a")),
            format!("a b={}", hash_key("a")),
        ] {
            assert_eq!(
                ApiKeys::parse(&bad).unwrap_err(),
                ApiKeysError::Malformed { position: 1 },
                "{bad}"
            );
        }
    }

    #[test]
    fn rejects_malformed_and_empty_lists() {
        assert_eq!(ApiKeys::parse("").unwrap_err(), ApiKeysError::Empty);
        let list = format!("{},sha256:zz", hash_key("a"));
        assert_eq!(
            ApiKeys::parse(&list).unwrap_err(),
            ApiKeysError::Malformed { position: 2 }
        );
    }

    #[test]
    fn debug_output_reveals_no_hash() {
        let keys = ApiKeys::parse(&hash_key("secret")).unwrap();
        assert_eq!(format!("{keys:?}"), "ApiKeys(1 keys)");
    }
}
