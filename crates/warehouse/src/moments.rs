//! The moments of several KPIs' analysis units per arm, aggregated where the rows live: what
//! the joint covariance of the KPI effects of a randomised release needs
//! (`causalkit_ab::influence::effect_covariance_from_moments`), in place of the units
//! themselves (`causalkit_ab::influence::unit_moments` is the in-process counterpart).
//!
//! A [`MomentsRequest`] names the arm column and its two labels (control, treatment), the
//! analysis unit (or none: every row is a unit), the KPIs (the data layer's KPI grammar, as
//! in a [`StatsRequest`]) and 0..many numeric covariates. Per KPI `j`, a row counts when its
//! arm is one of the two labels, its unit (if any) is present, and every input of KPI `j`
//! and every covariate is present; a unit's vector for KPI `j` is `z = (m, d, x₁, …, x_C)`:
//! the sums over its counted rows of the KPI's row numerator and denominator (the row
//! expressions of [`crate::sql::stats_sql`]) and the mean of their covariates. A unit found
//! in both arms is two units (one per arm), as in process.
//!
//! [`moments_sql`] writes one statement per dialect: (1) the rows' values, (2) per unit their
//! sums and means (`GROUP BY arm, unit`), (3) per arm each KPI's unit count, sums and mean
//! vector, and (4) the units joined back to their arm's means, giving per pair of KPIs the
//! centred cross-products `Σ (z_j − z̄_j)(z_k − z̄_k)ᵀ` over the units both use — centred in
//! the engine, so that large means cost no precision. [`moments_check_sql`] counts first what
//! would make the moments wrong (labels without rows, missing and out-of-range values);
//! [`run_moments`] runs both and returns [`UnitMoments`].

use crate::dialect::Dialect;
use crate::engine::{check_columns, number, out_of_range, query_one_row, Cell, Engine, Table};
use crate::error::{Result, WarehouseError};
use crate::request::{Metric, StatsRequest, TableName};
use crate::sql::{
    all_present, invalid_condition, one_if, quote_table, row_expr, schema_sql, value_check,
};
use causalkit_stats::suff::{ArmKpiMoments, KpiUnitMoments, PairMoments};
use std::collections::BTreeSet;

/// The unit moments of several KPIs in the two arms of a randomised release (see the module
/// docs).
#[derive(Debug, Clone, PartialEq)]
pub struct MomentsRequest {
    /// The table holding the rows.
    pub table: TableName,
    /// The arm column.
    pub arm: String,
    /// The `[control, treatment]` labels of the arm column (compared as text); rows of other
    /// arms are ignored.
    pub arms: [String; 2],
    /// The analysis unit column: rows are summed per unit (and arm). None: every row is a
    /// unit.
    pub unit: Option<String>,
    /// The KPIs (unique names).
    pub metrics: Vec<Metric>,
    /// Numeric covariate columns (each unit's covariate is the mean over its rows).
    pub covariates: Vec<String>,
    /// Leave out, per KPI, the rows with a missing unit, KPI input or covariate (counted in
    /// [`UnitMoments::dropped_rows`]); otherwise such rows, and rows with a missing arm, are
    /// an error.
    pub drop_missing: bool,
}

impl MomentsRequest {
    /// A request without unit or covariates that does not drop missing values.
    pub fn new(
        table: TableName,
        arm: &str,
        arms: [&str; 2],
        metrics: Vec<Metric>,
    ) -> MomentsRequest {
        MomentsRequest {
            table,
            arm: arm.to_string(),
            arms: arms.map(str::to_string),
            unit: None,
            metrics,
            covariates: Vec::new(),
            drop_missing: false,
        }
    }

    /// The request as a [`StatsRequest`] (table, arm, unit and metrics), whose row
    /// expressions and checks the moments share.
    pub(crate) fn as_stats(&self) -> StatsRequest {
        let mut s = StatsRequest::new(self.table.clone(), &self.arm, self.metrics.clone());
        s.unit = self.unit.clone();
        s
    }

