//! How clients authenticate to the brokers and encrypt the connection: one
//! set of settings for every service, checked before the first client is
//! built so a half-configured deployment fails at start with the variable
//! named, not later with a timeout.

use std::path::PathBuf;

use clap::builder::TypedValueParser as _;
use rdkafka::ClientConfig;
use secrecy::{ExposeSecret, SecretString};

/// The connection's security protocol (librdkafka's `security.protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SecurityProtocol {
    /// No encryption, no authentication: a local broker only.
    Plaintext,
    /// TLS, no SASL (or mutual TLS configured outside us).
    Ssl,
    /// SASL without TLS; credentials cross the wire in the clear.
    #[value(name = "sasl_plaintext")]
    SaslPlaintext,
    /// SASL over TLS, as on MSK.
    #[value(name = "sasl_ssl")]
    SaslSsl,
}

impl SecurityProtocol {
    fn as_librdkafka(self) -> &'static str {
        match self {
            Self::Plaintext => "plaintext",
            Self::Ssl => "ssl",
            Self::SaslPlaintext => "sasl_plaintext",
            Self::SaslSsl => "sasl_ssl",
        }
    }

    fn uses_sasl(self) -> bool {
        matches!(self, Self::SaslPlaintext | Self::SaslSsl)
    }
}

/// The SASL mechanism (librdkafka's `sasl.mechanism`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SaslMechanism {
    /// SCRAM with SHA-512, MSK's SCRAM mechanism.
    #[value(name = "SCRAM-SHA-512")]
    ScramSha512,
    /// SCRAM with SHA-256.
    #[value(name = "SCRAM-SHA-256")]
    ScramSha256,
    /// Username and password as they are: only over TLS.
    #[value(name = "PLAIN")]
    Plain,
    /// AWS MSK IAM: OAUTHBEARER with tokens signed by the AWS credentials
    /// the process has (IRSA on EKS). Needs a build with the `msk-iam` feature.
    #[value(name = "AWS_MSK_IAM")]
    AwsMskIam,
}

impl SaslMechanism {
    fn as_librdkafka(self) -> &'static str {
        match self {
            Self::ScramSha512 => "SCRAM-SHA-512",
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::Plain => "PLAIN",
            Self::AwsMskIam => "OAUTHBEARER",
        }
    }
}

/// A security configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecurityConfigError {
    /// SASL chosen without saying how.
    #[error("KAFKA_SECURITY_PROTOCOL={0} needs KAFKA_SASL_MECHANISM")]
    MissingMechanism(&'static str),
    /// SASL settings given for a protocol without SASL: probably a typo.
    #[error("KAFKA_SASL_MECHANISM is set but KAFKA_SECURITY_PROTOCOL={0} does not use SASL")]
    MechanismWithoutSasl(&'static str),
    /// A username/password mechanism without both.
    #[error("KAFKA_SASL_MECHANISM={0} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD")]
    MissingCredentials(&'static str),
    /// MSK IAM asked of a build that cannot sign its tokens.
    #[error(
        "KAFKA_SASL_MECHANISM=AWS_MSK_IAM needs a build with the msk-iam feature (cargo build --features msk-iam; images: --build-arg FEATURES=msk-iam)"
    )]
    IamNotBuilt,
    /// MSK IAM without the region its tokens are signed for.
    #[error("KAFKA_SASL_MECHANISM=AWS_MSK_IAM needs AWS_REGION")]
    MissingRegion,
    /// MSK IAM over a connection MSK does not offer it on.
    #[error("KAFKA_SASL_MECHANISM=AWS_MSK_IAM needs KAFKA_SECURITY_PROTOCOL=sasl_ssl, not {0}")]
    IamWithoutTls(&'static str),
    /// The CA file named does not exist.
    #[error("KAFKA_SSL_CA_LOCATION {0:?} is not a readable file")]
    CaNotFound(PathBuf),
}

/// Security settings read from the environment.
#[derive(Debug, Clone, clap::Args)]
pub struct KafkaSecurity {
    /// `plaintext`, `ssl`, `sasl_plaintext` or `sasl_ssl` (MSK: `sasl_ssl`),
    /// in any case.
    #[arg(long, env = "KAFKA_SECURITY_PROTOCOL", value_enum, ignore_case = true,
          default_value_t = SecurityProtocol::Plaintext)]
    pub kafka_security_protocol: SecurityProtocol,

    /// `SCRAM-SHA-512`, `SCRAM-SHA-256`, `PLAIN` or `AWS_MSK_IAM`; required
    /// with SASL.
    #[arg(long, env = "KAFKA_SASL_MECHANISM", value_enum, ignore_case = true)]
    pub kafka_sasl_mechanism: Option<SaslMechanism>,

    /// The SASL username.
    #[arg(long, env = "KAFKA_SASL_USERNAME")]
    pub kafka_sasl_username: Option<String>,

    /// The SASL password; never logged.
    #[arg(long, env = "KAFKA_SASL_PASSWORD", value_parser = clap::builder::NonEmptyStringValueParser::new().map(SecretString::from), hide_env_values = true)]
    pub kafka_sasl_password: Option<SecretString>,

    /// PEM file of the CA that signed the brokers' certificates; unset, the
    /// system's trust store (enough for MSK).
    #[arg(long, env = "KAFKA_SSL_CA_LOCATION")]
    pub kafka_ssl_ca_location: Option<PathBuf>,

    /// The AWS region MSK IAM tokens are signed for.
    #[arg(long, env = "AWS_REGION")]
    pub aws_region: Option<String>,
}

