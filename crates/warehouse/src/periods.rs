//! The row sums of an experiment per arm and period, aggregated where the rows live: what the
//! cumulative-over-time view needs (`causalkit_ab::cumulative::cumulative_effect_cells`, and
//! release attribution's running KPI effects with their cross-KPI correlation).
//!
//! For a [`MomentsRequest`] (its arm labels, KPIs and `drop_missing`; a unit or covariates
//! are refused — the cumulative view compares rows) and a period column, [`periods_sql`]
//! writes one `GROUP BY arm, period` over the rows of the two arms: per KPI the rows it uses
//! (every input present), `Σ n`, `Σ d`, `Σ n²`, `Σ n d`, `Σ d²` of their numerators and
//! denominators, and per pair of KPIs `Σ n_a n_b`, `Σ n_a d_b`, `Σ d_a n_b`, `Σ d_a d_b` over
//! the rows both use. [`run_periods`] runs the checks of [`crate::moments::run_moments`]
//! (labels, missing values, out-of-range inputs) and the statement, and returns the cells in
//! period order. Prefix sums of the cells are the sums over every row up to a period.

use crate::dialect::Dialect;
use crate::engine::{check_columns, number, optional_number, Engine};
use crate::error::{Result, WarehouseError};
use crate::moments::{arm_text, in_two_arms, run_checks, MomentsRequest};
use crate::sql::{all_present, quote_table, row_expr, schema_sql};
use causalkit_stats::Moments;
use std::collections::BTreeMap;

/// One arm's rows of one period (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodArm {
    /// Per KPI: count, sums and cross-products of the rows' numerator and denominator
    /// (variables `numerator`, `denominator`).
    pub kpis: Vec<Moments>,
    /// Per ordered pair `(a, b)` of KPIs (`a · K + b`): `[Σ n_a n_b, Σ n_a d_b, Σ d_a n_b,
    /// Σ d_a d_b]` over the rows both use (for `a = b` from the KPI's own statistics).
    pub pairs: Vec<[f64; 4]>,
}

/// The cells of [`run_periods`]: per period, in increasing order, control's and treatment's.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodSums {
    /// `(period, [control, treatment])`.
    pub cells: Vec<(i64, [PeriodArm; 2])>,
}

fn check_request(req: &MomentsRequest) -> Result<()> {
    req.validate()?;
    if req.unit.is_some() || !req.covariates.is_empty() {
        return Err(WarehouseError::InvalidRequest {
            field: "unit".into(),
            reason: "the per-period sums compare rows: give no unit and no covariates".into(),
        });
    }
    Ok(())
}

/// The statement (see the module docs): one row per arm (`arm_i`: 0 control, 1 treatment) and
/// period (`t`, the period column as a double; NULL for rows without one), with `rows_n`, per
/// KPI `k{j}_m` (rows used), `k{j}_sn`, `k{j}_sd`, `k{j}_nn`, `k{j}_nd`, `k{j}_dd`, and per
/// pair `a < b` `p{a}_{b}_nn`, `_nd`, `_dn`, `_dd`.
pub fn periods_sql(req: &MomentsRequest, time: &str, dialect: Dialect) -> Result<String> {
    check_request(req)?;
    let d = dialect;
    let stats = req.as_stats();
    let mut rows = vec![
        format!(
            "CASE WHEN {} = {} THEN 0 ELSE 1 END AS arm_i",
            arm_text(req, d),
            d.string(&req.arms[0])
        ),
        format!("{} AS t", d.to_double(&d.ident(time))),
    ];
    let mut sums = vec![
        "arm_i".to_string(),
        "t".to_string(),
        format!("{} AS rows_n", d.to_double("COUNT(*)")),
    ];
    let kn = req.metrics.len();
    for (j, m) in req.metrics.iter().enumerate() {
        let keep = all_present(&req.needed_columns(m), d);
        rows.push(format!(
            "CASE WHEN {keep} THEN {} END AS k{j}_m",
            d.double(1.0)
        ));
        rows.push(format!(
            "CASE WHEN {keep} THEN {} END AS k{j}_n",
            row_expr(&stats, m, 0, d)
        ));
        rows.push(format!(
            "CASE WHEN {keep} THEN {} END AS k{j}_d",
            row_expr(&stats, m, 1, d)
        ));
        sums.push(format!("SUM(k{j}_m) AS k{j}_m"));
        for (name, e) in [
            ("sn", format!("k{j}_n")),
            ("sd", format!("k{j}_d")),
            ("nn", format!("k{j}_n * k{j}_n")),
            ("nd", format!("k{j}_n * k{j}_d")),
            ("dd", format!("k{j}_d * k{j}_d")),
        ] {
            sums.push(format!("SUM({e}) AS k{j}_{name}"));
        }
    }
    for a in 0..kn {
        for b in a + 1..kn {
            for (name, x, y) in [
                ("nn", 'n', 'n'),
                ("nd", 'n', 'd'),
                ("dn", 'd', 'n'),
                ("dd", 'd', 'd'),
            ] {
                sums.push(format!("SUM(k{a}_{x} * k{b}_{y}) AS p{a}_{b}_{name}"));
            }
        }
    }
    Ok(format!(
        "SELECT\n  {}\nFROM (\n  SELECT\n    {}\n  FROM {}\n  WHERE {}\n) AS period_rows\nGROUP BY arm_i, t\n",
        sums.join(",\n  "),
        rows.join(",\n    "),
        quote_table(&req.table, d),
        in_two_arms(req, d)
    ))
}

