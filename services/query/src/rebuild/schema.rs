//! The side schema a rebuild writes into, and swapping it in for the live one.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgPool};

use super::RebuildError;

/// A schema name safe to splice into SQL: lower-case letters, digits and `_`,
/// starting with a letter or `_`, at most 63 bytes (Postgres' limit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaName(String);

impl FromStr for SchemaName {
    type Err = RebuildError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let mut chars = name.chars();
        let starts_well = chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
        let rest_well = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if starts_well && rest_well && name.len() <= 63 {
            Ok(Self(name.to_owned()))
        } else {
            Err(RebuildError::BadSchemaName(name.to_owned()))
        }
    }
}

impl std::fmt::Display for SchemaName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl SchemaName {
    /// The name as written in SQL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A pool whose unqualified table names resolve in `schema`, so the
/// projector's statements and the migrations work there unchanged.
pub async fn connect_in(database_url: &str, schema: &SchemaName) -> Result<PgPool, sqlx::Error> {
    let options =
        PgConnectOptions::from_str(database_url)?.options([("search_path", schema.as_str())]);
    PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
}

/// Creates `schema` with the read model's tables; refuses an existing schema
/// rather than mixing a rebuild into whatever it holds.
pub async fn create(database_url: &str, schema: &SchemaName) -> Result<PgPool, RebuildError> {
    let mut admin = sqlx::PgConnection::connect(database_url).await?;
    let created = sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut admin)
        .await;
    admin.close().await?;
    match created {
        Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some("42P06") => {
            return Err(RebuildError::SchemaExists(schema.to_string()));
        }
        other => other?,
    };
    let pool = connect_in(database_url, schema).await?;
    crate::migrate(&pool).await?;
    Ok(pool)
}

/// Whether `schema` holds a read model (its `events` table).
pub async fn has_model(pool: &PgPool, schema: &SchemaName) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT to_regclass(format('%I.events', $1::text)) IS NOT NULL")
        .bind(schema.as_str())
        .fetch_one(pool)
        .await
}

/// In one transaction: moves the live tables (if any) into `retired` (a new
/// schema), and the rebuilt ones into `live`. Readers see the old model or
/// the new one, never a mix; the retired tables stay until an operator drops
/// them.
pub async fn promote(
    pool: &PgPool,
    rebuilt: &SchemaName,
    live: &SchemaName,
    retired: &SchemaName,
) -> Result<(), RebuildError> {
    let mut tx = pool.begin().await?;
    sqlx::query(&format!("CREATE SCHEMA {retired}"))
        .execute(&mut *tx)
        .await?;
    sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {live}"))
        .execute(&mut *tx)
        .await?;
    // A database recreated empty has no migration ledger; the rebuilt one
    // goes with its tables so the query service does not migrate them again.
    let live_ledger: bool = sqlx::query_scalar(
        "SELECT to_regclass(format('%I._sqlx_migrations', $1::text)) IS NOT NULL",
    )
    .bind(live.as_str())
    .fetch_one(&mut *tx)
    .await?;
    if !live_ledger {
        sqlx::query(&format!(
            "ALTER TABLE {rebuilt}._sqlx_migrations SET SCHEMA {live}"
        ))
        .execute(&mut *tx)
        .await?;
    }
    for table in [
        "events",
        "event_history",
        "event_search",
        "projection_quarantine",
    ] {
        sqlx::query(&format!(
            "ALTER TABLE IF EXISTS {live}.{table} SET SCHEMA {retired}"
        ))
        .execute(&mut *tx)
        .await?;
        sqlx::query(&format!("ALTER TABLE {rebuilt}.{table} SET SCHEMA {live}"))
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(&format!("DROP SCHEMA {rebuilt} CASCADE"))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_identifiers_are_schema_names() {
        assert!("rebuild_20261122".parse::<SchemaName>().is_ok());
        assert!("_x1".parse::<SchemaName>().is_ok());
        for bad in [
            "",
            "1x",
            "Public",
            "a-b",
            "a; DROP TABLE events",
            "a\"b",
            &"a".repeat(64),
        ] {
            assert!(bad.parse::<SchemaName>().is_err(), "{bad:?} accepted");
        }
    }
}