impl Default for KafkaSecurity {
    /// Plaintext, for a local broker.
    fn default() -> Self {
        Self {
            kafka_security_protocol: SecurityProtocol::Plaintext,
            kafka_sasl_mechanism: None,
            kafka_sasl_username: None,
            kafka_sasl_password: None,
            kafka_ssl_ca_location: None,
            aws_region: None,
        }
    }
}

impl KafkaSecurity {
    /// Refuses combinations that cannot connect.
    pub fn check(&self) -> Result<(), SecurityConfigError> {
        let protocol = self.kafka_security_protocol;
        match (protocol.uses_sasl(), self.kafka_sasl_mechanism) {
            (true, None) => {
                return Err(SecurityConfigError::MissingMechanism(
                    protocol.as_librdkafka(),
                ));
            }
            (false, Some(_)) => {
                return Err(SecurityConfigError::MechanismWithoutSasl(
                    protocol.as_librdkafka(),
                ));
            }
            (true, Some(SaslMechanism::AwsMskIam)) => {
                if !crate::TOKEN_AUTH_BUILT {
                    return Err(SecurityConfigError::IamNotBuilt);
                }
                if protocol != SecurityProtocol::SaslSsl {
                    return Err(SecurityConfigError::IamWithoutTls(protocol.as_librdkafka()));
                }
                if self.aws_region.as_deref().is_none_or(str::is_empty) {
                    return Err(SecurityConfigError::MissingRegion);
                }
            }
            (true, Some(mechanism)) => {
                let has = |value: Option<&str>| value.is_some_and(|v| !v.is_empty());
                if !has(self.kafka_sasl_username.as_deref())
                    || !has(self.kafka_sasl_password.as_ref().map(|p| p.expose_secret()))
                {
                    return Err(SecurityConfigError::MissingCredentials(
                        mechanism.as_librdkafka(),
                    ));
                }
            }
            (false, None) => {}
        }
        if let Some(path) = &self.kafka_ssl_ca_location
            && !path.is_file()
        {
            return Err(SecurityConfigError::CaNotFound(path.clone()));
        }
        Ok(())
    }

    /// Where the clients' OAUTHBEARER tokens come from.
    pub fn tokens(&self) -> crate::TokenSource {
        #[cfg(feature = "msk-iam")]
        if self.kafka_sasl_mechanism == Some(SaslMechanism::AwsMskIam)
            && let Some(region) = &self.aws_region
        {
            return crate::TokenSource::msk_iam(region.clone());
        }
        crate::TokenSource::default()
    }

