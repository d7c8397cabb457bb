//! Signing in (a key exchanged once for a session cookie) and out.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use super::ConsoleContext;
use super::audit;
use super::page;
use super::problem::ConsoleError;
use super::session::{self, Role, Session};

/// The longest key looked at; longer is not a key of ours.
const MAX_KEY: usize = 512;

#[derive(Debug, Deserialize)]
pub(crate) struct Next {
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SignIn {
    key: String,
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SignOut {
    csrf: String,
}

/// Only a console path: never another site, never `//host`.
fn safe_next(next: Option<&str>) -> &str {
    next.filter(|n| n.starts_with("/console") && !n.starts_with("//") && n.len() <= 2_000)
        .unwrap_or("/console")
}

fn sign_in_page(next: &str, error: Option<&str>) -> Markup {
    html! {
        h1 { "Event Orchestrator console" }
        p { "Sign in with your support (reader) or ops key. The key is exchanged once for a session; it is not kept in the browser." }
        @if let Some(error) = error {
            p.error role="alert" { (error) }
        }
        form method="post" action="/console/login" {
            input type="hidden" name="next" value=(next);
            label for="key" { "Key" }
            input #key type="password" name="key" required autocomplete="current-password" autofocus;
            button type="submit" { "Sign in" }
        }
    }
}

/// `GET /console/login`.
pub(crate) async fn form(Query(next): Query<Next>) -> Response {
    page::bare(
        "Sign in",
        sign_in_page(safe_next(next.next.as_deref()), None),
    )
}

/// `POST /console/login`: a known key starts a session.
pub(crate) async fn sign_in(
    State(state): State<ConsoleContext>,
    headers: HeaderMap,
    Form(form): Form<SignIn>,
) -> Result<Response, ConsoleError> {
    session::same_origin(&headers)?;
    let next = safe_next(form.next.as_deref()).to_owned();
    // Checked before the key, so a guess made while throttled learns nothing.
    if state.console.sign_ins.check().is_err() {
        tracing::warn!("Console sign-ins arriving faster than the limit; refused.");
        let body = sign_in_page(
            &next,
            Some("Too many sign-ins on this server just now; wait a few seconds and try again."),
        );
        return Ok((StatusCode::TOO_MANY_REQUESTS, page::bare("Sign in", body)).into_response());
    }
    let key = form.key.trim();
    let ops = state.console.ops_keys.as_ref();
    let found = (key.len() <= MAX_KEY)
        .then(|| {
            ops.and_then(|keys| keys.identify(key))
                .map(|name| (name.to_owned(), Role::Ops))
                .or_else(|| {
                    state
                        .reader_keys
                        .identify(key)
                        .map(|name| (name.to_owned(), Role::Reader))
                })
        })
        .flatten();
    let Some((key_name, role)) = found else {
        tracing::warn!("Console sign-in with an unknown key refused.");
        let body = sign_in_page(
            &next,
            Some("That key is not known. Check it and try again."),
        );
        return Ok((StatusCode::UNAUTHORIZED, page::bare("Sign in", body)).into_response());
    };
    let secure = session::secure(state.console.config.secure_cookie, &headers);
    let cookie = session::start(
        &state.pool,
        &key_name,
        role,
        state.console.config.session_minutes,
        secure,
    )
    .await?;
    audit::record(&state.pool, &key_name, role, "login", json!({}), None).await?;
    tracing::info!(key = %key_name, role = role.as_str(), "Console sign-in.");
    Ok((CookieJar::new().add(cookie), Redirect::to(&next)).into_response())
}

/// `POST /console/logout`.
pub(crate) async fn sign_out(
    State(state): State<ConsoleContext>,
    session: Session,
    headers: HeaderMap,
    Form(form): Form<SignOut>,
) -> Result<Response, ConsoleError> {
    session.check_form(&headers, &form.csrf)?;
    let cleared = session::end(&state.pool, &session).await?;
    audit::record(
        &state.pool,
        &session.key_name,
        session.role,
        "logout",
        json!({}),
        None,
    )
    .await?;
    Ok((
        CookieJar::new().remove(cleared),
        Redirect::to("/console/login"),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_sign_in_only_a_console_path_is_followed() {
        assert_eq!(safe_next(Some("/console/events/e1")), "/console/events/e1");
        for hostile in [
            "https://evil.example/console",
            "//evil.example/console",
            "/events",
            "",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/console", "{hostile}");
        }
        assert_eq!(safe_next(None), "/console");
    }
}
