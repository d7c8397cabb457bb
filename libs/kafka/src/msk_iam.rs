//! AWS MSK IAM authentication: each token is a SigV4-presigned
//! `kafka-cluster:Connect` request, signed with whatever credentials the
//! default AWS chain finds (on EKS, the service account's IRSA role), valid
//! 15 minutes; librdkafka asks for the next one before it expires.

use std::error::Error;
use std::time::Duration;

use aws_msk_iam_sasl_signer::generate_auth_token;
use aws_types::region::Region;
use rdkafka::client::OAuthToken;

/// Longest a token may take: credentials may need a call to STS.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(10);

/// Signs MSK IAM tokens for one region.
#[derive(Debug, Clone)]
pub(crate) struct MskIam {
    region: Region,
}

impl MskIam {
    pub(crate) fn new(region: String) -> Self {
        Self {
            region: Region::new(region),
        }
    }

    /// A fresh token. librdkafka asks from inside a client's poll, which may
    /// run on a Tokio worker, so the signing (async, maybe a network call)
    /// runs on a thread and runtime of its own rather than on the caller's.
    pub(crate) fn token(&self) -> Result<OAuthToken, Box<dyn Error>> {
        let region = self.region.clone();
        let signed = std::thread::spawn(move || -> Result<(String, i64), String> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|error| format!("could not start the MSK IAM signer: {error}"))?;
            runtime.block_on(async {
                tokio::time::timeout(TOKEN_TIMEOUT, generate_auth_token(region))
                    .await
                    .map_err(|_| "signing an MSK IAM token took longer than 10 s".to_owned())?
                    .map_err(|error| format!("could not sign an MSK IAM token: {error}"))
            })
        })
        .join()
        .map_err(|_| "the MSK IAM token thread panicked")??;
        Ok(as_oauth_token(signed))
    }
}

/// The signer's answer, as librdkafka wants it: the principal is not used by
/// MSK (the signature names it), the lifetime is the expiry in epoch ms.
fn as_oauth_token((token, expires_at_ms): (String, i64)) -> OAuthToken {
    OAuthToken {
        token,
        principal_name: String::new(),
        lifetime_ms: expires_at_ms,
    }
}

#[cfg(test)]
mod tests {
    use aws_credential_types::Credentials;
    use aws_msk_iam_sasl_signer::generate_auth_token_from_credentials_provider;
    use aws_types::sdk_config::SharedCredentialsProvider;
    use base64::Engine;

    use super::*;

    #[tokio::test]
    async fn a_token_is_a_presigned_connect_request_for_the_region() {
        let credentials = Credentials::from_keys("AKIDEXAMPLE", "secret", None);
        let before_ms = time_now_ms();
        let token = as_oauth_token(
            generate_auth_token_from_credentials_provider(
                Region::new("eu-west-1"),
                SharedCredentialsProvider::new(credentials),
            )
            .await
            .unwrap(),
        );
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&token.token)
            .unwrap();
        let url = String::from_utf8(url).unwrap();
        assert!(
            url.starts_with("https://kafka.eu-west-1.amazonaws.com/?"),
            "{url}"
        );
        assert!(url.contains("Action=kafka-cluster%3AConnect"), "{url}");
        assert!(url.contains("X-Amz-Credential=AKIDEXAMPLE%2F"), "{url}");
        assert!(!url.contains("secret"), "the secret key must not travel");
        let lifetime = token.lifetime_ms - before_ms;
        assert!((800_000..=900_000).contains(&lifetime), "{lifetime} ms");
    }

    fn time_now_ms() -> i64 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        i64::try_from(now.as_millis()).unwrap()
    }
}