    /// Adds the security settings to a client configuration.
    pub(crate) fn apply(&self, config: &mut ClientConfig) {
        config.set(
            "security.protocol",
            self.kafka_security_protocol.as_librdkafka(),
        );
        if let Some(mechanism) = self.kafka_sasl_mechanism {
            config.set("sasl.mechanism", mechanism.as_librdkafka());
        }
        if let Some(username) = &self.kafka_sasl_username {
            config.set("sasl.username", username);
        }
        if let Some(password) = &self.kafka_sasl_password {
            config.set("sasl.password", password.expose_secret());
        }
        if let Some(path) = &self.kafka_ssl_ca_location {
            config.set("ssl.ca.location", path.to_string_lossy());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scram() -> KafkaSecurity {
        KafkaSecurity {
            kafka_security_protocol: SecurityProtocol::SaslSsl,
            kafka_sasl_mechanism: Some(SaslMechanism::ScramSha512),
            kafka_sasl_username: Some("orch".into()),
            kafka_sasl_password: Some(SecretString::from("s3cret".to_owned())),
            kafka_ssl_ca_location: None,
            aws_region: None,
        }
    }

    #[test]
    fn msk_iam_needs_tls_a_region_and_the_feature() {
        let iam = KafkaSecurity {
            kafka_security_protocol: SecurityProtocol::SaslSsl,
            kafka_sasl_mechanism: Some(SaslMechanism::AwsMskIam),
            aws_region: Some("eu-west-1".into()),
            ..KafkaSecurity::default()
        };
        if !crate::TOKEN_AUTH_BUILT {
            assert_eq!(iam.check(), Err(SecurityConfigError::IamNotBuilt));
            assert!(
                iam.check()
                    .unwrap_err()
                    .to_string()
                    .contains("--features msk-iam")
            );
            return;
        }
        assert_eq!(iam.check(), Ok(()));
        let no_region = KafkaSecurity {
            aws_region: None,
            ..iam.clone()
        };
        assert_eq!(no_region.check(), Err(SecurityConfigError::MissingRegion));
        let no_tls = KafkaSecurity {
            kafka_security_protocol: SecurityProtocol::SaslPlaintext,
            ..iam.clone()
        };
        assert_eq!(
            no_tls.check(),
            Err(SecurityConfigError::IamWithoutTls("sasl_plaintext"))
        );
        let mut config = ClientConfig::new();
        iam.apply(&mut config);
        assert_eq!(config.get("sasl.mechanism"), Some("OAUTHBEARER"));
    }

    #[test]
    fn half_configured_security_is_refused_with_the_variable_named() {
        assert_eq!(KafkaSecurity::default().check(), Ok(()));
        assert_eq!(scram().check(), Ok(()));
        let no_mechanism = KafkaSecurity {
            kafka_sasl_mechanism: None,
            ..scram()
        };
        assert!(
            no_mechanism
                .check()
                .unwrap_err()
                .to_string()
                .contains("KAFKA_SASL_MECHANISM")
        );
        let no_password = KafkaSecurity {
            kafka_sasl_password: None,
            ..scram()
        };
        assert_eq!(
            no_password.check(),
            Err(SecurityConfigError::MissingCredentials("SCRAM-SHA-512"))
        );
        let stray = KafkaSecurity {
            kafka_security_protocol: SecurityProtocol::Ssl,
            ..scram()
        };
        assert_eq!(
            stray.check(),
            Err(SecurityConfigError::MechanismWithoutSasl("ssl"))
        );
        let missing_ca = KafkaSecurity {
            kafka_ssl_ca_location: Some("/nonexistent/ca.pem".into()),
            ..scram()
        };
        assert!(matches!(
            missing_ca.check(),
            Err(SecurityConfigError::CaNotFound(_))
        ));
    }

    #[test]
    fn the_settings_reach_librdkafka_and_the_password_stays_out_of_debug() {
        let mut config = ClientConfig::new();
        scram().apply(&mut config);
        assert_eq!(config.get("security.protocol"), Some("sasl_ssl"));
        assert_eq!(config.get("sasl.mechanism"), Some("SCRAM-SHA-512"));
        assert_eq!(config.get("sasl.username"), Some("orch"));
        assert_eq!(config.get("sasl.password"), Some("s3cret"));
        assert!(!format!("{:?}", scram()).contains("s3cret"));
    }
}