    /// Columns that must be numeric: every KPI input and covariate.
    pub fn numeric_columns(&self) -> BTreeSet<&str> {
        let mut s: BTreeSet<&str> = self.metrics.iter().flat_map(|m| m.columns()).collect();
        s.extend(self.covariates.iter().map(String::as_str));
        s
    }

    /// Every column the request reads.
    pub fn all_columns(&self) -> BTreeSet<&str> {
        let mut s = self.numeric_columns();
        s.insert(&self.arm);
        s.extend(self.unit.as_deref());
        s
    }

    /// The columns a row of KPI `m` needs present (besides its arm): the unit, the KPI's
    /// inputs and every covariate, each once.
    pub(crate) fn needed_columns<'a>(&'a self, m: &'a Metric) -> Vec<&'a str> {
        let mut v: Vec<&str> = self.unit.iter().map(String::as_str).collect();
        for c in m
            .columns()
            .into_iter()
            .chain(self.covariates.iter().map(String::as_str))
        {
            if !v.contains(&c) {
                v.push(c);
            }
        }
        v
    }

    /// Checks the request before any SQL is written: the KPIs (as a [`StatsRequest`]'s),
    /// two different labels, a unit other than the arm, covariates named once and not empty.
    pub fn validate(&self) -> Result<()> {
        self.as_stats().validate()?;
        let bad = |field: &str, reason: String| {
            Err(WarehouseError::InvalidRequest {
                field: field.into(),
                reason,
            })
        };
        if self.arms[0] == self.arms[1] {
            return bad(
                "arms",
                format!(
                    "control and treatment are both `{}`; give two different labels",
                    self.arms[0]
                ),
            );
        }
        if self.unit.as_deref() == Some(self.arm.as_str()) {
            return bad("unit", "the unit column is the arm column".into());
        }
        let mut seen = BTreeSet::new();
        for c in &self.covariates {
            if c.is_empty() {
                return bad("covariates", "a covariate name is empty".into());
            }
            if !seen.insert(c.as_str()) {
                return bad("covariates", format!("covariate `{c}` is given twice"));
            }
        }
        Ok(())
    }
}

/// The covariates' moments of one arm's units, for a covariate-balance check: over the units
/// of the arm all of whose rows have every covariate present (each unit's covariate the mean
/// of its rows).
#[derive(Debug, Clone, PartialEq)]
pub struct CovariateMoments {
    /// Units.
    pub n: f64,
    /// Σ x per covariate (`C` values).
    pub sum: Vec<f64>,
    /// `Σ (x − x̄)(x − x̄)ᵀ`, `C × C` row-major.
    pub centred: Vec<f64>,
}

impl CovariateMoments {
    /// The mean covariate vector `Σx / n`.
    pub fn mean(&self) -> Vec<f64> {
        self.sum.iter().map(|s| s / self.n).collect()
    }
}

/// What [`run_moments`] returns (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct UnitMoments {
    /// The KPIs' unit moments, `[control, treatment]`.
    pub arms: [ArmKpiMoments; 2],
    /// Units per arm (rows with the arm's label, and with a unit present when there is a
    /// unit column), for the sample-ratio check.
    pub units: [f64; 2],
    /// The covariates' moments per arm; None without covariates.
    pub covariates: Option<[CovariateMoments; 2]>,
    /// Per KPI: rows of the two arms left out for a missing unit, input or covariate (0
    /// without `drop_missing`, where such rows are an error).
    pub dropped_rows: Vec<usize>,
}

/// `CAST(arm AS text)`, as the statistics query groups arms.
pub(crate) fn arm_text(req: &MomentsRequest, d: Dialect) -> String {
    format!("CAST({} AS {})", d.ident(&req.arm), d.text_type())
}

