//! A PostgreSQL (and Redshift-compatible) engine over the synchronous `postgres` client
//! (feature `postgres`). The address is `postgres://USER@HOST:PORT/DB`; a password comes
//! only from the environment (`PGPASSWORD`) or a password file (`PGPASSFILE`, `~/.pgpass`;
//! see [`crate::connect`]), never from the address.

use crate::dialect::Dialect;
use crate::engine::{Cell, ColumnType, Engine, Table};
use crate::error::{Result, WarehouseError};
use crate::request::TableName;
use postgres::error::SqlState;
use postgres::types::Type;
use postgres::{Client, Config, NoTls};
use std::str::FromStr;
use std::time::Duration;

/// A connected PostgreSQL engine.
pub struct PostgresEngine {
    client: Client,
    address: String,
    timeout: Duration,
}

impl std::fmt::Debug for PostgresEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresEngine")
            .field("address", &self.address)
            .finish()
    }
}

impl PostgresEngine {
    /// Connects to `postgres://USER@HOST:PORT/DB` (password from `PGPASSWORD` or a password
    /// file, see [`crate::connect`]); every
    /// statement is cancelled after `timeout` (PostgreSQL's `statement_timeout`).
    pub fn connect(url: &str, timeout: Duration) -> Result<PostgresEngine> {
        let bad = |reason: String| WarehouseError::InvalidRequest {
            field: "engine".into(),
            reason,
        };
        let mut config = Config::from_str(url)
            .map_err(|e| bad(format!("`{url}` is not a postgres:// address: {e}")))?;
        if config.get_password().is_some() {
            return Err(bad(
                "the address holds a password; give it in the environment (PGPASSWORD) instead"
                    .into(),
            ));
        }
        config.connect_timeout(timeout.min(Duration::from_secs(30)));
        let hosts: Vec<String> = config
            .get_hosts()
            .iter()
            .map(|h| match h {
                postgres::config::Host::Tcp(s) => s.clone(),
                #[cfg(unix)]
                postgres::config::Host::Unix(p) => p.display().to_string(),
            })
            .collect();
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let address = format!(
            "postgres://{}@{}:{port}/{}",
            config.get_user().unwrap_or(""),
            hosts.join(","),
            config.get_dbname().unwrap_or("")
        );
        // The password: PGPASSWORD, else a password file (crate::connect).
        if let Ok(p) = std::env::var("PGPASSWORD") {
            config.password(p);
        } else if let Some(p) = crate::connect::pgpass_password(
            hosts.first().map_or("localhost", String::as_str),
            port,
            config.get_dbname().unwrap_or(""),
            config.get_user().unwrap_or(""),
        ) {
            config.password(p);
        }
        let mut client = config
            .connect(NoTls)
            .map_err(|e| WarehouseError::Unreachable {
                engine: address.clone(),
                reason: e.to_string(),
            })?;
        client
            .batch_execute(&format!(
                "SET statement_timeout = {}",
                timeout.as_millis().max(1)
            ))
            .map_err(|e| WarehouseError::Unreachable {
                engine: address.clone(),
                reason: e.to_string(),
            })?;
        Ok(PostgresEngine {
            client,
            address,
            timeout,
        })
    }

    /// Runs statements that return nothing (e.g. `CREATE TABLE`, loading test data).
    pub fn execute(&mut self, sql: &str) -> Result<()> {
        let address = self.address.clone();
        self.client
            .batch_execute(sql)
            .map_err(|e| WarehouseError::Engine {
                engine: address,
                table: "-".into(),
                reason: e.to_string(),
            })
    }

    /// Replaces table `name` (one part, quoted) by a new one with the column definitions
    /// `columns` (SQL, e.g. `arm TEXT, aht DOUBLE PRECISION`) holding the rows of `csv` (CSV
    /// text with a header line, loaded with `COPY`); returns the rows loaded. For test data
    /// and examples.
    pub fn load_csv(&mut self, name: &str, columns: &str, csv: &str) -> Result<u64> {
        let q = crate::Dialect::Postgres.ident(name);
        self.execute(&format!(
            "DROP TABLE IF EXISTS {q}; CREATE TABLE {q} ({columns})"
        ))?;
        self.copy_in(
            &format!("COPY {q} FROM STDIN WITH (FORMAT csv, HEADER true)"),
            csv.as_bytes(),
        )
    }

    /// `COPY ... FROM STDIN` with `data` (e.g. CSV text).
    pub fn copy_in(&mut self, copy_sql: &str, data: &[u8]) -> Result<u64> {
        use std::io::Write;
        let err = |e: postgres::Error| WarehouseError::Engine {
            engine: self.address.clone(),
            table: "-".into(),
            reason: e.to_string(),
        };
        let mut w = self.client.copy_in(copy_sql).map_err(err)?;
        w.write_all(data).map_err(|e| WarehouseError::Engine {
            engine: self.address.clone(),
            table: "-".into(),
            reason: e.to_string(),
        })?;
        w.finish().map_err(|e| WarehouseError::Engine {
            engine: self.address.clone(),
            table: "-".into(),
            reason: e.to_string(),
        })
    }

