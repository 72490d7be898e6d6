//! One entry point from an engine address to a connected [`Engine`]: [`connect`] dispatches
//! on the address's scheme.
//!
//! - `postgres://USER@HOST:PORT/DB` (also `postgresql://`; PostgreSQL and Redshift-compatible
//!   servers): needs the cargo feature `postgres`. A password in the address is refused —
//!   an address ends up in shell history, logs and process lists. The password comes, in this
//!   order, from the environment variable `PGPASSWORD`, or from a password file in
//!   PostgreSQL's own format (`hostname:port:database:username:password` lines, `*` matching
//!   anything, `\:` and `\\` escaping, `#` comments): the file named by `PGPASSFILE`, else
//!   `~/.pgpass`. As with libpq, on Unix a password file readable by group or others is
//!   ignored. No password at all is fine for servers that trust the connection.
//! - `sc://HOST:PORT[/;params]` (Spark Connect, also Databricks clusters): needs the cargo
//!   feature `spark`; see `crate::spark`.
//!
//! Every statement is cancelled after `CAUSALKIT_ENGINE_TIMEOUT` seconds (environment;
//! default [`DEFAULT_TIMEOUT_SECONDS`]).

use crate::engine::Engine;
use crate::error::{Result, WarehouseError};
use std::time::Duration;

/// The statement timeout when `CAUSALKIT_ENGINE_TIMEOUT` is not set, in seconds.
pub const DEFAULT_TIMEOUT_SECONDS: f64 = 3600.0;

/// The address schemes [`connect`] knows, for messages.
pub const SCHEMES: &str = "postgres://USER@HOST:PORT/DB (feature `postgres`) or sc://HOST:PORT (Spark Connect, feature `spark`)";

/// What an engine address names, from its scheme alone (no connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `postgres://` or `postgresql://`.
    Postgres,
    /// `sc://` (Spark Connect).
    Spark,
}

impl Scheme {
    /// The scheme of `url`, or an error naming the address and the schemes known.
    pub fn of(url: &str) -> Result<Scheme> {
        let lower = url.trim().to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Ok(Scheme::Postgres)
        } else if lower.starts_with("sc://") {
            Ok(Scheme::Spark)
        } else {
            Err(WarehouseError::InvalidRequest {
                field: "engine".into(),
                reason: format!("`{}` is not an engine address; use {SCHEMES}", redact(url)),
            })
        }
    }

    /// The SQL dialect the engine speaks.
    pub fn dialect(self) -> crate::Dialect {
        match self {
            Scheme::Postgres => crate::Dialect::Postgres,
            Scheme::Spark => crate::Dialect::Spark,
        }
    }
}

/// `url` with anything after a `:` in its user-info (a password) replaced by `***`, for
/// messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?', ';']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) if user_info.contains(':') => {
            let user = user_info.split_once(':').map_or(user_info, |(u, _)| u);
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        _ => url.to_string(),
    }
}

/// The statement timeout: `CAUSALKIT_ENGINE_TIMEOUT` seconds (a positive number), else
/// [`DEFAULT_TIMEOUT_SECONDS`].
pub fn timeout() -> Result<Duration> {
    match std::env::var("CAUSALKIT_ENGINE_TIMEOUT") {
        Err(_) => Ok(Duration::from_secs_f64(DEFAULT_TIMEOUT_SECONDS)),
        Ok(s) => match s.trim().parse::<f64>() {
            Ok(x) if x.is_finite() && x > 0.0 => Ok(Duration::from_secs_f64(x)),
            _ => Err(WarehouseError::InvalidRequest {
                field: "CAUSALKIT_ENGINE_TIMEOUT".into(),
                reason: format!("`{s}` is not a positive number of seconds"),
            }),
        },
    }
}

/// Connects to the engine at `url`, dispatching on its scheme (see the module
/// documentation): `postgres://USER@HOST:PORT/DB` or `sc://HOST:PORT`. An engine whose cargo
/// feature this build lacks, or an unknown scheme, is a typed error naming the address; an
/// engine that cannot be reached is [`WarehouseError::Unreachable`].
pub fn connect(url: &str) -> Result<Box<dyn Engine>> {
    match Scheme::of(url)? {
        Scheme::Postgres => connect_postgres(url),
        Scheme::Spark => connect_spark(url),
    }
}

#[cfg(feature = "postgres")]
fn connect_postgres(url: &str) -> Result<Box<dyn Engine>> {
    Ok(Box::new(crate::postgres::PostgresEngine::connect(
        url,
        timeout()?,
    )?))
}

#[cfg(not(feature = "postgres"))]
fn connect_postgres(url: &str) -> Result<Box<dyn Engine>> {
    Err(missing_feature(url, "postgres"))
}

#[cfg(feature = "spark")]
fn connect_spark(url: &str) -> Result<Box<dyn Engine>> {
    Ok(Box::new(crate::spark::SparkEngine::connect(url)?))
}

#[cfg(not(feature = "spark"))]
fn connect_spark(url: &str) -> Result<Box<dyn Engine>> {
    Err(missing_feature(url, "spark"))
}

#[allow(dead_code)] // unused when every engine feature is on
fn missing_feature(url: &str, feature: &str) -> WarehouseError {
    WarehouseError::InvalidRequest {
        field: "engine".into(),
        reason: format!(
            "`{}`: this causalkit was built without the `{feature}` feature: cargo build --features {feature}",
            redact(url)
        ),
    }
}

