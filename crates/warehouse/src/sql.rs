//! SQL generation: one statement per request that scans the table once, whatever the number
//! of metrics: every metric's per-row (or, with a unit column, per-unit) values are columns of
//! one `SELECT`, summed by one `GROUP BY` arm (and segment), and the few grouped rows are
//! unpivoted against an inline table of metric indexes into one row per metric × group
//! (GrowthBook's long layout, which the `--stats` reader reads).
//!
//! Every input value is cast to the dialect's double type; every value from the user is a
//! quoted identifier ([`Dialect::ident`]) or a string literal ([`Dialect::string`]); numbers
//! (thresholds, weights, shifts) are written as round-trip double literals.

use crate::dialect::Dialect;
use crate::error::{Result, WarehouseError};
use crate::request::{Adjustment, Denominator, Metric, MetricKind, StatsRequest, TableName};

/// Result columns of the sums of squares of the variables numerator, denominator, covariate,
/// pre-period denominator (GrowthBook's names, as `causalkit_data`'s `--stats` reader reads
/// them).
pub const SUM_COLUMNS: [(&str, &str); 4] = [
    ("main_sum", "main_sum_squares"),
    ("denominator_sum", "denominator_sum_squares"),
    ("covariate_sum", "covariate_sum_squares"),
    ("denominator_pre_sum", "denominator_pre_sum_squares"),
];

/// The result column of the cross-product of variables `i > j` (GrowthBook's names).
pub fn cross_column(i: usize, j: usize) -> &'static str {
    match (i, j) {
        (1, 0) => "main_denominator_sum_product",
        (2, 0) => "main_covariate_sum_product",
        (2, 1) => "main_pre_denominator_post_sum_product",
        (3, 0) => "main_post_denominator_pre_sum_product",
        (3, 1) => "denominator_post_denominator_pre_sum_product",
        _ => "main_pre_denominator_pre_sum_product",
    }
}

/// The result column counting rows with a missing value (only without `drop_missing`).
pub const ROWS_MISSING: &str = "rows_missing";
/// The result column counting rows with a value the metric does not allow.
pub const ROWS_INVALID: &str = "rows_invalid";

/// A value check of a metric: the column and what it must be.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueCheck {
    /// The column checked.
    pub column: String,
    /// What its values must be.
    pub expected: &'static str,
}

/// The value check of metric `m`, if it has one (as the data layer's KPI transform checks).
pub fn value_check(m: &Metric) -> Option<ValueCheck> {
    let (column, expected) = match &m.kind {
        MetricKind::Proportion { column } => (column, "0 or 1 for a proportion"),
        MetricKind::Nps { column } => (column, "an integer score from 0 to 10"),
        MetricKind::Ratio {
            denominator: Denominator::Column(d),
            ..
        } => (d, "a non-negative denominator"),
        _ => return None,
    };
    Some(ValueCheck {
        column: column.clone(),
        expected,
    })
}

/// Which variables (0 numerator, 1 denominator, 2 covariate, 3 pre-period denominator)
/// metric `m`'s rows carry.
pub fn variables(req: &StatsRequest, m: &Metric) -> Vec<usize> {
    let mut v = vec![0];
    if req.has_denominator(m) {
        v.push(1);
    }
    match req.adjustment {
        Adjustment::None => {}
        Adjustment::Cuped(_) => v.push(2),
        Adjustment::RatioCuped { .. } => v.extend([2, 3]),
    }
    v
}

/// The result's columns, in order: `metric`, the arm column, the segment column, `count`,
/// `users`, the statistics, `rows_missing` (without `drop_missing`) and `rows_invalid`.
pub fn result_columns(req: &StatsRequest) -> Vec<String> {
    let mut cols = vec!["metric".to_string()];
    cols.extend(req.group_columns().iter().map(|s| s.to_string()));
    cols.push("count".into());
    cols.push("users".into());
    cols.extend(statistic_columns(req).iter().map(|s| s.2.to_string()));
    if !req.drop_missing {
        cols.push(ROWS_MISSING.into());
    }
    cols.push(ROWS_INVALID.into());
    cols
}

