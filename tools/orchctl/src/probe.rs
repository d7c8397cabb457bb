//! `orchctl probe`: the container healthcheck. Runtime images have no shell
//! or curl, so the ops CLI they already carry asks the service itself.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};

/// Arguments of `orchctl probe`.
#[derive(Debug, clap::Args)]
pub struct ProbeArgs {
    /// The URL to GET, e.g. `http://127.0.0.1:8080/health`.
    pub url: String,
    /// Give up after this many milliseconds.
    #[arg(long, default_value_t = 2000)]
    pub timeout_ms: u64,
}

/// Exits successfully only on a 2xx answer within the time limit.
pub async fn run(args: &ProbeArgs) -> anyhow::Result<ExitCode> {
    let url =
        reqwest::Url::parse(&args.url).with_context(|| format!("{:?} is not a URL", args.url))?;
    let response = reqwest::Client::builder()
        .timeout(Duration::from_millis(args.timeout_ms))
        .build()?
        .get(url)
        .send()
        .await
        .with_context(|| format!("No answer from {}", args.url))?;
    let status = response.status();
    if !status.is_success() {
        bail!("{} answered {status}", args.url);
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::http::StatusCode;
    use axum::routing::get;

    use super::*;

    fn args(url: String) -> ProbeArgs {
        ProbeArgs {
            url,
            timeout_ms: 2000,
        }
    }

    #[tokio::test]
    async fn only_a_2xx_answer_passes() {
        let app = Router::new()
            .route("/health", get(|| async { "ok" }))
            .route("/ready", get(|| async { StatusCode::SERVICE_UNAVAILABLE }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });

        run(&args(format!("{base}/health"))).await.unwrap();
        let not_ready = run(&args(format!("{base}/ready"))).await.unwrap_err();
        assert!(not_ready.to_string().contains("503"), "{not_ready}");
        let missing = run(&args(format!("{base}/nowhere"))).await.unwrap_err();
        assert!(missing.to_string().contains("404"), "{missing}");
        let bad = run(&args("not a url".into())).await.unwrap_err();
        assert!(bad.to_string().contains("is not a URL"), "{bad}");
    }

    #[tokio::test]
    async fn a_closed_port_is_no_answer() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/health", listener.local_addr().unwrap());
        drop(listener);
        let error = run(&args(url)).await.unwrap_err();
        assert!(error.to_string().starts_with("No answer from"), "{error}");
    }
}
