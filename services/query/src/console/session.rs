//! Console sessions: a key is exchanged once for a random token held in an
//! HttpOnly, SameSite=Strict cookie; the database keeps only the token's
//! hash, the key's name and role, the CSRF token, and the expiry. Sessions
//! live in Postgres so any replica serves them.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use super::ConsoleContext;
use super::config::SecureCookie;
use super::problem::ConsoleError;

/// The cookie's name.
pub(crate) const COOKIE: &str = "orch_console";
/// Where the cookie is sent: the console only, never the API.
const COOKIE_PATH: &str = "/console";

/// What a signed-in person may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Sees everything, changes nothing.
    Reader,
    /// Also redrives, pauses, resumes, sets the rate and starts exports.
    Ops,
}

impl Role {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Reader => "reader",
            Self::Ops => "ops",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        match name {
            "reader" => Some(Self::Reader),
            "ops" => Some(Self::Ops),
            _ => None,
        }
    }
}

/// A signed-in person: who (the key's name), in what role, and the token
/// their forms must carry.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) key_name: String,
    pub(crate) role: Role,
    pub(crate) csrf: String,
    token_hash: Vec<u8>,
}

impl Session {
    /// Whether this session may act.
    pub(crate) fn can_act(&self) -> bool {
        self.role == Role::Ops
    }

    /// Refuses a state-changing request that is not from our own page: the
    /// form's token must be this session's, and a browser's `Origin`, when
    /// sent, must be this host. SameSite=Strict already keeps the cookie off
    /// cross-site requests; this is the second lock.
    pub(crate) fn check_form(&self, headers: &HeaderMap, token: &str) -> Result<(), ConsoleError> {
        same_origin(headers)?;
        if bool::from(self.csrf.as_bytes().ct_eq(token.as_bytes())) {
            Ok(())
        } else {
            Err(ConsoleError::Forbidden(
                "This form is out of date or was not sent from the console; reload the page and try again.",
            ))
        }
    }

    /// The session, if it may act; a reader is refused.
    pub(crate) fn ops(&self) -> Result<&Self, ConsoleError> {
        if self.can_act() {
            Ok(self)
        } else {
            Err(ConsoleError::Forbidden(
                "Your key may read but not act; sign in with an ops key to do this.",
            ))
        }
    }
}

/// Refuses a request whose `Origin` (sent by browsers on every POST) is not
/// the host it was sent to.
pub(crate) fn same_origin(headers: &HeaderMap) -> Result<(), ConsoleError> {
    let Some(origin) = headers.get("origin") else {
        return Ok(());
    };
    let host = headers
        .get("x-forwarded-host")
        .or_else(|| headers.get("host"))
        .and_then(|h| h.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://").map(|(_, rest)| rest));
    match (origin_host, host) {
        (Some(origin), Some(host)) if origin.eq_ignore_ascii_case(host) => Ok(()),
        _ => Err(ConsoleError::Forbidden(
            "This request came from another site and was refused.",
        )),
    }
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Starts a session for `key_name` and returns the cookie that carries it.
pub(crate) async fn start(
    pool: &PgPool,
    key_name: &str,
    role: Role,
    minutes: u32,
    secure: bool,
) -> Result<Cookie<'static>, sqlx::Error> {
    let token = random_token();
    let expires_at = OffsetDateTime::now_utc() + time::Duration::minutes(i64::from(minutes));
    // Expired sessions go when someone signs in: no sweeper needed.
    sqlx::query("DELETE FROM console_sessions WHERE expires_at < now()")
        .execute(pool)
        .await?;
    sqlx::query(
        "INSERT INTO console_sessions (token_hash, key_name, role, csrf_token, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(hash(&token))
    .bind(key_name)
    .bind(role.as_str())
    .bind(random_token())
    .bind(expires_at)
    .execute(pool)
    .await?;
    Ok(Cookie::build((COOKIE, token))
        .path(COOKIE_PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(time::Duration::minutes(i64::from(minutes)))
        .build())
}

/// Ends `session`; returns the cookie that clears it in the browser.
pub(crate) async fn end(pool: &PgPool, session: &Session) -> Result<Cookie<'static>, sqlx::Error> {
    sqlx::query("DELETE FROM console_sessions WHERE token_hash = $1")
        .bind(&session.token_hash)
        .execute(pool)
        .await?;
    Ok(Cookie::build((COOKIE, "")).path(COOKIE_PATH).build())
}

/// Whether the cookie should be `Secure` for a request with `headers`.
pub(crate) fn secure(setting: SecureCookie, headers: &HeaderMap) -> bool {
    match setting {
        SecureCookie::Always => true,
        SecureCookie::Never => false,
        SecureCookie::Auto => headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|proto| proto.eq_ignore_ascii_case("https")),
    }
}

/// The session row behind a cookie.
#[derive(sqlx::FromRow)]
struct Row {
    key_name: String,
    role: String,
    csrf_token: String,
}

async fn find(pool: &PgPool, token: &str) -> Result<Option<Session>, sqlx::Error> {
    let token_hash = hash(token);
    let row: Option<Row> = sqlx::query_as(
        "SELECT key_name, role, csrf_token FROM console_sessions \
         WHERE token_hash = $1 AND expires_at > now()",
    )
    .bind(&token_hash)
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|row| {
        Some(Session {
            key_name: row.key_name,
            role: Role::parse(&row.role)?,
            csrf: row.csrf_token,
            token_hash,
        })
    }))
}

impl FromRequestParts<ConsoleContext> for Session {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ConsoleContext,
    ) -> Result<Self, Response> {
        let jar = CookieJar::from_headers(&parts.headers);
        let token = jar.get(COOKIE).map(|c| c.value().to_owned());
        let found = match token {
            // A token is 43 characters; anything much longer is not one of ours.
            Some(token) if token.len() <= 64 => find(&state.pool, &token).await,
            _ => Ok(None),
        };
        match found {
            Ok(Some(session)) => Ok(session),
            Ok(None) => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .filter(|p| p.starts_with("/console") && p.len() <= 2_000)
                    .unwrap_or("/console");
                let to = format!("/console/login?next={}", super::page::encode_query(next));
                Err(Redirect::to(&to).into_response())
            }
            Err(error) => Err(ConsoleError::Database(error).into_response()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn a_post_from_another_site_is_refused_and_one_from_ours_is_not() {
        assert!(same_origin(&headers(&[("host", "console.example:8082")])).is_ok());
        assert!(
            same_origin(&headers(&[
                ("host", "console.example:8082"),
                ("origin", "http://console.example:8082")
            ]))
            .is_ok()
        );
        assert!(
            same_origin(&headers(&[
                ("host", "console.example:8082"),
                ("origin", "https://evil.example")
            ]))
            .is_err()
        );
        assert!(same_origin(&headers(&[("origin", "null")])).is_err());
    }

    #[test]
    fn the_cookie_is_secure_behind_tls_or_when_told() {
        let proxied = headers(&[("x-forwarded-proto", "https")]);
        assert!(secure(SecureCookie::Auto, &proxied));
        assert!(!secure(SecureCookie::Auto, &HeaderMap::new()));
        assert!(secure(SecureCookie::Always, &HeaderMap::new()));
        assert!(!secure(SecureCookie::Never, &proxied));
    }
}