/// The statistics columns the result holds, as (i, j, name): the sum of variable i has
/// `j == usize::MAX`, its sum of squares `j == i`, a cross-product `j < i`.
fn statistic_columns(req: &StatsRequest) -> Vec<(usize, usize, &'static str)> {
    let present: std::collections::BTreeSet<usize> =
        req.metrics.iter().flat_map(|m| variables(req, m)).collect();
    let mut out = Vec::new();
    for &i in &present {
        let (s, sq) = SUM_COLUMNS[i];
        out.push((i, usize::MAX, s));
        out.push((i, i, sq));
        for j in (0..i).filter(|j| present.contains(j)) {
            out.push((i, j, cross_column(i, j)));
        }
    }
    out
}

/// The SQL of the request in `dialect`: one row per metric × arm [× segment] with the
/// columns of [`result_columns`].
pub fn stats_sql(req: &StatsRequest, dialect: Dialect) -> Result<String> {
    req.validate()?;
    let cols = result_columns(req);
    for g in req.group_columns() {
        if cols.iter().filter(|c| *c == g).count() > 1 {
            return Err(WarehouseError::InvalidRequest {
                field: "arm/segment".into(),
                reason: format!(
                    "the group column `{g}` has the name of a result column; rename it in a view"
                ),
            });
        }
    }
    let stats = statistic_columns(req);
    Ok(format!("{}\n", one_pass(req, dialect, &stats)))
}

/// The table reference: each part quoted.
pub fn table_ref(req: &StatsRequest, d: Dialect) -> String {
    quote_table(&req.table, d)
}

/// A table name with each part quoted.
pub(crate) fn quote_table(t: &TableName, d: Dialect) -> String {
    t.0.iter().map(|p| d.ident(p)).collect::<Vec<_>>().join(".")
}

/// `CASE WHEN cond THEN 1 ELSE 0 END` with double literals: counts rows where `cond` holds.
pub(crate) fn one_if(cond: &str, d: Dialect) -> String {
    format!(
        "CASE WHEN {cond} THEN {} ELSE {} END",
        d.double(1.0),
        d.double(0.0)
    )
}

/// The row-level expression of variable `i` of metric `m` (a double).
pub(crate) fn row_expr(req: &StatsRequest, m: &Metric, i: usize, d: Dialect) -> String {
    let col = |c: &str| d.to_double(&d.ident(c));
    let one = || d.double(1.0);
    match i {
        0 => match &m.kind {
            MetricKind::Mean { column } => capped(req, m, d, col(column)),
            MetricKind::Proportion { column } => col(column),
            MetricKind::Ratio { numerator, .. } => capped(req, m, d, col(numerator)),
            MetricKind::Nps { column } => {
                let x = col(column);
                format!(
                    "CASE WHEN {x} >= {nine} THEN {p1} WHEN {x} <= {six} THEN {m1} ELSE {z} END",
                    nine = d.double(9.0),
                    six = d.double(6.0),
                    p1 = d.double(1.0),
                    m1 = d.double(-1.0),
                    z = d.double(0.0)
                )
            }
            MetricKind::TopBox { column, threshold } => format!(
                "CASE WHEN {} >= {} THEN {} ELSE {} END",
                col(column),
                d.double(*threshold),
                d.double(1.0),
                d.double(0.0)
            ),
            MetricKind::Composite { terms } => terms
                .iter()
                .map(|(c, w)| format!("{} * {}", d.double(*w), col(c)))
                .collect::<Vec<_>>()
                .join(" + "),
        },
        1 => match &m.kind {
            MetricKind::Ratio {
                denominator: Denominator::Column(c),
                ..
            } => col(c),
            _ => one(),
        },
        2 => match &req.adjustment {
            Adjustment::Cuped(c) => col(c),
            Adjustment::RatioCuped { numerator, .. } => col(numerator),
            Adjustment::None => one(),
        },
        _ => match &req.adjustment {
            Adjustment::RatioCuped {
                denominator: Denominator::Column(c),
                ..
            } => col(c),
            _ => one(),
        },
    }
}

