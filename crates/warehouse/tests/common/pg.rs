//! The PostgreSQL server of the engine tests (`.ci/engines.sh` starts it and sets
//! `CAUSALKIT_PG_URL`): its address, a connection, and tables loaded with COPY.

use causalkit_warehouse::postgres::PostgresEngine;
use std::time::Duration;

/// The server's address (`CAUSALKIT_PG_URL`, else the port `.ci/engines.sh` uses by default).
pub fn url() -> String {
    std::env::var("CAUSALKIT_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:55432/postgres".into())
}

/// A connection with a 60 s statement limit.
pub fn connect() -> PostgresEngine {
    PostgresEngine::connect(&url(), Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("{e} (start the server with .ci/engines.sh)"))
}

/// Creates table `name` with the column definitions `columns` (SQL) and COPYs `csv` (with a
/// header line) into it; asserts every data line was loaded.
pub fn load(pg: &mut PostgresEngine, name: &str, columns: &str, csv: &str) {
    let n = pg.load_csv(name, columns, csv).unwrap();
    assert_eq!(
        n as usize,
        csv.lines().count() - 1,
        "rows loaded into {name}"
    );
}