/// Runs the checks and the statement and returns the cells (see the module docs). A row of
/// the two arms without a period, or with a period that is not a whole number, is an error
/// naming the period column.
pub fn run_periods(
    engine: &mut dyn Engine,
    req: &MomentsRequest,
    time: &str,
) -> Result<PeriodSums> {
    check_request(req)?;
    let schema = schema_sql(&req.as_stats(), engine.dialect());
    let mut all = req.all_columns();
    all.insert(time);
    let mut numeric = req.numeric_columns();
    numeric.insert(time);
    check_columns(engine, &req.table, &schema, &all, &numeric)?;
    run_checks(engine, req)?;
    let t = engine.query(&req.table, &periods_sql(req, time, engine.dialect())?)?;
    let bad = |column: &str, reason: String| WarehouseError::InvalidData {
        engine: engine.address(),
        table: req.table.to_string(),
        column: column.to_string(),
        reason,
    };
    let num = |row: usize, name: &str| optional_number(engine, &req.table, &t, row, name);
    let sum = |row: usize, name: &str| number(engine, &req.table, &t, row, name);
    let kn = req.metrics.len();
    let names = vec!["numerator".to_string(), "denominator".to_string()];
    let empty = || PeriodArm {
        kpis: vec![Moments::new(names.clone()); kn],
        pairs: vec![[0.0; 4]; kn * kn],
    };
    let mut cells: BTreeMap<i64, [PeriodArm; 2]> = BTreeMap::new();
    for row in 0..t.rows.len() {
        let Some(p) = num(row, "t")? else {
            return Err(bad(
                time,
                format!(
                    "{} row(s) of the two arms have no period",
                    sum(row, "rows_n")?
                ),
            ));
        };
        if !(p.is_finite() && p.fract() == 0.0 && p.abs() < 9.0e15) {
            return Err(bad(time, format!("{p} is not a whole-number period")));
        }
        let arm = usize::from(sum(row, "arm_i")? != 0.0);
        let cell = cells.entry(p as i64).or_insert_with(|| [empty(), empty()]);
        let a = &mut cell[arm];
        for j in 0..kn {
            let v = |x: &str| sum(row, &format!("k{j}_{x}"));
            let (nn, nd, dd) = (v("nn")?, v("nd")?, v("dd")?);
            a.kpis[j] = Moments::from_parts(
                names.clone(),
                v("m")? as u64,
                vec![v("sn")?, v("sd")?],
                |p, q| match (p, q) {
                    (0, 0) => nn,
                    (1, 1) => dd,
                    _ => nd,
                },
            )
            .map_err(|e| WarehouseError::BadResult {
                engine: engine.address(),
                table: req.table.to_string(),
                column: format!("k{j}"),
                reason: e.to_string(),
            })?;
            a.pairs[j * kn + j] = [nn, nd, nd, dd];
            for b in j + 1..kn {
                let w = |x: &str| sum(row, &format!("p{j}_{b}_{x}"));
                let (pnn, pnd, pdn, pdd) = (w("nn")?, w("nd")?, w("dn")?, w("dd")?);
                a.pairs[j * kn + b] = [pnn, pnd, pdn, pdd];
                a.pairs[b * kn + j] = [pnn, pdn, pnd, pdd];
            }
        }
    }
    Ok(PeriodSums {
        cells: cells.into_iter().collect(),
    })
}
