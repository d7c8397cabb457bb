//! Token authentication (SASL/OAUTHBEARER) for every client: librdkafka asks
//! the client's context for a token when it connects and again before the
//! token expires. Only AWS MSK IAM uses it, and only in builds with the
//! `msk-iam` feature, so other builds link no AWS SDK.

use std::error::Error;

use rdkafka::ClientContext;
use rdkafka::client::OAuthToken;
use rdkafka::consumer::ConsumerContext;

/// Whether this build can answer token requests; the value of every
/// context's `ENABLE_REFRESH_OAUTH_TOKEN`.
pub const TOKEN_AUTH_BUILT: bool = cfg!(feature = "msk-iam");

/// Where a client's OAUTHBEARER tokens come from.
#[derive(Debug, Clone, Default)]
pub struct TokenSource {
    #[cfg(feature = "msk-iam")]
    msk_iam: Option<crate::msk_iam::MskIam>,
}

impl TokenSource {
    /// Tokens signed for MSK IAM in `region` with the default AWS credential
    /// chain (IRSA web identity on EKS, then the usual sources).
    #[cfg(feature = "msk-iam")]
    pub fn msk_iam(region: String) -> Self {
        Self {
            msk_iam: Some(crate::msk_iam::MskIam::new(region)),
        }
    }

    /// A token for librdkafka; called from the client's poll, never on a
    /// path that waits for an event.
    pub fn token(&self) -> Result<OAuthToken, Box<dyn Error>> {
        #[cfg(feature = "msk-iam")]
        if let Some(msk_iam) = &self.msk_iam {
            return msk_iam.token();
        }
        // librdkafka asks only when sasl.mechanism is OAUTHBEARER, which
        // KafkaSecurity::check allows only with AWS_MSK_IAM in an msk-iam build.
        Err("no OAUTHBEARER token source is configured".into())
    }
}

/// The token hooks of an `rdkafka::ClientContext` impl, answered by the
/// context's [`TokenSource`] field named `$tokens`. Every context of ours
/// needs them: librdkafka asks whichever context the client has.
#[macro_export]
macro_rules! answer_token_requests {
    ($tokens:ident) => {
        const ENABLE_REFRESH_OAUTH_TOKEN: bool = $crate::TOKEN_AUTH_BUILT;

        fn generate_oauth_token(
            &self,
            _config: Option<&str>,
        ) -> Result<::rdkafka::client::OAuthToken, Box<dyn ::std::error::Error>> {
            self.$tokens.token()
        }
    };
}

/// The context of clients that need no hooks of their own: it answers
/// token requests and nothing else.
#[derive(Debug, Clone, Default)]
pub struct AuthContext {
    tokens: TokenSource,
}

impl AuthContext {
    /// A context that takes its tokens from `tokens`.
    pub fn new(tokens: TokenSource) -> Self {
        Self { tokens }
    }
}

impl ClientContext for AuthContext {
    crate::answer_token_requests!(tokens);
}

impl ConsumerContext for AuthContext {}

/// A producer whose client can authenticate with tokens.
pub type FutureProducer = rdkafka::producer::FutureProducer<AuthContext>;
/// A stream consumer whose client can authenticate with tokens.
pub type StreamConsumer = rdkafka::consumer::StreamConsumer<AuthContext>;
/// A polled consumer whose client can authenticate with tokens.
pub type BaseConsumer = rdkafka::consumer::BaseConsumer<AuthContext>;
