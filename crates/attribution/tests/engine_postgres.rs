//! Release attribution with `[data] engine = "postgres://..."`, `table = "..."` equals the
//! file-based attribution of the same rows (issue 15).
//!
//! Run by `.ci/engines.sh`, which starts a throwaway PostgreSQL 15 cluster on
//! 127.0.0.1:55432 and sets `CAUSALKIT_PG_URL`; compiled only with `--features postgres`.
//! The bundled CSV files are COPY'd into tables; each scenario of `engine_common`
//! (randomised with CUPED and dropped missing answers; randomised accounts of several rows
//! with CUPED on two covariates and a placebo KPI; a ratio KPI with CUPED; staggered rollout; single site) runs once on the file and once
//! on the table, and the whole JSON output must agree: every number to 1e-9 of its scale (the
//! engine sums the same values in another order). The reference numbers of the file-based run
//! are validated against independent implementations in this crate's other tests.
#![cfg(feature = "postgres")]

mod engine_common;

use causalkit_attribution::{attribute, AttributeOptions, AttributionError};
use causalkit_warehouse::postgres::PostgresEngine;
use engine_common::{check_all, csv_columns, root, scenarios, write_spec};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn url() -> String {
    std::env::var("CAUSALKIT_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:55432/postgres".into())
}

fn tmp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("causalkit_attr_pg_{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Creates table `name` with the CSV's columns (DOUBLE PRECISION where every value is a
/// number, TEXT otherwise) and COPYs the file into it.
fn load(pg: &mut PostgresEngine, name: &str, path: &Path) {
    let cols: Vec<String> = csv_columns(path)
        .into_iter()
        .map(|(c, num)| format!("{c} {}", if num { "DOUBLE PRECISION" } else { "TEXT" }))
        .collect();
    let text = std::fs::read_to_string(path).unwrap();
    let n = pg.load_csv(name, &cols.join(", "), &text).unwrap();
    assert_eq!(n as usize, text.lines().count() - 1);
}

fn connect() -> PostgresEngine {
    PostgresEngine::connect(&url(), Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("{e} (start the server with .ci/engines.sh)"))
}

#[test]
fn postgres_attribution_equals_the_file_attribution() {
    let mut pg = connect();
    check_all(&url(), &tmp_dir(), |s, rows| {
        let table = format!("release_{}", s.name);
        load(&mut pg, &table, rows);
        table
    });
}

#[test]
fn postgres_attribution_errors_name_the_engine_table_and_key() {
    let mut pg = connect();
    let dir = tmp_dir().join("errors");
    load(
        &mut pg,
        "intent_err",
        &root().join("datasets/intent-release/randomised.csv"),
    );
    let s = &scenarios()[0];
    let opts = AttributeOptions::default();
    // A table that does not exist: the engine and the table are named (bad input).
    let spec = write_spec(
        s,
        &format!("engine = \"{}\"\ntable = \"no_such_table\"", url()),
        &dir,
    );
    let e = attribute(&spec, &opts).unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(e, AttributionError::Engine(ref w) if !w.is_engine_failure()),
        "{msg}"
    );
    assert!(
        msg.contains("no_such_table") && msg.contains("127.0.0.1"),
        "{msg}"
    );
    // A KPI column the table does not have: named.
    let mut bad = scenarios().remove(0);
    bad.name = "bad_column";
    bad.edits = vec![("mean(csat)", "mean(csat_score)")];
    let spec = write_spec(
        &bad,
        &format!("engine = \"{}\"\ntable = \"intent_err\"", url()),
        &dir,
    );
    let msg = attribute(&spec, &opts).unwrap_err().to_string();
    assert!(
        msg.contains("csat_score") && msg.contains("intent_err"),
        "{msg}"
    );
    // A treatment label that is not in the table: the engine, table, column and label.
    bad.name = "bad_label";
    bad.edits = vec![("treatment = \"treatment\"", "treatment = \"treatmnt\"")];
    let spec = write_spec(
        &bad,
        &format!("engine = \"{}\"\ntable = \"intent_err\"", url()),
        &dir,
    );
    let msg = attribute(&spec, &opts).unwrap_err().to_string();
    assert!(
        msg.contains("`arm`") && msg.contains("treatmnt") && msg.contains("intent_err"),
        "{msg}"
    );
    // An engine nobody listens on: an engine failure (exit 1 in the CLI), naming it.
    let spec = write_spec(
        s,
        "engine = \"postgres://postgres@127.0.0.1:9/postgres\"\ntable = \"intent_err\"",
        &dir,
    );
    let e = attribute(&spec, &opts).unwrap_err();
    assert!(
        matches!(e, AttributionError::Engine(ref w) if w.is_engine_failure()),
        "{e}"
    );
    assert!(e.to_string().contains("127.0.0.1:9"), "{e}");
}