/// The condition that a row belongs to one of the two arms.
pub(crate) fn in_two_arms(req: &MomentsRequest, d: Dialect) -> String {
    format!(
        "{} IN ({}, {})",
        arm_text(req, d),
        d.string(&req.arms[0]),
        d.string(&req.arms[1])
    )
}

/// The checks' statement: one row with the rows of each label (`arm0_rows`, `arm1_rows`),
/// the rows with a missing arm (`arm_missing`), and per KPI `j` the rows of the two arms
/// missing a needed value (`k{j}_skipped`) and those whose KPI inputs are all present but one
/// is a value the KPI does not allow (`k{j}_invalid`, for KPIs with a value check; as the
/// data layer checks them, whatever the unit and covariates).
pub fn moments_check_sql(req: &MomentsRequest, dialect: Dialect) -> Result<String> {
    req.validate()?;
    let d = dialect;
    let sum_if = |cond: &str, name: &str| format!("SUM({}) AS {name}", one_if(cond, d));
    let arm = arm_text(req, d);
    let two = in_two_arms(req, d);
    let mut sel = vec![
        sum_if(&format!("{arm} = {}", d.string(&req.arms[0])), "arm0_rows"),
        sum_if(&format!("{arm} = {}", d.string(&req.arms[1])), "arm1_rows"),
        sum_if(&format!("{} IS NULL", d.ident(&req.arm)), "arm_missing"),
    ];
    for (j, m) in req.metrics.iter().enumerate() {
        let keep = all_present(&req.needed_columns(m), d);
        sel.push(sum_if(
            &format!("{two} AND NOT ({keep})"),
            &format!("k{j}_skipped"),
        ));
        if let Some(c) = invalid_condition(m, d) {
            // As the data layer checks a KPI's inputs: on every row that has them all.
            let inputs = all_present(&m.columns(), d);
            sel.push(sum_if(
                &format!("{two} AND {inputs} AND ({c})"),
                &format!("k{j}_invalid"),
            ));
        }
    }
    Ok(format!(
        "SELECT\n  {}\nFROM {}\n",
        sel.join(",\n  "),
        quote_table(&req.table, d)
    ))
}

