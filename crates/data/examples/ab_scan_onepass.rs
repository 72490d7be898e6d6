//! One pass over an A/B Parquet file for two metrics and a covariate: the per-arm sufficient
//! statistics of `ratio(metric, denominator)` and of `mean(metric)` with `covariate` (for
//! CUPED), as the A/B command needs them. Used by `benches/ab_scan_duckdb.sh` to time the whole
//! process against duckdb's `GROUP BY` of the same sums.
//!
//! Usage: `ab_scan_onepass FILE.parquet [many|single]` — `many` (default) serves both metrics
//! from one pass (`kpi_moments_scan_many`), `single` makes one scan per metric (the old way).
//! Prints, per metric and arm, the count, the sums and the cross-products.

use causalkit_data::{
    kpi_moments_scan, kpi_moments_scan_many, GroupedMoments, Kpi, KpiRequest, MissingPolicy,
};
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(
        args.next()
            .ok_or("usage: ab_scan_onepass FILE [many|single]")?,
    );
    let mode = args.next().unwrap_or_else(|| "many".into());
    let ratio: Kpi = "ratio=ratio(metric, denominator)".parse()?;
    let mean: Kpi = "metric=mean(metric)".parse()?;
    let requests = [
        KpiRequest {
            kpi: &ratio,
            covariates: &[],
        },
        KpiRequest {
            kpi: &mean,
            covariates: &["covariate"],
        },
    ];
    let out: Vec<GroupedMoments> = match mode.as_str() {
        "single" => requests
            .iter()
            .map(|r| {
                kpi_moments_scan(
                    &path,
                    r.kpi,
                    &["arm"],
                    None,
                    r.covariates,
                    MissingPolicy::Error,
                )
            })
            .collect::<Result<_, _>>()?,
        _ => kpi_moments_scan_many(&path, &requests, &["arm"], None, MissingPolicy::Error)?,
    };
    for gm in &out {
        for (arm, m) in &gm.groups {
            let p = m.names().len();
            let sums: Vec<String> = (0..p).map(|i| format!("{:.17e}", m.sum(i))).collect();
            let mut cross = Vec::new();
            for i in 0..p {
                for j in 0..=i {
                    cross.push(format!("{:.17e}", m.sum_product(i, j)));
                }
            }
            println!(
                "{} {} n={} sums=[{}] cross=[{}]",
                gm.kpi,
                arm.join("/"),
                m.n(),
                sums.join(", "),
                cross.join(", ")
            );
        }
    }
    Ok(())
}
