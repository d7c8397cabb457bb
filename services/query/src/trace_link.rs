//! A link from an event to its trace in whatever backend the team uses
//! (Jaeger, Tempo, Honeycomb…), made from a URL template.

/// The placeholder the trace id replaces.
const PLACEHOLDER: &str = "{trace_id}";

/// A URL template such as `http://localhost:16686/trace/{trace_id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceLink(String);

impl TraceLink {
    /// Accepts a template that contains `{trace_id}`.
    pub fn parse(template: &str) -> Result<Self, String> {
        if template.contains(PLACEHOLDER) {
            Ok(Self(template.to_owned()))
        } else {
            Err(format!("the template must contain {PLACEHOLDER}"))
        }
    }

    /// The link for `trace_id` (32 hex digits, so nothing needs escaping).
    pub(crate) fn url(&self, trace_id: &str) -> String {
        self.0.replace(PLACEHOLDER, trace_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trace_id_fills_the_template() {
        let link = TraceLink::parse("http://jaeger:16686/trace/{trace_id}?uiEmbed=v0").unwrap();
        assert_eq!(
            link.url("4bf92f3577b34da6a3ce929d0e0e4736"),
            "http://jaeger:16686/trace/4bf92f3577b34da6a3ce929d0e0e4736?uiEmbed=v0"
        );
        assert!(TraceLink::parse("http://jaeger:16686/trace/").is_err());
    }
}
