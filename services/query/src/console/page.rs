//! The page around every console view: head, navigation, who is signed in,
//! and the small formatting helpers every view uses (times in UTC that the
//! browser also shows in the viewer's zone, query strings).

use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::session::Session;

/// Where a view belongs in the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Find,
    DeadLetters,
    Delivery,
    Exports,
    Audit,
}

const SECTIONS: [(Section, &str, &str); 5] = [
    (Section::Find, "/console", "Find"),
    (
        Section::DeadLetters,
        "/console/dead-letters",
        "Dead letters",
    ),
    (Section::Delivery, "/console/delivery", "Delivery"),
    (Section::Exports, "/console/exports", "Exports"),
    (Section::Audit, "/console/audit", "Audit log"),
];

fn head(title: &str, refresh_seconds: Option<u32>) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            @if let Some(seconds) = refresh_seconds {
                meta name="orch-refresh" content=(seconds);
            }
            title { (title) " · Event Orchestrator" }
            link rel="stylesheet" href="/console/assets/console.css";
            script src="/console/assets/console.js" defer {}
        }
    }
}

/// A full page for a signed-in person.
pub(crate) fn page(
    title: &str,
    session: &Session,
    section: Section,
    refresh_seconds: Option<u32>,
    body: Markup,
) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, refresh_seconds))
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/console" { "Event Orchestrator" }
                    nav aria-label="Sections" {
                        ul {
                            @for (s, href, label) in SECTIONS {
                                li {
                                    @if s == section {
                                        a href=(href) aria-current="page" { (label) }
                                    } @else {
                                        a href=(href) { (label) }
                                    }
                                }
                            }
                        }
                    }
                    form.who method="post" action="/console/logout" {
                        span { (session.key_name) " · " (session.role.as_str()) }
                        input type="hidden" name="csrf" value=(session.csrf);
                        button type="submit" { "Sign out" }
                    }
                }
                main #main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    };
    html_response(markup)
}

/// A page with no navigation: sign-in and errors.
pub(crate) fn bare(title: &str, body: Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, None))
            body {
                main #main.narrow { (body) }
            }
        }
    };
    html_response(markup)
}

fn html_response(markup: Markup) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        markup.into_string(),
    )
        .into_response()
}

/// A time in UTC; the console's script adds the viewer's own zone beside it.
pub(crate) fn time(at: Option<OffsetDateTime>) -> Markup {
    match at {
        None => html! { span.muted { "—" } },
        Some(at) => {
            let utc = at.to_offset(time::UtcOffset::UTC);
            let machine = utc.format(&Rfc3339).unwrap_or_default();
            let shown = format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03} UTC",
                utc.year(),
                u8::from(utc.month()),
                utc.day(),
                utc.hour(),
                utc.minute(),
                utc.second(),
                utc.millisecond()
            );
            html! { time datetime=(machine) { (shown) } }
        }
    }
}

/// `value` as one query-string value.
pub(crate) fn encode_query(value: &str) -> String {
    serde_urlencoded::to_string([("", value)])
        .map(|pair| pair.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

/// `/console/events/<id>`, the id escaped as one path segment (form
/// encoding writes a space as `+`, which a path keeps as a plus).
pub(crate) fn event_path(id: &str) -> String {
    format!("/console/events/{}", encode_query(id).replace('+', "%20"))
}

/// A query string from pairs, leaving out empty values.
pub(crate) fn query_string(pairs: &[(&str, &str)]) -> String {
    let kept: Vec<(&str, &str)> = pairs
        .iter()
        .copied()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    serde_urlencoded::to_string(kept).unwrap_or_default()
}

/// JSON shown as text, pretty-printed.
pub(crate) fn json_block(value: &serde_json::Value) -> Markup {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    html! { pre.json { code { (text) } } }
}

/// A hidden CSRF field for a form of `session`.
pub(crate) fn csrf_field(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf); }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_one_path_segment_whatever_it_holds() {
        assert_eq!(
            event_path("e 1/2+3?#"),
            "/console/events/e%201%2F2%2B3%3F%23"
        );
        assert_eq!(event_path("évè"), "/console/events/%C3%A9v%C3%A8");
    }
}