/// The aggregate giving the `q` percentile of `x` in dialect `d`: exact (linear
/// interpolation between order statistics, numpy's default, Hyndman & Fan type 7) on
/// PostgreSQL and Snowflake (`percentile_cont`), DuckDB (`quantile_cont`), Spark
/// (`percentile`) and ClickHouse (`quantileExactInclusive`); approximate on Trino
/// (`approx_percentile`) and BigQuery (`APPROX_QUANTILES` with 10,000 buckets, the level
/// rounded to 1e-4).
pub fn percentile(d: Dialect, x: &str, q: f64) -> String {
    match d {
        Dialect::Postgres | Dialect::Snowflake => {
            format!("percentile_cont({q:?}) WITHIN GROUP (ORDER BY {x})")
        }
        Dialect::DuckDb => format!("quantile_cont({x}, {q:?})"),
        Dialect::Spark => format!("percentile({x}, {q:?})"),
        Dialect::ClickHouse => format!("quantileExactInclusive({q:?})({x})"),
        Dialect::Trino => format!("approx_percentile({x}, {q:?})"),
        Dialect::BigQuery => format!(
            "APPROX_QUANTILES({x}, 10000)[OFFSET({})]",
            (q * 10000.0).round() as i64
        ),
    }
}

/// Whether [`percentile`] is exact in this dialect.
pub fn percentile_is_exact(d: Dialect) -> bool {
    !matches!(d, Dialect::Trino | Dialect::BigQuery)
}