/// The moments' statement (see the module docs): one row per arm (`arm_i` 0 for control, 1
/// for treatment) with `units`; per KPI `j` `k{j}_n`, the sums `k{j}_s{p}` of the unit
/// vector's entries `p` (0 numerator, 1 denominator, `2 + q` covariate `q`), `k{j}_dd` (Σ d²)
/// and the means `k{j}_c{p}`; per pair `j < k` `p{j}_{k}_n` and per pair `j ≤ k` the centred
/// cross-products `p{j}_{k}_{p}_{q}` (for `j = k` only `p ≤ q`); with covariates `x_n`,
/// `x_s{q}` and the centred `x_{p}_{q}` (`p ≤ q`) of [`CovariateMoments`].
pub fn moments_sql(req: &MomentsRequest, dialect: Dialect) -> Result<String> {
    req.validate()?;
    let d = dialect;
    let stats = req.as_stats();
    let kn = req.metrics.len();
    let c = req.covariates.len();
    let w = 2 + c;
    let cov = |q: usize| d.to_double(&d.ident(&req.covariates[q]));
    let all_covs: Vec<&str> = req.covariates.iter().map(String::as_str).collect();
    let covs_present = all_present(&all_covs, d);
    // Without a unit the rows are the units (columns k{j}_z{p}, x{q}); with one, the rows'
    // columns r{j}_z{p}, rx{q} are summed (KPI values) or averaged (covariates) per unit.
    let unit = req.unit.as_deref();
    let (zp, xp) = if unit.is_some() {
        ("r", "rx")
    } else {
        ("k", "x")
    };
    let mut rows = vec![format!(
        "CASE WHEN {} = {} THEN 0 ELSE 1 END AS arm_i",
        arm_text(req, d),
        d.string(&req.arms[0])
    )];
    if let Some(u) = unit {
        rows.push(format!("{} AS unit_k", d.ident(u)));
    }
    for (j, m) in req.metrics.iter().enumerate() {
        let keep = all_present(&req.needed_columns(m), d);
        for p in 0..w {
            let e = if p < 2 {
                row_expr(&stats, m, p, d)
            } else {
                cov(p - 2)
            };
            rows.push(format!("CASE WHEN {keep} THEN {e} END AS {zp}{j}_z{p}"));
        }
    }
    if c > 0 {
        for q in 0..c {
            let e = match unit {
                None => format!("CASE WHEN {covs_present} THEN {} END", cov(q)),
                Some(_) => cov(q),
            };
            rows.push(format!("{e} AS {xp}{q}"));
        }
        if unit.is_some() {
            rows.push(format!(
                "{} AS rx_missing",
                one_if(&format!("NOT ({covs_present})"), d)
            ));
        }
    }
    let mut where_ = in_two_arms(req, d);
    if let Some(u) = unit {
        where_ += &format!(" AND {} IS NOT NULL", d.ident(u));
    }
    let rows_sql = format!(
        "SELECT\n    {}\n  FROM {}\n  WHERE {where_}",
        rows.join(",\n    "),
        quote_table(&req.table, d)
    );
    let units_sql = match unit {
        None => rows_sql,
        Some(_) => {
            let mut sel = vec!["arm_i".to_string()];
            for j in 0..kn {
                for p in 0..w {
                    let agg = if p < 2 { "SUM" } else { "AVG" };
                    sel.push(format!("{agg}(r{j}_z{p}) AS k{j}_z{p}"));
                }
            }
            for q in 0..c {
                sel.push(format!(
                    "CASE WHEN MAX(rx_missing) = {} THEN AVG(rx{q}) END AS x{q}",
                    d.double(0.0)
                ));
            }
            format!(
                "SELECT\n    {}\n  FROM (\n    {}\n  ) AS moment_rows\n  GROUP BY arm_i, unit_k",
                sel.join(",\n    "),
                rows_sql.replace('\n', "\n  ")
            )
        }
    };
    // Per arm: counts, sums and the means the cross-products are centred at.
    let mut sums = vec![
        "arm_i".to_string(),
        format!("{} AS units", d.to_double("COUNT(*)")),
    ];
    for j in 0..kn {
        sums.push(format!(
            "{} AS k{j}_n",
            d.to_double(&format!("COUNT(k{j}_z0)"))
        ));
        for p in 0..w {
            sums.push(format!("SUM(k{j}_z{p}) AS k{j}_s{p}"));
        }
        sums.push(format!("SUM(k{j}_z1 * k{j}_z1) AS k{j}_dd"));
        for p in 0..w {
            sums.push(format!("AVG(k{j}_z{p}) AS k{j}_c{p}"));
        }
    }
    if c > 0 {
        sums.push(format!("{} AS x_n", d.to_double("COUNT(x0)")));
        for q in 0..c {
            sums.push(format!("SUM(x{q}) AS x_s{q}"));
        }
        for q in 0..c {
            sums.push(format!("AVG(x{q}) AS x_c{q}"));
        }
    }
    // Per arm: the centred cross-products over the units joined to their arm's means.
    let centred = |a: String, b: String| format!("(units.{a} - arm_sums.{b})");
    let mut products = vec!["units.arm_i AS arm_c".to_string()];
    for j in 0..kn {
        for k in j..kn {
            if j < k {
                products.push(format!(
                    "SUM({}) AS p{j}_{k}_n",
                    one_if(
                        &format!("units.k{j}_z0 IS NOT NULL AND units.k{k}_z0 IS NOT NULL"),
                        d
                    )
                ));
            }
            for p in 0..w {
                for q in (if j == k { p } else { 0 })..w {
                    products.push(format!(
                        "SUM({} * {}) AS p{j}_{k}_{p}_{q}",
                        centred(format!("k{j}_z{p}"), format!("k{j}_c{p}")),
                        centred(format!("k{k}_z{q}"), format!("k{k}_c{q}")),
                    ));
                }
            }
        }
    }
    for p in 0..c {
        for q in p..c {
            products.push(format!(
                "SUM({} * {}) AS x_{p}_{q}",
                centred(format!("x{p}"), format!("x_c{p}")),
                centred(format!("x{q}"), format!("x_c{q}")),
            ));
        }
    }
    Ok(format!(
        "WITH units AS (\n  {units_sql}\n),\narm_sums AS (\n  SELECT\n    {}\n  FROM units\n  GROUP BY arm_i\n),\narm_products AS (\n  SELECT\n    {}\n  FROM units\n  JOIN arm_sums ON units.arm_i = arm_sums.arm_i\n  GROUP BY units.arm_i\n)\nSELECT arm_sums.*, arm_products.*\nFROM arm_sums\nJOIN arm_products ON arm_sums.arm_i = arm_products.arm_c\n",
        sums.join(",\n    "),
        products.join(",\n    "),
    ))
}