/// The password for (host, port, database, user) from a PostgreSQL password file: the file
/// named by `PGPASSFILE`, else `~/.pgpass` (see the module documentation). None when there
/// is no file, no matching line, or (on Unix) the file is readable by group or others.
pub fn pgpass_password(host: &str, port: u16, database: &str, user: &str) -> Option<String> {
    let path = match std::env::var_os("PGPASSFILE") {
        Some(p) => std::path::PathBuf::from(p),
        None => std::path::PathBuf::from(std::env::var_os("HOME")?).join(".pgpass"),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).ok()?.permissions().mode();
        if mode & 0o077 != 0 {
            return None;
        }
    }
    let text = std::fs::read_to_string(&path).ok()?;
    pgpass_lookup(&text, host, port, database, user)
}

/// The password of the first line of a password file's `text` matching (host, port,
/// database, user); `*` in a field matches anything.
pub fn pgpass_lookup(
    text: &str,
    host: &str,
    port: u16,
    database: &str,
    user: &str,
) -> Option<String> {
    let port = port.to_string();
    for line in text.lines() {
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields = pgpass_fields(line);
        if fields.len() != 5 {
            continue;
        }
        let want = [host, port.as_str(), database, user];
        if fields[..4]
            .iter()
            .zip(want)
            .all(|(f, w)| f == "*" || f == w)
        {
            return Some(fields[4].clone());
        }
    }
    None
}

/// Splits a password-file line at unescaped `:`, undoing `\:` and `\\`.
fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    fields.last_mut().expect("one field").push(n);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut().expect("one field").push(c),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_dispatch_and_unknown_ones_name_the_address() {
        assert_eq!(
            Scheme::of("postgres://u@127.0.0.1:5432/db").unwrap(),
            Scheme::Postgres
        );
        assert_eq!(Scheme::of("POSTGRESQL://u@h/db").unwrap(), Scheme::Postgres);
        assert_eq!(Scheme::of("sc://127.0.0.1:15002").unwrap(), Scheme::Spark);
        let e = Scheme::of("mysql://u:secret@h/db").unwrap_err().to_string();
        assert!(e.contains("mysql://u:***@h/db"), "{e}");
        assert!(!e.contains("secret"), "{e}");
        assert!(e.contains("postgres://") && e.contains("sc://"), "{e}");
        assert!(connect("duckdb:///tmp/x.db").is_err());
    }

    #[cfg(not(feature = "spark"))]
    #[test]
    fn spark_without_the_feature_says_how_to_build_it() {
        let e = connect("sc://127.0.0.1:15002").err().unwrap();
        assert!(matches!(e, WarehouseError::InvalidRequest { .. }));
        let m = e.to_string();
        assert!(
            m.contains("built without the `spark` feature: cargo build --features spark"),
            "{m}"
        );
        assert!(m.contains("sc://127.0.0.1:15002"), "{m}");
    }

    #[cfg(not(feature = "postgres"))]
    #[test]
    fn postgres_without_the_feature_says_how_to_build_it() {
        let m = connect("postgres://u@127.0.0.1:5432/db")
            .err()
            .unwrap()
            .to_string();
        assert!(m.contains("cargo build --features postgres"), "{m}");
    }

    #[test]
    fn redact_hides_only_the_password() {
        assert_eq!(
            redact("postgres://alice:pw@db:5432/x"),
            "postgres://alice:***@db:5432/x"
        );
        assert_eq!(
            redact("postgres://alice@db:5432/x"),
            "postgres://alice@db:5432/x"
        );
        assert_eq!(redact("sc://h:15002/;token=abc"), "sc://h:15002/;token=abc");
    }

    #[test]
    fn pgpass_lines_match_with_wildcards_and_escapes() {
        let text = "# comment\n\
                    other:5432:db:alice:no\n\
                    127.0.0.1:5432:*:alice:first\n\
                    *:*:*:*:fallback\n";
        assert_eq!(
            pgpass_lookup(text, "127.0.0.1", 5432, "sales", "alice").as_deref(),
            Some("first")
        );
        assert_eq!(
            pgpass_lookup(text, "127.0.0.1", 5433, "sales", "alice").as_deref(),
            Some("fallback")
        );
        let esc = "h\\:x:1:d:u:p\\:w\\\\d\n";
        assert_eq!(
            pgpass_lookup(esc, "h:x", 1, "d", "u").as_deref(),
            Some("p:w\\d")
        );
        assert_eq!(pgpass_lookup("h:1:d:u\n", "h", 1, "d", "u"), None);
    }

    #[test]
    fn timeout_defaults_and_rejects_nonsense() {
        // Only this test touches the variable.
        std::env::remove_var("CAUSALKIT_ENGINE_TIMEOUT");
        assert_eq!(timeout().unwrap().as_secs(), 3600);
        std::env::set_var("CAUSALKIT_ENGINE_TIMEOUT", "-3");
        assert!(timeout().is_err());
        std::env::set_var("CAUSALKIT_ENGINE_TIMEOUT", "2.5");
        assert_eq!(timeout().unwrap().as_millis(), 2500);
        std::env::remove_var("CAUSALKIT_ENGINE_TIMEOUT");
    }
}