/// `a IS NOT NULL AND b IS NOT NULL ...`: every one of `columns` present (names quoted).
pub(crate) fn all_present(columns: &[&str], d: Dialect) -> String {
    columns
        .iter()
        .map(|c| format!("{} IS NOT NULL", d.ident(c)))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// The value winsorisation caps for metric `m` (its column as a double), NULL where a
/// column the metric reads is missing: the values the caps are percentiles of.
fn winsor_values(m: &Metric, d: Dialect) -> Option<String> {
    let c = m.winsor_column()?;
    let present = all_present(&m.columns(), d);
    Some(format!(
        "CASE WHEN {present} THEN {} END",
        d.to_double(&d.ident(c))
    ))
}

/// `x` capped as metric `m`'s winsorisation says: at the known caps, or at the columns of
/// the caps subquery [`from_clause`] joins (when the caps are not known yet).
fn capped(req: &StatsRequest, m: &Metric, d: Dialect, x: String) -> String {
    let Some(w) = req.winsor.get(&m.name) else {
        return x;
    };
    let k = req
        .metrics
        .iter()
        .position(|n| n.name == m.name)
        .unwrap_or_default();
    let bound = |level: Option<f64>, cap: Option<Option<f64>>, suffix: &str| -> Option<String> {
        match cap {
            Some(c) => c.map(|v| d.double(v)),
            None => level.map(|_| format!("winsor_caps.m{k}_{suffix}")),
        }
    };
    let lo = bound(w.lower, w.caps.map(|c| c.lower), "lo");
    let hi = bound(w.upper, w.caps.map(|c| c.upper), "hi");
    let mut e = String::from("CASE");
    if let Some(lo) = &lo {
        e += &format!(" WHEN {x} < {lo} THEN {lo}");
    }
    if let Some(hi) = &hi {
        e += &format!(" WHEN {x} > {hi} THEN {hi}");
    }
    format!("{e} ELSE {x} END")
}

/// The winsorisation pre-query: one row with, per winsorised metric k, the caps `m{k}_lo`,
/// `m{k}_hi` (percentiles of the metric's column over the rows whose columns the metric reads
/// are present, pooled over arms; NULL for a tail left alone) and `m{k}_rows` (how many values
/// they were taken over). None when no metric is winsorised.
pub fn caps_sql(req: &StatsRequest, d: Dialect) -> Option<String> {
    let mut sel = Vec::new();
    for (k, m) in req.metrics.iter().enumerate() {
        let (Some(w), Some(x)) = (req.winsor.get(&m.name), winsor_values(m, d)) else {
            continue;
        };
        for (level, suffix) in [(w.lower, "lo"), (w.upper, "hi")] {
            let e = match level {
                Some(q) => d.to_double(&percentile(d, &x, q)),
                None => d.null_double(),
            };
            sel.push(format!("{e} AS m{k}_{suffix}"));
        }
        sel.push(format!(
            "{} AS m{k}_rows",
            d.to_double(&format!("COUNT({x})"))
        ));
    }
    if sel.is_empty() {
        return None;
    }
    Some(format!(
        "SELECT\n  {}\nFROM {}\n",
        sel.join(",\n  "),
        table_ref(req, d)
    ))
}

/// The table the aggregation reads: the table itself, joined to the one-row caps subquery
/// ([`caps_sql`], alias `winsor_caps`) when a metric is winsorised at caps not known yet —
/// the statement then computes its own caps (one more scan), as `--explain` prints it.
pub fn from_clause(req: &StatsRequest, d: Dialect) -> String {
    let table = table_ref(req, d);
    if !req.winsor.values().any(|w| w.caps.is_none()) {
        return table;
    }
    let mut unknown = req.clone();
    unknown.winsor.retain(|_, w| w.caps.is_none());
    match caps_sql(&unknown, d) {
        Some(caps) => format!(
            "{table}\nCROSS JOIN (\n{}\n) AS winsor_caps",
            caps.trim_end()
        ),
        None => table,
    }
}

/// Columns whose missing values drop (or count) a row of metric `m`.
fn null_columns<'a>(req: &'a StatsRequest, m: &'a Metric) -> Vec<&'a str> {
    let mut v: Vec<&str> = req.group_columns();
    if let Some(u) = &req.unit {
        v.push(u);
    }
    for c in m.columns().into_iter().chain(req.covariate_columns()) {
        if !v.contains(&c) {
            v.push(c);
        }
    }
    v
}

/// The condition under which a row of metric `m` holds a value the metric does not allow.
pub(crate) fn invalid_condition(m: &Metric, d: Dialect) -> Option<String> {
    let check = value_check(m)?;
    let x = d.to_double(&d.ident(&check.column));
    Some(match &m.kind {
        MetricKind::Proportion { .. } => {
            format!("{x} <> {} AND {x} <> {}", d.double(0.0), d.double(1.0))
        }
        MetricKind::Nps { .. } => format!(
            "{x} < {} OR {x} > {} OR {x} <> FLOOR({x})",
            d.double(0.0),
            d.double(10.0)
        ),
        _ => format!("{x} < {}", d.double(0.0)),
    })
}

/// The inline table of metric indexes `0..n` (column `mk`) the grouped sums are unpivoted
/// against: one row per metric, joined to the few grouped rows (never to the table).
fn metric_index(d: Dialect, n: usize) -> String {
    let list: Vec<String> = (0..n).map(|k| k.to_string()).collect();
    let values = || {
        list.iter()
            .map(|k| format!("({k})"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match d {
        Dialect::BigQuery => format!("UNNEST([{}]) AS mk", list.join(", ")),
        Dialect::ClickHouse => format!(
            "(SELECT arrayJoin([{}]) AS mk) AS metric_index",
            list.join(", ")
        ),
        Dialect::Spark => format!("VALUES {} AS metric_index(mk)", values()),
        Dialect::Postgres | Dialect::Snowflake | Dialect::Trino | Dialect::DuckDb => {
            format!("(VALUES {}) AS metric_index(mk)", values())
        }
    }
}

/// The one-pass statement: (1) one `SELECT` over the table computes every metric's
/// variables per row (or per unit, after a `GROUP BY` of the unit's rows) as columns
/// `m{k}_v{i}` — NULL where the row (unit) does not count for metric k (a missing value with
/// `drop_missing`); (2) one `GROUP BY` arm [, segment] sums them (`m{k}_n` counts, `m{k}_s{i}`
/// sums, `m{k}_p{i}_{j}` cross-products); (3) the few grouped rows are unpivoted against an
/// inline table of metric indexes into one row per metric × group with GrowthBook's columns,
/// the shift constants added back. The table is scanned once, whatever the number of metrics.
fn one_pass(req: &StatsRequest, d: Dialect, stats: &[(usize, usize, &'static str)]) -> String {
    let groups = req.group_columns();
    let unit = req.unit.as_deref();
    let one_if = |cond: &str| one_if(cond, d);
    let minus = |e: String, c: f64| {
        if is_zero(c) {
            e
        } else {
            format!("{e} - {}", d.double(c))
        }
    };
    let wrap = |e: String| match unit {
        None => e,
        Some(_) => format!("SUM({e})"),
    };

    // (1) Per row, or per unit.
    let mut inner: Vec<String> = groups
        .iter()
        .enumerate()
        .map(|(k, g)| format!("CAST({} AS {}) AS g{k}", d.ident(g), d.text_type()))
        .collect();
    // (2) Per group.
    let mut grouped: Vec<String> = (0..groups.len()).map(|k| format!("g{k}")).collect();
    for (k, m) in req.metrics.iter().enumerate() {
        let vars = variables(req, m);
        let shift = req.shifts.get(&m.name).copied().unwrap_or_default();
        let nulls = null_columns(req, m);
        let any_null = nulls
            .iter()
            .map(|c| format!("{} IS NULL", d.ident(c)))
            .collect::<Vec<_>>()
            .join(" OR ");
        // With drop_missing, the rows a metric keeps: every column it uses present.
        let keep = req.drop_missing.then(|| all_present(&nulls, d));
        let kept = |e: String| match &keep {
            Some(cond) => format!("CASE WHEN {cond} THEN {e} END"),
            None => e,
        };
        for &i in &vars {
            let e = kept(row_expr(req, m, i, d));
            let e = match unit {
                None => e,
                // Sums per unit for numerator and denominator, means per unit for covariates
                // (as the data layer aggregates a unit).
                Some(_) if i < 2 => format!("SUM({e})"),
                Some(_) => format!("AVG({e})"),
            };
            inner.push(format!("{} AS m{k}_v{i}", minus(e, shift.get(i))));
        }
        if !req.drop_missing {
            inner.push(format!("{} AS m{k}_miss", wrap(one_if(&any_null))));
        }
        let invalid = invalid_condition(m, d);
        if let Some(c) = &invalid {
            let cond = match &keep {
                Some(kc) => format!("({kc}) AND ({c})"),
                None => c.clone(),
            };
            inner.push(format!("{} AS m{k}_inv", wrap(one_if(&cond))));
        }
        grouped.push(format!("COUNT(m{k}_v0) AS m{k}_n"));
        for &i in &vars {
            grouped.push(format!("SUM(m{k}_v{i}) AS m{k}_s{i}"));
            for &j in vars.iter().filter(|&&j| j <= i) {
                grouped.push(format!("SUM(m{k}_v{i} * m{k}_v{j}) AS m{k}_p{i}_{j}"));
            }
        }
        if !req.drop_missing {
            grouped.push(format!("SUM(m{k}_miss) AS m{k}_miss"));
        }
        if invalid.is_some() {
            grouped.push(format!("SUM(m{k}_inv) AS m{k}_inv"));
        }
    }
    let mut from = format!(
        "      FROM {}",
        from_clause(req, d).replace('\n', "\n      ")
    );
    if let Some(u) = unit {
        let mut by: Vec<String> = groups
            .iter()
            .map(|g| format!("CAST({} AS {})", d.ident(g), d.text_type()))
            .collect();
        by.push(d.ident(u));
        from += &format!("\n      GROUP BY {}", by.join(", "));
    }

    // (3) One row per metric × group, the shifts added back.
    let case = |branch: &dyn Fn(usize, &Metric) -> Option<String>| -> String {
        let arms: Vec<String> = req
            .metrics
            .iter()
            .enumerate()
            .filter_map(|(k, m)| branch(k, m).map(|e| format!("WHEN {k} THEN {e}")))
            .collect();
        format!("CASE mk {} END", arms.join(" "))
    };
    let shift_of = |m: &Metric| req.shifts.get(&m.name).copied().unwrap_or_default();
    let sum = |k: usize, m: &Metric, i: usize| -> String {
        let c = shift_of(m).get(i);
        let mut e = format!("m{k}_s{i}");
        if !is_zero(c) {
            e += &format!(" + m{k}_n * {}", d.double(c));
        }
        e
    };
    let cross = |k: usize, m: &Metric, i: usize, j: usize| -> String {
        let (ci, cj) = (shift_of(m).get(i), shift_of(m).get(j));
        let n = format!("m{k}_n");
        let mut e = format!("m{k}_p{i}_{j}");
        if i == j {
            if !is_zero(ci) {
                e += &format!(
                    " + {} * m{k}_s{i} + {n} * {}",
                    d.double(2.0 * ci),
                    d.double(ci * ci)
                );
            }
        } else {
            if !is_zero(cj) {
                e += &format!(" + {} * m{k}_s{i}", d.double(cj));
            }
            if !is_zero(ci) {
                e += &format!(" + {} * m{k}_s{j}", d.double(ci));
            }
            if !is_zero(ci) && !is_zero(cj) {
                e += &format!(" + {n} * {}", d.double(ci * cj));
            }
        }
        e
    };
    let mut outer = vec![format!(
        "{} AS {}",
        case(&|_, m| Some(d.string(&m.name))),
        d.ident("metric")
    )];
    for (k, g) in groups.iter().enumerate() {
        outer.push(format!("g{k} AS {}", d.ident(g)));
    }
    let count = case(&|k, _| Some(format!("m{k}_n")));
    outer.push(format!("{} AS {}", d.to_double(&count), d.ident("count")));
    outer.push(format!("{} AS {}", d.to_double(&count), d.ident("users")));
    for &(i, j, name) in stats {
        let e = case(&|k, m| {
            let vars = variables(req, m);
            let have = vars.contains(&i) && (j == usize::MAX || vars.contains(&j));
            have.then(|| {
                if j == usize::MAX {
                    d.to_double(&sum(k, m, i))
                } else {
                    d.to_double(&cross(k, m, i, j))
                }
            })
        });
        outer.push(format!("{e} AS {}", d.ident(name)));
    }
    if !req.drop_missing {
        let e = case(&|k, _| Some(d.to_double(&format!("m{k}_miss"))));
        outer.push(format!("{e} AS {}", d.ident(ROWS_MISSING)));
    }
    let e = case(&|k, m| {
        Some(if invalid_condition(m, d).is_some() {
            d.to_double(&format!("m{k}_inv"))
        } else {
            d.double(0.0)
        })
    });
    outer.push(format!("{e} AS {}", d.ident(ROWS_INVALID)));
    let group_by: Vec<String> = (0..groups.len()).map(|k| format!("g{k}")).collect();
    format!(
        "SELECT\n  {}\nFROM (\n  SELECT\n    {}\n  FROM (\n    SELECT\n      {}\n{from}\n  ) AS u\n  GROUP BY {}\n) AS s\nCROSS JOIN {}\nWHERE {count} > 0",
        outer.join(",\n  "),
        grouped.join(",\n    "),
        inner.join(",\n      "),
        group_by.join(", "),
        metric_index(d, req.metrics.len()),
    )
}

/// A query over a sample of at most `sample` rows giving, per metric, the mean row value of
/// each variable (`m{k}_v{i}` for metric k, variable i), plus `rows` and `units` (distinct
/// units in the sample, 0 without a unit): the basis of [`crate::engine::pilot_shifts`].
pub fn pilot_sql(req: &StatsRequest, dialect: Dialect, sample: usize) -> Result<String> {
    req.validate()?;
    // Shifts from uncapped values: any constant is exact, one near the mean keeps digits.
    let mut uncapped = req.clone();
    uncapped.winsor.clear();
    let req = &uncapped;
    let d = dialect;
    let cols: Vec<String> = req.all_columns().iter().map(|c| d.ident(c)).collect();
    let mut sel = vec![format!("{} AS p_rows", d.to_double("COUNT(*)"))];
    match &req.unit {
        Some(u) => sel.push(format!(
            "{} AS p_units",
            d.to_double(&format!("COUNT(DISTINCT {})", d.ident(u)))
        )),
        None => sel.push(format!("{} AS p_units", d.double(0.0))),
    }
    for (k, m) in req.metrics.iter().enumerate() {
        for i in variables(req, m) {
            sel.push(format!("AVG({}) AS m{k}_v{i}", row_expr(req, m, i, d)));
        }
    }
    Ok(format!(
        "SELECT\n  {}\nFROM (\n  SELECT {}\n  FROM {}\n  LIMIT {sample}\n) AS s\n",
        sel.join(",\n  "),
        cols.join(", "),
        table_ref(req, d)
    ))
}

/// A query returning one unit (as text, column `unit`) found in more than one arm, or no
/// row; None without a unit.
pub fn unit_check_sql(req: &StatsRequest, d: Dialect) -> Option<String> {
    let u = req.unit.as_deref()?;
    let (ui, ai) = (d.ident(u), d.ident(&req.arm));
    Some(format!(
        "SELECT CAST({ui} AS {t}) AS {unit}\nFROM {table}\nWHERE {ui} IS NOT NULL AND {ai} IS NOT NULL\nGROUP BY {ui}\nHAVING COUNT(DISTINCT {ai}) > 1\nLIMIT 1\n",
        t = d.text_type(),
        unit = d.ident("unit"),
        table = table_ref(req, d)
    ))
}

/// A query returning no rows but the table's columns (their names and types), to check the
/// request against the table before aggregating.
pub fn schema_sql(req: &StatsRequest, d: Dialect) -> String {
    format!("SELECT * FROM {} WHERE 1 = 0", table_ref(req, d))
}

/// Whether a shift is zero (and its terms are left out of the SQL).
#[allow(clippy::float_cmp)] // exactly zero: any other shift must be written out.
fn is_zero(c: f64) -> bool {
    c == 0.0
}