/// Runs the request: checks the table's columns (each one exists; KPI inputs and covariates
/// are numeric), then one statement of checks ([`moments_check_sql`]): a label without rows
/// is an error naming the arm column and the label; rows with a missing arm, unit, KPI input
/// or covariate an error naming the KPI and its columns (unless `drop_missing`, which counts
/// them per KPI); an out-of-range KPI input an error naming the column. Then the moments
/// ([`moments_sql`]); a KPI with fewer than 2 units in an arm is an error naming the KPI and
/// the arm.
pub fn run_moments(engine: &mut dyn Engine, req: &MomentsRequest) -> Result<UnitMoments> {
    req.validate()?;
    let d = engine.dialect();
    let schema = schema_sql(&req.as_stats(), d);
    check_columns(
        engine,
        &req.table,
        &schema,
        &req.all_columns(),
        &req.numeric_columns(),
    )?;
    let dropped_rows = run_checks(engine, req)?;
    let t = engine.query(&req.table, &moments_sql(req, d)?)?;
    moments_of(engine, req, &t, dropped_rows)
}

/// The checks of [`run_moments`] ([`moments_check_sql`]): errors for a label without rows,
/// missing values (without `drop_missing`) and out-of-range KPI inputs; returns the rows
/// left out per KPI.
pub(crate) fn run_checks(engine: &mut dyn Engine, req: &MomentsRequest) -> Result<Vec<usize>> {
    let checks = moments_check_sql(req, engine.dialect())?;
    let t = query_one_row(engine, &req.table, &checks, "the checks", "arm0_rows")?;
    let num = |col: &str| number(engine, &req.table, &t, 0, col);
    let invalid_data = |reason: String| WarehouseError::InvalidData {
        engine: engine.address(),
        table: req.table.to_string(),
        column: req.arm.clone(),
        reason,
    };
    for (a, role) in ["control", "treatment"].iter().enumerate() {
        if num(&format!("arm{a}_rows"))? < 1.0 {
            return Err(invalid_data(format!(
                "no row has the {role} label `{}`",
                req.arms[a]
            )));
        }
    }
    let arm_missing = num("arm_missing")?;
    let mut dropped_rows = Vec::with_capacity(req.metrics.len());
    for (j, m) in req.metrics.iter().enumerate() {
        let dropped = num(&format!("k{j}_skipped"))?;
        let missing = dropped + arm_missing;
        if !req.drop_missing && missing > 0.0 {
            let mut cols = vec![req.arm.as_str()];
            cols.extend(req.needed_columns(m));
            return Err(WarehouseError::missing_values(
                engine.address(),
                req.table.to_string(),
                &m.name,
                &cols,
                missing,
            ));
        }
        if value_check(m).is_some() {
            let invalid = num(&format!("k{j}_invalid"))?;
            if invalid > 0.0 {
                return Err(out_of_range(engine, &req.table, m, invalid));
            }
        }
        dropped_rows.push(if req.drop_missing {
            dropped as usize
        } else {
            0
        });
    }
    Ok(dropped_rows)
}

