//! A Spark engine over Spark Connect (feature `spark`), with the official Rust client
//! (`apache-spark-connect`): a Spark 3.4+/4.x standalone or YARN/Kubernetes cluster running
//! the Spark Connect server, and Databricks clusters, which speak the same protocol.
//!
//! The address is `sc://HOST:PORT` with optional `;NAME=VALUE` parameters (`use_ssl=true`,
//! `x-databricks-cluster-id=...`, `user_id=...`), written either `sc://HOST:PORT;use_ssl=true`
//! or in Spark's own form `sc://HOST:PORT/;use_ssl=true`. A token never comes from the
//! address (an address holding `token=` is refused, so it cannot land in a shell history or a
//! process list): it is read from the environment, `SPARK_CONNECT_TOKEN` first, then
//! `DATABRICKS_TOKEN`, and sent only over TLS (or to a loopback address).
//!
//! The whole aggregation runs in the cluster: the driver plans it, every executor sums its
//! partitions, and only the small result (arms × segments × metrics rows) comes back as Arrow
//! batches, converted here to [`Table`] rows.

// The client's `SparkError` is large; the closures below pass it through unchanged (the
// client itself allows this lint for the same reason).
#![allow(clippy::result_large_err)]

use crate::dialect::Dialect;
use crate::engine::{Cell, ColumnType, Engine, Table};
use crate::error::{Result, WarehouseError};
use crate::request::TableName;
use spark_connect::row::Value;
use spark_connect::{DataType, SparkError, SparkSession, SparkSessionBuilder};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::time::Duration;

/// Environment variables a Spark Connect token is read from, in this order.
pub const TOKEN_VARIABLES: [&str; 2] = ["SPARK_CONNECT_TOKEN", "DATABRICKS_TOKEN"];

/// How long a statement may run when no other limit is given (one hour).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3600);

/// How long reaching the server (TCP connect and the first RPC) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// A connected Spark Connect engine.
pub struct SparkEngine {
    session: SparkSession,
    address: String,
    timeout: Duration,
}

impl std::fmt::Debug for SparkEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SparkEngine")
            .field("address", &self.address)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A parsed `sc://` address: host, port and the `;NAME=VALUE` parameters.
#[derive(Debug, Clone, PartialEq)]
struct Address {
    host: String,
    port: u16,
    params: Vec<(String, String)>,
}

impl Address {
    fn parse(url: &str) -> Result<Address> {
        let bad = |reason: String| WarehouseError::InvalidRequest {
            field: "engine".into(),
            reason,
        };
        let rest = url.trim().strip_prefix("sc://").ok_or_else(|| {
            bad(format!(
                "`{}` is not a Spark Connect address; give sc://HOST:PORT",
                redact(url)
            ))
        })?;
        let (authority, params) = match rest.find([';', '/']) {
            Some(i) => (&rest[..i], rest[i..].trim_start_matches('/')),
            None => (rest, ""),
        };
        let mut list = Vec::new();
        for p in params.split(';').filter(|p| !p.is_empty()) {
            let (k, v) = p.split_once('=').ok_or_else(|| {
                bad(format!(
                    "parameter `{}` of the Spark Connect address is not NAME=VALUE",
                    redact(p)
                ))
            })?;
            if k.trim().eq_ignore_ascii_case("token") {
                return Err(bad(format!(
                    "the Spark Connect address holds a token; give it in the environment ({}) instead, never on the command line",
                    TOKEN_VARIABLES.join(" or ")
                )));
            }
            if k.is_empty() || v.contains(['/', '?', '#']) || v.contains('=') {
                return Err(bad(format!(
                    "parameter `{p}` of the Spark Connect address is not NAME=VALUE"
                )));
            }
            list.push((k.to_string(), v.to_string()));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let close = v6
                .find(']')
                .ok_or_else(|| bad(format!("`{url}` has an unclosed [IPv6] host")))?;
            let port = v6[close + 1..].strip_prefix(':').unwrap_or("");
            (format!("[{}]", &v6[..close]), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), p),
                None => (authority.to_string(), ""),
            }
        };
        if host.is_empty() || host.contains(['@', ' ']) {
            return Err(bad(format!(
                "`{url}` has no host; give sc://HOST:PORT (e.g. sc://127.0.0.1:15002)"
            )));
        }
        let port = if port.is_empty() {
            15002
        } else {
            port.parse::<u16>()
                .map_err(|_| bad(format!("`{port}` in `{url}` is not a port number")))?
        };
        Ok(Address {
            host: host.to_ascii_lowercase(),
            port,
            params: list,
        })
    }

    fn use_ssl(&self) -> bool {
        self.params
            .iter()
            .any(|(k, v)| k == "use_ssl" && v.eq_ignore_ascii_case("true"))
    }

    /// The address for messages: host, port and TLS, no other parameter.
    fn display(&self) -> String {
        let ssl = if self.use_ssl() { ";use_ssl=true" } else { "" };
        format!("sc://{}:{}{ssl}", self.host, self.port)
    }

    /// The connection string handed to the client, with the token (percent-encoded).
    fn client_url(&self, token: Option<&str>) -> String {
        let mut s = format!("sc://{}:{}/", self.host, self.port);
        let mut params: Vec<String> = self
            .params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if let Some(t) = token {
            params.push(format!("token={}", percent_encode(t)));
        }
        if !params.is_empty() {
            s.push(';');
            s += &params.join(";");
        }
        s
    }
}

