//! Release attribution with `[data] engine = "sc://..."`, `table = "..."` equals the
//! file-based attribution of the same rows (issue 15).
//!
//! Run by `.ci/spark.sh`, which starts a Spark standalone cluster (a master, two workers and
//! the Spark Connect server) on 127.0.0.1 and sets `CAUSALKIT_SPARK_URL`; compiled only with
//! `--features spark`. The bundled intent-release CSV files are written as Parquet files that
//! the cluster reads as ``parquet.`/dir` `` tables; each scenario of `engine_common` runs once
//! on the file and once through Spark, and the whole JSON output must agree: every number to
//! 1e-9 of its scale. The reference numbers of the file-based run are validated against
//! independent implementations in this crate's other tests.
#![cfg(feature = "spark")]

mod engine_common;

use causalkit_attribution::{attribute, AttributeOptions, AttributionError};
use causalkit_data::Dataset;
use engine_common::{check_all, scenarios, write_spec};
use std::path::{Path, PathBuf};

fn url() -> String {
    std::env::var("CAUSALKIT_SPARK_URL").unwrap_or_else(|_| "sc://127.0.0.1:15002".into())
}

/// A fresh directory (its path has no dot, so it can be a ``parquet.`/path` `` part).
fn tmp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("causalkit_attr_spark_{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes the CSV file as Parquet files (three parts, so the cluster reads it in several
/// tasks) under `dir/NAME`; returns the table name for the spec.
fn parquet_table(dir: &Path, csv: &Path, name: &str) -> String {
    let data = Dataset::read(csv).unwrap();
    let out = dir.join(name);
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let n = data.height();
    let per = n.div_ceil(3);
    for part in 0..3 {
        let keep: Vec<bool> = (0..n).map(|i| i / per == part).collect();
        data.filter_rows(&keep)
            .unwrap()
            .write_parquet(&out.join(format!("part-{part}.parquet")))
            .unwrap();
    }
    format!("parquet.`{}`", out.display())
}

#[test]
fn spark_attribution_equals_the_file_attribution() {
    let dir = tmp_dir();
    check_all(&url(), &dir, |s, rows| parquet_table(&dir, rows, s.name));
}

#[test]
fn spark_attribution_errors_name_the_engine_and_table() {
    let dir = tmp_dir().join("errors");
    let s = &scenarios()[0];
    let opts = AttributeOptions::default();
    let missing = format!("parquet.`{}`", dir.join("nowhere").display());
    let spec = write_spec(
        s,
        &format!("engine = \"{}\"\ntable = \"{missing}\"", url()),
        &dir,
    );
    let e = attribute(&spec, &opts).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, AttributionError::Engine(_)), "{msg}");
    assert!(msg.contains("nowhere") && msg.contains("sc://"), "{msg}");
}
