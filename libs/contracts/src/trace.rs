//! W3C Trace Context (`traceparent`), just enough to continue a caller's trace
//! or start one, and to carry it through Kafka headers.

use rand::RngCore;

/// A parsed `traceparent`: which trace, and which span is the parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    trace_id: [u8; 16],
    span_id: [u8; 8],
    flags: u8,
}

/// Why a `traceparent` header was not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceParentError {
    /// Not `version-traceid-spanid-flags` in lower-case hex of the right lengths.
    #[error("traceparent is not in the form 00-<32 hex>-<16 hex>-<2 hex>")]
    Malformed,
    /// An all-zero trace or span id, which the spec forbids.
    #[error("traceparent has an all-zero trace id or span id")]
    ZeroId,
    /// Version `ff` is forbidden by the spec.
    #[error("traceparent version ff is invalid")]
    InvalidVersion,
}

impl TraceContext {
    /// Starts a new, sampled trace.
    pub fn new_root() -> Self {
        let mut rng = rand::thread_rng();
        Self {
            trace_id: nonzero(&mut rng),
            span_id: nonzero(&mut rng),
            flags: 1,
        }
    }

    /// Parses a `traceparent` header value.
    pub fn parse(header: &str) -> Result<Self, TraceParentError> {
        let mut parts = header.trim().split('-');
        let (Some(version), Some(trace), Some(span), Some(flags)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TraceParentError::Malformed);
        };
        let version = decode::<1>(version)?[0];
        if version == 0xff {
            return Err(TraceParentError::InvalidVersion);
        }
        // Version 00 has exactly four fields; later versions may append more.
        if version == 0 && parts.next().is_some() {
            return Err(TraceParentError::Malformed);
        }
        let trace_id = decode::<16>(trace)?;
        let span_id = decode::<8>(span)?;
        let flags = decode::<1>(flags)?[0];
        if trace_id == [0; 16] || span_id == [0; 8] {
            return Err(TraceParentError::ZeroId);
        }
        Ok(Self {
            trace_id,
            span_id,
            flags,
        })
    }

    /// A child span in the same trace, for the next hop.
    pub fn child(&self) -> Self {
        Self {
            trace_id: self.trace_id,
            span_id: nonzero(&mut rand::thread_rng()),
            flags: self.flags,
        }
    }

    /// The 32-hex-digit trace id.
    pub fn trace_id(&self) -> String {
        hex(&self.trace_id)
    }

    /// The `traceparent` header value naming this span as parent.
    pub fn to_header(&self) -> String {
        format!(
            "00-{}-{}-{:02x}",
            hex(&self.trace_id),
            hex(&self.span_id),
            self.flags
        )
    }
}

fn nonzero<const N: usize>(rng: &mut impl RngCore) -> [u8; N] {
    loop {
        let mut bytes = [0u8; N];
        rng.fill_bytes(&mut bytes);
        if bytes != [0; N] {
            return bytes;
        }
    }
}

fn decode<const N: usize>(field: &str) -> Result<[u8; N], TraceParentError> {
    let field = field.as_bytes();
    if field.len() != N * 2 {
        return Err(TraceParentError::Malformed);
    }
    let mut out = [0u8; N];
    for (i, pair) in field.chunks(2).enumerate() {
        out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Ok(out)
}

fn nibble(c: u8) -> Result<u8, TraceParentError> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        _ => Err(TraceParentError::Malformed),
    }
}

fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn continues_a_valid_traceparent() {
        let ctx = TraceContext::parse(EXAMPLE).unwrap();
        assert_eq!(ctx.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(ctx.to_header(), EXAMPLE);
        let child = ctx.child();
        assert_eq!(child.trace_id(), ctx.trace_id());
        assert_ne!(child.to_header(), EXAMPLE);
    }

    #[test]
    fn rejects_malformed_and_zero_ids() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ] {
            assert_eq!(
                TraceContext::parse(bad),
                Err(TraceParentError::Malformed),
                "{bad}"
            );
        }
        assert_eq!(
            TraceContext::parse("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
            Err(TraceParentError::ZeroId)
        );
        assert_eq!(
            TraceContext::parse("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            Err(TraceParentError::InvalidVersion)
        );
    }

    #[test]
    fn new_roots_are_distinct_and_parseable() {
        let a = TraceContext::new_root();
        let b = TraceContext::new_root();
        assert_ne!(a.trace_id(), b.trace_id());
        assert_eq!(TraceContext::parse(&a.to_header()).unwrap(), a);
    }
}