/// The address with any `token=` value blanked, for messages.
fn redact(s: &str) -> String {
    s.split(';')
        .map(|p| match p.split_once('=') {
            Some((k, _)) if k.trim().eq_ignore_ascii_case("token") => format!("{k}=***"),
            _ => p.to_string(),
        })
        .collect::<Vec<_>>()
        .join(";")
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out += &format!("%{b:02X}");
        }
    }
    out
}

/// The token from the environment ([`TOKEN_VARIABLES`]), if any.
fn token_from_env() -> Option<String> {
    TOKEN_VARIABLES
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|t| !t.trim().is_empty())
        .map(|t| t.trim().to_string())
}

/// Runs `f` on another thread and waits at most `limit` for it; `None` when it is still
/// running then (it goes on detached; its result is dropped).
fn with_limit<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit).ok()
}

impl SparkEngine {
    /// Connects to a Spark Connect server at `url` (`sc://HOST:PORT[;use_ssl=true;...]`),
    /// the token from `SPARK_CONNECT_TOKEN` or `DATABRICKS_TOKEN`; statements are cancelled
    /// after [`DEFAULT_TIMEOUT`] (see [`SparkEngine::with_timeout`]). Nothing listening at
    /// the address, or a server that does not answer as Spark Connect within 20 s, is
    /// [`WarehouseError::Unreachable`]; an address holding `token=` is
    /// [`WarehouseError::InvalidRequest`].
    pub fn connect(url: &str) -> Result<SparkEngine> {
        let addr = Address::parse(url)?;
        let address = addr.display();
        let unreachable = |reason: String| WarehouseError::Unreachable {
            engine: address.clone(),
            reason,
        };
        // The client connects lazily and retries an unavailable server for minutes: try
        // the TCP connection first, so that nothing listening fails at once.
        let host = addr.host.trim_start_matches('[').trim_end_matches(']');
        let sockets: Vec<_> = (host, addr.port)
            .to_socket_addrs()
            .map_err(|e| unreachable(format!("cannot resolve host `{}`: {e}", addr.host)))?
            .collect();
        let mut last = String::from("the host resolves to no address");
        let mut reached = false;
        for s in &sockets {
            match TcpStream::connect_timeout(s, CONNECT_TIMEOUT) {
                Ok(_) => {
                    reached = true;
                    break;
                }
                Err(e) => last = format!("{s}: {e}"),
            }
        }
        if !reached {
            return Err(unreachable(last));
        }
        let token = token_from_env();
        let client_url = addr.client_url(token.as_deref());
        let session = SparkSessionBuilder::new()
            .remote(&client_url)
            .get_or_create()
            .map_err(|e| WarehouseError::InvalidRequest {
                field: "engine".into(),
                reason: format!("{address}: {}", scrub(&e.message(), token.as_deref())),
            })?;
        // One round trip: the server's version, which a Spark Connect server answers at once.
        let probe = session.clone();
        match with_limit(CONNECT_TIMEOUT, move || probe.version()) {
            None => {
                return Err(unreachable(format!(
                    "no Spark Connect answer within {} s",
                    CONNECT_TIMEOUT.as_secs()
                )))
            }
            Some(Err(e)) => return Err(unreachable(scrub(&e.message(), token.as_deref()))),
            Some(Ok(_)) => {}
        }
        Ok(SparkEngine {
            session,
            address,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// The same engine with statements cancelled after `timeout` (then
    /// [`WarehouseError::Timeout`]).
    pub fn with_timeout(mut self, timeout: Duration) -> SparkEngine {
        self.timeout = timeout;
        self
    }

    /// The server's Spark version.
    pub fn version(&self) -> Result<String> {
        self.session
            .version()
            .map_err(|e| self.error(&TableName(vec!["-".into()]), e))
    }

    /// Runs a statement and drops its rows (e.g. `CREATE TEMPORARY VIEW`, `SET`).
    pub fn execute(&mut self, sql: &str) -> Result<()> {
        let table = TableName(vec!["-".into()]);
        self.rows(&table, sql).map(|_| ())
    }

    /// Runs `sql` within the time limit; on timeout every operation of the session is
    /// interrupted.
    fn rows(&self, table: &TableName, sql: &str) -> Result<Vec<spark_connect::row::Row>> {
        let session = self.session.clone();
        let q = sql.to_string();
        let run = move || -> std::result::Result<_, SparkError> {
            let rows = session.sql(&q)?.collect()?;
            // The server sends the plan's metrics last. The client's collect() takes a
            // stream the server closes early (after
            // spark.connect.execute.reattachable.senderMaxStreamDuration, 2 min by default)
            // for the end of the result instead of reattaching, so without them the rows
            // may be a truncated part of the result.
            let complete = session
                .last_execution_info()
                .is_some_and(|i| i.metrics.is_some());
            Ok((rows, complete))
        };
        match with_limit(self.timeout, run) {
            Some(Ok((rows, true))) => Ok(rows),
            Some(Ok((_, false))) => Err(WarehouseError::Engine {
                engine: self.address.clone(),
                table: table.to_string(),
                reason: "the server ended the result stream before the query finished (a query \
                         longer than the server's spark.connect.execute.reattachable.\
                         senderMaxStreamDuration, 2 min by default, which the Spark Connect \
                         client does not resume); start the Connect server with \
                         --conf spark.connect.execute.reattachable.senderMaxStreamDuration=0"
                    .into(),
            }),
            Some(Err(e)) => Err(self.error(table, e)),
            None => {
                let s = self.session.clone();
                // Best effort: the interrupt is bounded too.
                let _ = with_limit(Duration::from_secs(10), move || s.interrupt_all());
                Err(WarehouseError::Timeout {
                    engine: self.address.clone(),
                    table: table.to_string(),
                    seconds: self.timeout.as_secs_f64(),
                })
            }
        }
    }

    /// The schema of `sql`'s result, without running it (an AnalyzePlan request).
    fn schema(&self, table: &TableName, sql: &str) -> Result<DataType> {
        let session = self.session.clone();
        let q = sql.to_string();
        match with_limit(self.timeout, move || session.sql(&q)?.schema()) {
            Some(r) => r.map_err(|e| self.error(table, e)),
            None => Err(WarehouseError::Timeout {
                engine: self.address.clone(),
                table: table.to_string(),
                seconds: self.timeout.as_secs_f64(),
            }),
        }
    }

    /// A client error as a typed warehouse error, by Spark's error class.
    fn error(&self, table: &TableName, e: SparkError) -> WarehouseError {
        let engine = self.address.clone();
        let table_s = table.to_string();
        let class = e
            .get_condition()
            .or_else(|| bracketed_class(&e.message))
            .unwrap_or_default();
        let raw = if e.message.is_empty() {
            e.message()
        } else {
            e.message.clone()
        };
        let message = first_line(&raw);
        let param = |k: &str| e.params.get(k).cloned();
        if class.starts_with("TABLE_OR_VIEW_NOT_FOUND") || class.starts_with("PATH_NOT_FOUND") {
            WarehouseError::MissingTable {
                engine,
                table: table_s,
            }
        } else if class.starts_with("UNRESOLVED_COLUMN") || class.starts_with("UNRESOLVED_FIELD") {
            let column = param("objectName")
                .map(|c| unquote_ident(&c))
                .or_else(|| backticked(&message))
                .unwrap_or_else(|| "-".into());
            WarehouseError::MissingColumn {
                engine,
                table: table_s,
                column,
                available: param("proposal")
                    .map(|p| p.replace('`', ""))
                    .unwrap_or_else(|| "-".into()),
            }
        } else if class.starts_with("DATATYPE_MISMATCH")
            || class.starts_with("CAST_INVALID_INPUT")
            || class.starts_with("CAST_OVERFLOW")
        {
            WarehouseError::TypeMismatch {
                engine,
                table: table_s,
                column: param("sqlExpr")
                    .map(|c| unquote_ident(&c))
                    .or_else(|| backticked(&message))
                    .unwrap_or_else(|| "-".into()),
                found: message,
                expected: "numeric values".into(),
            }
        } else if class.starts_with("OPERATION_CANCELED") {
            WarehouseError::Timeout {
                engine,
                table: table_s,
                seconds: self.timeout.as_secs_f64(),
            }
        } else if e.grpc_code() == Some(14) || e.grpc_code() == Some(4) || transport(&message) {
            // UNAVAILABLE / DEADLINE_EXCEEDED, or a transport failure of the channel.
            WarehouseError::Unreachable {
                engine,
                reason: message,
            }
        } else {
            WarehouseError::Engine {
                engine,
                table: table_s,
                reason: message,
            }
        }
    }
}

/// A message without the token, should a client ever echo its connection string.
fn scrub(msg: &str, token: Option<&str>) -> String {
    let m = first_line(msg);
    match token {
        Some(t) if !t.is_empty() => m.replace(t, "***").replace(&percent_encode(t), "***"),
        _ => m,
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_string()
}

fn transport(msg: &str) -> bool {
    let m = msg.to_ascii_lowercase();
    m.contains("transport error") || m.contains("connection refused") || m.contains("tcp connect")
}

/// `ERROR_CLASS` of a message that starts `[ERROR_CLASS] ...`.
fn bracketed_class(msg: &str) -> Option<String> {
    let rest = msg.trim_start().strip_prefix('[')?;
    let end = rest.find(']')?;
    let c = &rest[..end];
    c.chars()
        .all(|ch| ch.is_ascii_uppercase() || ch == '_' || ch == '.')
        .then(|| c.to_string())
}

/// The first `` `quoted` `` name in a message.
fn backticked(msg: &str) -> Option<String> {
    let a = msg.find('`')?;
    let b = msg[a + 1..].find('`')?;
    Some(msg[a + 1..a + 1 + b].to_string())
}

/// A Spark identifier without its backticks (`` `a``b` `` is a`b).
fn unquote_ident(s: &str) -> String {
    let t = s.trim();
    match t.strip_prefix('`').and_then(|x| x.strip_suffix('`')) {
        Some(inner) => inner.replace("``", "`"),
        None => t.to_string(),
    }
}

fn column_type(t: &DataType) -> ColumnType {
    match t {
        DataType::Byte
        | DataType::Short
        | DataType::Integer
        | DataType::Long
        | DataType::Float
        | DataType::Double
        | DataType::Decimal { .. } => ColumnType::Numeric,
        DataType::Boolean => ColumnType::Boolean,
        DataType::String { .. } | DataType::Char { .. } | DataType::Varchar { .. } => {
            ColumnType::Text
        }
        other => ColumnType::Other(other.to_string()),
    }
}

impl Engine for SparkEngine {
    fn address(&self) -> String {
        self.address.clone()
    }

    fn dialect(&self) -> Dialect {
        Dialect::Spark
    }

    fn columns(&mut self, table: &TableName, sql: &str) -> Result<Vec<(String, ColumnType)>> {
        match self.schema(table, sql)? {
            DataType::Struct { fields } => Ok(fields
                .iter()
                .map(|f| (f.name.clone(), column_type(&f.data_type)))
                .collect()),
            other => Err(WarehouseError::BadResult {
                engine: self.address.clone(),
                table: table.to_string(),
                column: "-".into(),
                reason: format!("the schema is {other}, not a row type"),
            }),
        }
    }

    fn query(&mut self, table: &TableName, sql: &str) -> Result<Table> {
        let rows = self.rows(table, sql)?;
        let columns: Vec<String> = match rows.first() {
            Some(r) => r.fields().to_vec(),
            None => self.columns(table, sql)?.into_iter().map(|c| c.0).collect(),
        };
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let mut cells = Vec::with_capacity(columns.len());
            for (i, v) in row.into_values().into_iter().enumerate() {
                let bad = |reason: String| WarehouseError::BadResult {
                    engine: self.address.clone(),
                    table: table.to_string(),
                    column: columns.get(i).cloned().unwrap_or_else(|| i.to_string()),
                    reason,
                };
                let cell = match v {
                    Value::Null => Cell::Null,
                    Value::Byte(x) => Cell::Number(f64::from(x)),
                    Value::Short(x) => Cell::Number(f64::from(x)),
                    Value::Integer(x) => Cell::Number(f64::from(x)),
                    Value::Long(x) => Cell::Number(x as f64),
                    Value::Float(x) => Cell::Number(f64::from(x)),
                    Value::Double(x) => Cell::Number(x),
                    Value::Decimal { value, .. } => Cell::Number(
                        value
                            .trim()
                            .parse::<f64>()
                            .map_err(|_| bad(format!("decimal `{value}` is not a number")))?,
                    ),
                    Value::String(s) => Cell::Text(s),
                    other => {
                        return Err(bad(format!("value {other:?} is neither numeric nor text")))
                    }
                };
                cells.push(cell);
            }
            if cells.len() != columns.len() {
                return Err(WarehouseError::BadResult {
                    engine: self.address.clone(),
                    table: table.to_string(),
                    column: "-".into(),
                    reason: format!(
                        "a row has {} values for {} columns",
                        cells.len(),
                        columns.len()
                    ),
                });
            }
            out.push(cells);
        }
        Ok(Table { columns, rows: out })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_in_both_forms() {
        let a = Address::parse("sc://127.0.0.1:15002").unwrap();
        assert_eq!((a.host.as_str(), a.port), ("127.0.0.1", 15002));
        assert_eq!(a.display(), "sc://127.0.0.1:15002");
        assert_eq!(a.client_url(None), "sc://127.0.0.1:15002/");
        let b = Address::parse(
            "sc://dbc-1.cloud.databricks.com:443;use_ssl=true;x-databricks-cluster-id=0123-abc",
        )
        .unwrap();
        let c = Address::parse(
            "sc://dbc-1.cloud.databricks.com:443/;use_ssl=true;x-databricks-cluster-id=0123-abc",
        )
        .unwrap();
        assert_eq!(b, c);
        assert_eq!(
            b.display(),
            "sc://dbc-1.cloud.databricks.com:443;use_ssl=true"
        );
        assert_eq!(
            b.client_url(Some("dapi+x/y=")),
            "sc://dbc-1.cloud.databricks.com:443/;use_ssl=true;x-databricks-cluster-id=0123-abc;token=dapi%2Bx%2Fy%3D"
        );
        assert_eq!(Address::parse("sc://localhost").unwrap().port, 15002);
        let v6 = Address::parse("sc://[::1]:15003").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("[::1]", 15003));
    }

    #[test]
    fn a_token_in_the_address_is_refused_without_echoing_it() {
        for url in [
            "sc://h:443/;use_ssl=true;token=SECRET123",
            "sc://h:443;TOKEN=SECRET123",
        ] {
            let e = Address::parse(url).unwrap_err();
            let msg = e.to_string();
            assert!(msg.contains("SPARK_CONNECT_TOKEN"), "{msg}");
            assert!(msg.contains("DATABRICKS_TOKEN"), "{msg}");
            assert!(!msg.contains("SECRET123"), "{msg}");
            assert!(
                matches!(e, WarehouseError::InvalidRequest { ref field, .. } if field == "engine")
            );
        }
    }

    #[test]
    fn bad_addresses_are_request_errors() {
        for url in [
            "postgres://x@h:1/db",
            "sc://:15002",
            "sc://h:notaport",
            "sc://h:15002/;use_ssl",
        ] {
            let e = Address::parse(url).unwrap_err();
            assert!(
                matches!(e, WarehouseError::InvalidRequest { ref field, .. } if field == "engine"),
                "{url}: {e}"
            );
        }
    }

    #[test]
    fn nothing_listening_is_unreachable_at_once() {
        // Bind a port, then free it: nothing listens there.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let t = std::time::Instant::now();
        let e = SparkEngine::connect(&format!("sc://127.0.0.1:{port}")).unwrap_err();
        assert!(
            matches!(&e, WarehouseError::Unreachable { engine, .. } if *engine == format!("sc://127.0.0.1:{port}")),
            "{e}"
        );
        assert!(e.is_engine_failure());
        assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    }

    #[test]
    fn error_classes_and_names() {
        assert_eq!(
            bracketed_class("[TABLE_OR_VIEW_NOT_FOUND] The table").as_deref(),
            Some("TABLE_OR_VIEW_NOT_FOUND")
        );
        assert_eq!(bracketed_class("no class"), None);
        assert_eq!(unquote_ident("`a``b`"), "a`b");
        assert_eq!(backticked("column `x` is"), Some("x".into()));
        assert_eq!(percent_encode("a b;c=%"), "a%20b%3Bc%3D%25");
    }
}