    fn error(&self, table: &TableName, e: postgres::Error) -> WarehouseError {
        let engine = self.address.clone();
        let table_s = table.to_string();
        let Some(db) = e.as_db_error() else {
            return if e.is_closed() {
                WarehouseError::Unreachable {
                    engine,
                    reason: e.to_string(),
                }
            } else {
                WarehouseError::Engine {
                    engine,
                    table: table_s,
                    reason: e.to_string(),
                }
            };
        };
        let code = db.code();
        if *code == SqlState::UNDEFINED_TABLE {
            WarehouseError::MissingTable {
                engine,
                table: table_s,
            }
        } else if *code == SqlState::UNDEFINED_COLUMN {
            WarehouseError::MissingColumn {
                engine,
                table: table_s,
                column: quoted_name(db.message()).unwrap_or_else(|| db.message().to_string()),
                available: "-".into(),
            }
        } else if *code == SqlState::QUERY_CANCELED {
            WarehouseError::Timeout {
                engine,
                table: table_s,
                seconds: self.timeout.as_secs_f64(),
            }
        } else if [
            SqlState::DATATYPE_MISMATCH,
            SqlState::UNDEFINED_FUNCTION,
            SqlState::CANNOT_COERCE,
            SqlState::INVALID_TEXT_REPRESENTATION,
        ]
        .contains(code)
        {
            WarehouseError::TypeMismatch {
                engine,
                table: table_s,
                column: quoted_name(db.message()).unwrap_or_else(|| "-".into()),
                found: db.message().to_string(),
                expected: "numeric values".into(),
            }
        } else {
            WarehouseError::Engine {
                engine,
                table: table_s,
                reason: db.message().to_string(),
            }
        }
    }
}

/// The first `"quoted"` name in a PostgreSQL message.
fn quoted_name(msg: &str) -> Option<String> {
    let a = msg.find('"')?;
    let b = msg[a + 1..].find('"')?;
    Some(msg[a + 1..a + 1 + b].to_string())
}

fn column_type(t: &Type) -> ColumnType {
    match *t {
        Type::INT2 | Type::INT4 | Type::INT8 | Type::FLOAT4 | Type::FLOAT8 | Type::NUMERIC => {
            ColumnType::Numeric
        }
        Type::BOOL => ColumnType::Boolean,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => ColumnType::Text,
        ref other => ColumnType::Other(other.name().to_string()),
    }
}

impl Engine for PostgresEngine {
    fn address(&self) -> String {
        self.address.clone()
    }

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn columns(&mut self, table: &TableName, sql: &str) -> Result<Vec<(String, ColumnType)>> {
        let st = self.client.prepare(sql).map_err(|e| self.error(table, e))?;
        Ok(st
            .columns()
            .iter()
            .map(|c| (c.name().to_string(), column_type(c.type_())))
            .collect())
    }

    fn query(&mut self, table: &TableName, sql: &str) -> Result<Table> {
        let st = self.client.prepare(sql).map_err(|e| self.error(table, e))?;
        let rows = self
            .client
            .query(&st, &[])
            .map_err(|e| self.error(table, e))?;
        let columns: Vec<String> = st.columns().iter().map(|c| c.name().to_string()).collect();
        let types: Vec<Type> = st.columns().iter().map(|c| c.type_().clone()).collect();
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut cells = Vec::with_capacity(columns.len());
            for (i, t) in types.iter().enumerate() {
                let bad = |e: postgres::Error| WarehouseError::BadResult {
                    engine: self.address.clone(),
                    table: table.to_string(),
                    column: columns[i].clone(),
                    reason: e.to_string(),
                };
                let num = |x: Option<f64>| x.map_or(Cell::Null, Cell::Number);
                let cell = match *t {
                    Type::FLOAT8 => num(row.try_get::<_, Option<f64>>(i).map_err(bad)?),
                    Type::FLOAT4 => num(row
                        .try_get::<_, Option<f32>>(i)
                        .map_err(bad)?
                        .map(f64::from)),
                    Type::INT8 => num(row
                        .try_get::<_, Option<i64>>(i)
                        .map_err(bad)?
                        .map(|x| x as f64)),
                    Type::INT4 => num(row
                        .try_get::<_, Option<i32>>(i)
                        .map_err(bad)?
                        .map(f64::from)),
                    Type::INT2 => num(row
                        .try_get::<_, Option<i16>>(i)
                        .map_err(bad)?
                        .map(f64::from)),
                    Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => row
                        .try_get::<_, Option<String>>(i)
                        .map_err(bad)?
                        .map_or(Cell::Null, Cell::Text),
                    ref other => {
                        return Err(WarehouseError::BadResult {
                            engine: self.address.clone(),
                            table: table.to_string(),
                            column: columns[i].clone(),
                            reason: format!("type {} is not numeric or text", other.name()),
                        })
                    }
                };
                cells.push(cell);
            }
            out.push(cells);
        }
        Ok(Table { columns, rows: out })
    }
}
