//! Turns a hostile answer into the HTTP response that carries it.

use std::io;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use tokio_util::sync::CancellationToken;

use super::HostileAnswer;

/// Chunk size of an oversized body.
const CHUNK: u64 = 64 << 10;
/// The filler bodies' frame: `{"data":null,"padding":"xxx…"}`.
const FILLER_HEAD: &[u8] = br#"{"data":null,"padding":""#;
const FILLER_TAIL: &[u8] = br#""}"#;
/// What `ResetMidBody` sends before the cut, and what it promises.
const PARTIAL: &[u8] = br#"{"data":{""#;
const PROMISED_LENGTH: &str = "1000";
/// Long enough for the partial body to leave before the cut, so the client
/// sees a body that stops short rather than none at all.
const BEFORE_THE_CUT: Duration = Duration::from_millis(50);

/// The response for `answer`. Streamed bodies end with an error when
/// `shutdown` fires, so a drip never holds up a graceful shutdown and a
/// client never mistakes the cut for a complete body.
pub(crate) fn render(answer: &HostileAnswer, shutdown: &CancellationToken) -> Response {
    match answer {
        HostileAnswer::RetryAfter { value } => retry_after(value),
        HostileAnswer::GraphqlRetryAfter { value } => json_text(format!(
            r#"{{"data":null,"errors":[{{"message":"rate limit exceeded","extensions":{{"code":"RATE_LIMITED","retryAfter":{value}}}}}]}}"#
        )),
        HostileAnswer::SlowDrip { bytes, every_ms } => streamed_json(paced(
            *bytes,
            1,
            Some(Duration::from_millis(*every_ms)),
            shutdown.clone(),
        )),
        HostileAnswer::Oversized { bytes } => {
            streamed_json(paced(*bytes, CHUNK, None, shutdown.clone()))
        }
        HostileAnswer::NotJson => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<html><body>ok</body></html>",
        )
            .into_response(),
        HostileAnswer::ResetMidBody => reset_mid_body(),
        HostileAnswer::NoDataNoErrors => json_text(r#"{"hello":"world"}"#.to_owned()),
    }
}

fn retry_after(value: &str) -> Response {
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"data":null,"errors":[{"message":"rate limit exceeded","extensions":{"code":"RATE_LIMITED"}}]}"#,
    )
        .into_response();
    match HeaderValue::from_str(value) {
        Ok(value) => {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        // `Hostile::validate` refuses such values; this is only a backstop.
        Err(_) => tracing::warn!(value, "Retry-After value cannot be sent; sent none."),
    }
    response
}

/// A 200 with this JSON text, sent as is.
fn json_text(body: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

fn streamed_json(stream: impl Stream<Item = io::Result<Bytes>> + Send + 'static) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(stream),
    )
        .into_response()
}

/// Announces more body than it sends, then fails the body stream: hyper
/// then drops the connection, and the client sees an incomplete body.
fn reset_mid_body() -> Response {
    let partial = futures::stream::once(async { Ok(Bytes::from_static(PARTIAL)) });
    let cut = futures::stream::once(async {
        tokio::time::sleep(BEFORE_THE_CUT).await;
        Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "hostile answer: connection cut mid-body",
        ))
    });
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CONTENT_LENGTH, PROMISED_LENGTH),
        ],
        Body::from_stream(futures::StreamExt::chain(partial, cut)),
    )
        .into_response()
}

/// Where a paced body is.
struct Pace {
    sent: u64,
    total: u64,
    chunk: u64,
    every: Option<Duration>,
    shutdown: CancellationToken,
}

/// `total` bytes of filler in chunks of `chunk`, with `every` between
/// chunks (the first goes at once, so the status and headers do too).
fn paced(
    total: u64,
    chunk: u64,
    every: Option<Duration>,
    shutdown: CancellationToken,
) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
    let pace = Pace {
        sent: 0,
        total,
        chunk: chunk.max(1),
        every,
        shutdown,
    };
    futures::stream::unfold(Some(pace), |pace| async move {
        let mut pace = pace?;
        if pace.sent >= pace.total {
            return None;
        }
        if let Some(every) = pace.every
            && pace.sent > 0
        {
            tokio::select! {
                () = pace.shutdown.cancelled() => {}
                () = tokio::time::sleep(every) => {}
            }
        }
        if pace.shutdown.is_cancelled() {
            let cut = io::Error::new(io::ErrorKind::Interrupted, "shutting down mid-body");
            return Some((Err(cut), None));
        }
        let end = pace.sent.saturating_add(pace.chunk).min(pace.total);
        let bytes = filler(pace.sent, end, pace.total);
        pace.sent = end;
        Some((Ok(bytes), Some(pace)))
    })
}

/// Bytes `start..end` of a `total`-byte filler document: JSON once complete
/// (all spaces when `total` is too short for the frame).
fn filler(start: u64, end: u64, total: u64) -> Bytes {
    let head = FILLER_HEAD.len() as u64;
    let tail = FILLER_TAIL.len() as u64;
    let framed = total >= head + tail;
    let byte = |i: u64| -> u8 {
        if !framed {
            b' '
        } else if i < head {
            FILLER_HEAD[i as usize]
        } else if i >= total - tail {
            FILLER_TAIL[(i - (total - tail)) as usize]
        } else {
            b'x'
        }
    };
    (start..end).map(byte).collect::<Vec<u8>>().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    #[test]
    fn filler_is_json_once_whole_whatever_the_chunks() {
        let total = 100;
        let whole: Vec<u8> = [0..7, 7..60, 60..100]
            .into_iter()
            .flat_map(|r| filler(r.start, r.end, total).to_vec())
            .collect();
        assert_eq!(whole.len(), 100);
        let value: serde_json::Value = serde_json::from_slice(&whole).unwrap();
        assert!(value["data"].is_null());
        assert_eq!(filler(0, 3, 3).as_ref(), b"   ");
    }

    #[tokio::test]
    async fn a_paced_body_sends_every_byte_in_chunks() {
        let chunks: Vec<Bytes> = paced(150_000, CHUNK, None, CancellationToken::new())
            .map(Result::unwrap)
            .collect()
            .await;
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks.iter().map(Bytes::len).sum::<usize>(), 150_000);
    }

    #[tokio::test]
    async fn a_drip_ends_with_an_error_at_shutdown_even_mid_pause() {
        let shutdown = CancellationToken::new();
        let mut drip = Box::pin(paced(
            1_000,
            1,
            Some(Duration::from_secs(3_600)),
            shutdown.clone(),
        ));
        assert!(drip.next().await.unwrap().is_ok());
        let trigger = shutdown.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            trigger.cancel();
        });
        let cut = tokio::time::timeout(Duration::from_secs(5), drip.next()).await;
        assert!(cut.unwrap().unwrap().is_err());
        assert!(drip.next().await.is_none());
    }
}
