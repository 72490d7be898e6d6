//! The benchmark's request through the Spark engine: two metrics of an A/B file,
//! `ratio(metric, denominator)` and `mean(metric)`, per arm, over a Parquet file or
//! directory, on the Spark Connect server at `sc://...` (whole process: connect, schema check,
//! pilot for the shift constants, the aggregation). Prints the statistics as CSV and the wall
//! time to stderr.
//!
//! `cargo run -p causalkit-warehouse --features spark --example spark_ab -- sc://127.0.0.1:15002 /abs/path.parquet`

#![allow(clippy::result_large_err)] // WarehouseError names engine, table and column

use causalkit_warehouse::spark::SparkEngine;
use causalkit_warehouse::{run_stats, Denominator, Metric, MetricKind, StatsRequest, TableName};
use std::time::Instant;

fn main() {
    let t0 = Instant::now();
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(path)) = (args.next(), args.next()) else {
        eprintln!("usage: spark_ab sc://HOST:PORT /abs/path.parquet");
        std::process::exit(2);
    };
    let run = || -> causalkit_warehouse::Result<String> {
        let mut spark = SparkEngine::connect(&url)?;
        let req = StatsRequest::new(
            TableName(vec!["parquet".into(), path.clone()]),
            "arm",
            vec![
                Metric {
                    name: "ratio".into(),
                    kind: MetricKind::Ratio {
                        numerator: "metric".into(),
                        denominator: Denominator::Column("denominator".into()),
                    },
                },
                Metric {
                    name: "mean".into(),
                    kind: MetricKind::Mean {
                        column: "metric".into(),
                    },
                },
            ],
        );
        Ok(run_stats(&mut spark, &req)?.to_csv())
    };
    match run() {
        Ok(csv) => {
            print!("{csv}");
            eprintln!("wall {:.2} s", t0.elapsed().as_secs_f64());
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(if e.is_engine_failure() { 1 } else { 2 });
        }
    }
}