/// The [`UnitMoments`] of the moments' result `t` (one row per arm that has units).
fn moments_of(
    engine: &dyn Engine,
    req: &MomentsRequest,
    t: &Table,
    dropped_rows: Vec<usize>,
) -> Result<UnitMoments> {
    let kn = req.metrics.len();
    let c = req.covariates.len();
    let w = 2 + c;
    let arm_col = t.index("arm_i").ok_or_else(|| WarehouseError::BadResult {
        engine: engine.address(),
        table: req.table.to_string(),
        column: "arm_i".into(),
        reason: "missing from the engine's result".into(),
    })?;
    // The result row of each arm (None: the arm has no unit).
    let mut row_of = [None, None];
    for (r, row) in t.rows.iter().enumerate() {
        if let Cell::Number(a) = &row[arm_col] {
            if let Some(slot) = row_of.get_mut(a.round() as usize) {
                *slot = Some(r);
            }
        }
    }
    let arm = |a: usize| -> Result<(ArmKpiMoments, f64, Option<CovariateMoments>)> {
        let get = |col: String| -> Result<f64> {
            match row_of[a] {
                Some(r) => number(engine, &req.table, t, r, &col),
                None => Ok(0.0),
            }
        };
        let mut kpis = Vec::with_capacity(kn);
        for (j, m) in req.metrics.iter().enumerate() {
            let n = get(format!("k{j}_n"))?;
            if n < 2.0 {
                return Err(WarehouseError::InvalidData {
                    engine: engine.address(),
                    table: req.table.to_string(),
                    column: req.arm.clone(),
                    reason: format!(
                        "KPI `{}` has {n} unit(s) in the arm `{}`; the covariance of its effect needs at least 2 per arm",
                        m.name, req.arms[a]
                    ),
                });
            }
            kpis.push(KpiUnitMoments {
                n,
                sum_num: get(format!("k{j}_s0"))?,
                sum_den: get(format!("k{j}_s1"))?,
                sum_den_sq: get(format!("k{j}_dd"))?,
                sum_x: (2..w)
                    .map(|p| get(format!("k{j}_s{p}")))
                    .collect::<Result<_>>()?,
            });
        }
        let mut pairs = Vec::with_capacity(kn * (kn + 1) / 2);
        for (j, kj) in kpis.iter().enumerate() {
            for k in j..kn {
                let n = if j == k {
                    kj.n
                } else {
                    get(format!("p{j}_{k}_n"))?
                };
                let mut centred = vec![0.0; w * w];
                for p in 0..w {
                    for q in 0..w {
                        centred[p * w + q] = if j == k && q < p {
                            centred[q * w + p]
                        } else {
                            get(format!("p{j}_{k}_{p}_{q}"))?
                        };
                    }
                }
                pairs.push(PairMoments { n, centred });
            }
        }
        let covariates = if c > 0 {
            let mut centred = vec![0.0; c * c];
            for p in 0..c {
                for q in 0..c {
                    centred[p * c + q] = if q < p {
                        centred[q * c + p]
                    } else {
                        get(format!("x_{p}_{q}"))?
                    };
                }
            }
            Some(CovariateMoments {
                n: get("x_n".into())?,
                sum: (0..c)
                    .map(|q| get(format!("x_s{q}")))
                    .collect::<Result<_>>()?,
                centred,
            })
        } else {
            None
        };
        let moments = ArmKpiMoments {
            covariates: c,
            kpis,
            pairs,
        };
        Ok((moments, get("units".into())?, covariates))
    };
    let (m0, u0, c0) = arm(0)?;
    let (m1, u1, c1) = arm(1)?;
    Ok(UnitMoments {
        arms: [m0, m1],
        units: [u0, u1],
        covariates: c0.zip(c1).map(|(a, b)| [a, b]),
        dropped_rows,
    })
}
