//! SQL dialects: how each engine quotes identifiers and string literals and names its types.
//!
//! Every name that comes from the user (table, columns, metric names) reaches the SQL only
//! through [`Dialect::ident`] or [`Dialect::string`], so a name holding quotes, semicolons or
//! comment markers stays one identifier or one literal (see the injection tests).

use crate::error::WarehouseError;
use std::fmt;
use std::str::FromStr;

/// A SQL dialect the generator writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dialect {
    /// Spark SQL (also Databricks): `` `name` `` with doubled backticks; backslash escapes
    /// in string literals.
    Spark,
    /// PostgreSQL (also Redshift): `"name"` with doubled quotes; standard string literals.
    Postgres,
    /// Google BigQuery (GoogleSQL): `` `name` `` with backslash escapes.
    BigQuery,
    /// Snowflake: `"name"` (case-sensitive) with doubled quotes; backslash escapes in
    /// string literals.
    Snowflake,
    /// Trino (also Athena): `"name"` with doubled quotes; standard string literals.
    Trino,
    /// DuckDB: `"name"` with doubled quotes; standard string literals.
    DuckDb,
    /// ClickHouse: `` `name` `` with backslash escapes.
    ClickHouse,
}

impl Dialect {
    /// Every dialect, in the order of the CLI's `--dialect` help.
    pub const ALL: [Dialect; 7] = [
        Dialect::Spark,
        Dialect::Postgres,
        Dialect::BigQuery,
        Dialect::Snowflake,
        Dialect::Trino,
        Dialect::DuckDb,
        Dialect::ClickHouse,
    ];

    /// The dialect's name as the CLI's `--dialect` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Spark => "spark",
            Dialect::Postgres => "postgres",
            Dialect::BigQuery => "bigquery",
            Dialect::Snowflake => "snowflake",
            Dialect::Trino => "trino",
            Dialect::DuckDb => "duckdb",
            Dialect::ClickHouse => "clickhouse",
        }
    }

    /// A quoted identifier: always quoted (so reserved words such as `count` and names
    /// with any character are safe), the quote character escaped as the dialect requires.
    pub fn ident(self, name: &str) -> String {
        match self {
            Dialect::Postgres | Dialect::Snowflake | Dialect::Trino | Dialect::DuckDb => {
                format!("\"{}\"", name.replace('"', "\"\""))
            }
            Dialect::Spark => format!("`{}`", name.replace('`', "``")),
            Dialect::BigQuery | Dialect::ClickHouse => {
                let mut s = String::with_capacity(name.len() + 2);
                s.push('`');
                for c in name.chars() {
                    match c {
                        '\\' => s.push_str("\\\\"),
                        '`' => s.push_str("\\`"),
                        '\n' => s.push_str("\\n"),
                        '\r' => s.push_str("\\r"),
                        c => s.push(c),
                    }
                }
                s.push('`');
                s
            }
        }
    }

    /// Whether a backslash escapes the next character inside this dialect's string literals.
    pub fn backslash_escapes(self) -> bool {
        matches!(
            self,
            Dialect::Spark | Dialect::BigQuery | Dialect::Snowflake | Dialect::ClickHouse
        )
    }

    /// A single-quoted string literal.
    pub fn string(self, value: &str) -> String {
        let mut s = String::with_capacity(value.len() + 2);
        s.push('\'');
        for c in value.chars() {
            match c {
                '\'' if self.backslash_escapes() => s.push_str("\\'"),
                '\'' => s.push_str("''"),
                '\\' if self.backslash_escapes() => s.push_str("\\\\"),
                '\n' if self.backslash_escapes() => s.push_str("\\n"),
                '\r' if self.backslash_escapes() => s.push_str("\\r"),
                c => s.push(c),
            }
        }
        s.push('\'');
        s
    }

    /// The 64-bit floating-point type.
    pub fn double_type(self) -> &'static str {
        match self {
            Dialect::Postgres => "DOUBLE PRECISION",
            Dialect::BigQuery => "FLOAT64",
            Dialect::ClickHouse => "Float64",
            Dialect::Spark | Dialect::Snowflake | Dialect::Trino | Dialect::DuckDb => "DOUBLE",
        }
    }

    /// The text type group labels are cast to.
    pub fn text_type(self) -> &'static str {
        match self {
            Dialect::Postgres => "TEXT",
            Dialect::BigQuery | Dialect::Spark => "STRING",
            Dialect::ClickHouse => "String",
            Dialect::Snowflake | Dialect::Trino | Dialect::DuckDb => "VARCHAR",
        }
    }

    /// `expr` as a double.
    pub fn to_double(self, expr: &str) -> String {
        format!("CAST({expr} AS {})", self.double_type())
    }

    /// A double literal that reads back as exactly `x` (Rust's shortest round-trip form).
    pub fn double(self, x: f64) -> String {
        self.to_double(&format!("{x:?}"))
    }

    /// A NULL of the double type (ClickHouse needs a Nullable type).
    pub fn null_double(self) -> String {
        match self {
            Dialect::ClickHouse => "CAST(NULL AS Nullable(Float64))".into(),
            d => format!("CAST(NULL AS {})", d.double_type()),
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Dialect {
    type Err = WarehouseError;

    /// Parses a `--dialect` value (`databricks`, `redshift` and `athena` are accepted as the
    /// dialects they speak).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "spark" | "databricks" => Dialect::Spark,
            "postgres" | "postgresql" | "redshift" => Dialect::Postgres,
            "bigquery" => Dialect::BigQuery,
            "snowflake" => Dialect::Snowflake,
            "trino" | "athena" => Dialect::Trino,
            "duckdb" => Dialect::DuckDb,
            "clickhouse" => Dialect::ClickHouse,
            _ => {
                return Err(WarehouseError::InvalidRequest {
                    field: "dialect".into(),
                    reason: format!(
                        "unknown dialect `{s}`; use spark, postgres, bigquery, snowflake, trino, duckdb or clickhouse"
                    ),
                })
            }
        })
    }
}
