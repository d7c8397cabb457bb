use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Why a list of key hashes could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ApiKeysError {
    /// An entry is not `sha256:<64 hex digits>`.
    #[error("key hash #{position} is not `sha256:<64 hex digits>`")]
    Malformed {
        /// 1-based position in the comma-separated list.
        position: usize,
    },
    /// The list has no entries, which would lock everyone out.
    #[error("no key hashes configured")]
    Empty,
}

/// The SHA-256 hashes of the keys allowed to call an API. Several at once, so a
/// key can be rotated without downtime. A fast hash suffices: keys are long
/// random strings, not passwords, so there is nothing to brute-force.
#[derive(Clone)]
pub struct ApiKeys {
    // Shared: the auth middleware clones this for every request.
    hashes: std::sync::Arc<[[u8; 32]]>,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKeys({} keys)", self.hashes.len())
    }
}

impl ApiKeys {
    /// Parses a comma-separated list of `sha256:<hex>` entries.
    pub fn parse(list: &str) -> Result<Self, ApiKeysError> {
        let hashes = list
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .enumerate()
            .map(|(i, entry)| {
                let digits = entry.strip_prefix("sha256:").unwrap_or(entry);
                let mut hash = [0u8; 32];
                hex::decode_to_slice(digits, &mut hash)
                    .map(|()| hash)
                    .map_err(|_| ApiKeysError::Malformed { position: i + 1 })
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
        let presented: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        self.hashes
            .iter()
            .fold(subtle::Choice::from(0), |found, stored| {
                found | stored.ct_eq(&presented)
            })
            .into()
    }
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
