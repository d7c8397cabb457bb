//! GETs against the query service's support API with the reader key.

use anyhow::{Context, bail};
use clap::builder::TypedValueParser as _;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

/// Where the query service is and the key to read it with.
#[derive(Debug, clap::Args)]
pub(crate) struct QueryService {
    /// Base URL of the query service.
    #[arg(long, env = "ORCH_QUERY_URL", default_value = "http://127.0.0.1:8082")]
    query_url: String,
    /// Reader (support role) key for the query service.
    #[arg(long, env = "ORCH_READER_KEY", hide_env_values = true, value_parser = clap::builder::NonEmptyStringValueParser::new().map(SecretString::from))]
    reader_key: SecretString,
}

/// GETs `segments` under the service's base URL (with `query` pairs) and
/// returns the JSON answer, or fails with the problem's detail.
pub(crate) async fn get_json(
    service: &QueryService,
    segments: &[&str],
    query: &[(&str, &str)],
) -> anyhow::Result<Value> {
    let (base, reader_key) = (&service.query_url, &service.reader_key);
    let mut url =
        reqwest::Url::parse(base).with_context(|| format!("--query-url {base:?} is not a URL"))?;
    url.path_segments_mut()
        .map_err(|()| anyhow::anyhow!("--query-url {base:?} cannot take a path"))?
        .pop_if_empty()
        .extend(segments);
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    let response = reqwest::Client::new()
        .get(url)
        .bearer_auth(reader_key.expose_secret())
        .send()
        .await
        .with_context(|| format!("Could not reach the query service at {base}"))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .context("The query service answered with something that is not JSON")?;
    if !status.is_success() {
        let detail = body["detail"].as_str().unwrap_or("no detail given");
        bail!("The query service answered {status}: {detail}");
    }
    Ok(body)
}
