//! SQL generation: one statement per request, a `UNION ALL` of one `SELECT` per metric, each
//! grouping by arm (and segment) over the rows — or over the units, when a unit column is
//! given, after a first `GROUP BY` that sums each unit's rows.
//!
//! Every input value is cast to the dialect's double type; every value from the user is a
//! quoted identifier ([`Dialect::ident`]) or a string literal ([`Dialect::string`]); numbers
//! (thresholds, weights, shifts) are written as round-trip double literals.

use crate::dialect::Dialect;
use crate::error::{Result, WarehouseError};
use crate::request::{Adjustment, Denominator, Metric, MetricKind, StatsRequest};

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
    let branches: Vec<String> = req
        .metrics
        .iter()
        .map(|m| branch(req, m, dialect, &stats))
        .collect();
    Ok(format!("{}\n", branches.join("\nUNION ALL\n")))
}

/// The table reference: each part quoted.
pub fn table_ref(req: &StatsRequest, d: Dialect) -> String {
    req.table
        .0
        .iter()
        .map(|p| d.ident(p))
        .collect::<Vec<_>>()
        .join(".")
}

/// The row-level expression of variable `i` of metric `m` (a double).
pub(crate) fn row_expr(req: &StatsRequest, m: &Metric, i: usize, d: Dialect) -> String {
    let col = |c: &str| d.to_double(&d.ident(c));
    let one = || d.double(1.0);
    match i {
        0 => match &m.kind {
            MetricKind::Mean { column } | MetricKind::Proportion { column } => col(column),
            MetricKind::Ratio { numerator, .. } => col(numerator),
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

fn branch(
    req: &StatsRequest,
    m: &Metric,
    d: Dialect,
    stats: &[(usize, usize, &'static str)],
) -> String {
    let vars = variables(req, m);
    let shift = req.shifts.get(&m.name).copied().unwrap_or_default();
    let groups = req.group_columns();
    let nulls = null_columns(req, m);
    let any_null = nulls
        .iter()
        .map(|c| format!("{} IS NULL", d.ident(c)))
        .collect::<Vec<_>>()
        .join(" OR ");
    let all_present = nulls
        .iter()
        .map(|c| format!("{} IS NOT NULL", d.ident(c)))
        .collect::<Vec<_>>()
        .join(" AND ");
    let invalid = invalid_condition(m, d);
    let one_if = |cond: &str| {
        format!(
            "CASE WHEN {cond} THEN {} ELSE {} END",
            d.double(1.0),
            d.double(0.0)
        )
    };
    let mut inner: Vec<String> = groups
        .iter()
        .enumerate()
        .map(|(k, g)| format!("CAST({} AS {}) AS g{k}", d.ident(g), d.text_type()))
        .collect();
    let minus = |e: String, c: f64| {
        if is_zero(c) {
            e
        } else {
            format!("{e} - {}", d.double(c))
        }
    };
    let unit = req.unit.as_deref();
    for &i in &vars {
        let e = row_expr(req, m, i, d);
        let e = match unit {
            None => e,
            // Sums per unit for numerator and denominator, means per unit for covariates
            // (as the data layer aggregates a unit).
            Some(_) if i < 2 => format!("SUM({e})"),
            Some(_) => format!("AVG({e})"),
        };
        inner.push(format!("{} AS v{i}", minus(e, shift.get(i))));
    }
    let wrap = |e: String| match unit {
        None => e,
        Some(_) => format!("SUM({e})"),
    };
    if !req.drop_missing {
        inner.push(format!("{} AS r_missing", wrap(one_if(&any_null))));
    }
    let invalid_expr = match &invalid {
        Some(c) => wrap(one_if(c)),
        None => d.double(0.0),
    };
    inner.push(format!("{invalid_expr} AS r_invalid"));
    let mut from = format!("    FROM {}", table_ref(req, d));
    if req.drop_missing {
        from += &format!("\n    WHERE {all_present}");
    }
    if let Some(u) = unit {
        let mut by: Vec<String> = groups
            .iter()
            .map(|g| format!("CAST({} AS {})", d.ident(g), d.text_type()))
            .collect();
        by.push(d.ident(u));
        from += &format!("\n    GROUP BY {}", by.join(", "));
    }

    // Outer: sums over units (or rows), the shifts added back.
    let n = "COUNT(*)";
    let sum = |i: usize| -> String {
        let c = shift.get(i);
        let mut e = format!("SUM(v{i})");
        if !is_zero(c) {
            e += &format!(" + {n} * {}", d.double(c));
        }
        e
    };
    let cross = |i: usize, j: usize| -> String {
        let (ci, cj) = (shift.get(i), shift.get(j));
        let mut e = format!("SUM(v{i} * v{j})");
        if i == j {
            if !is_zero(ci) {
                e += &format!(
                    " + {} * SUM(v{i}) + {n} * {}",
                    d.double(2.0 * ci),
                    d.double(ci * ci)
                );
            }
        } else {
            if !is_zero(cj) {
                e += &format!(" + {} * SUM(v{i})", d.double(cj));
            }
            if !is_zero(ci) {
                e += &format!(" + {} * SUM(v{j})", d.double(ci));
            }
            if !is_zero(ci) && !is_zero(cj) {
                e += &format!(" + {n} * {}", d.double(ci * cj));
            }
        }
        e
    };
    let mut outer = vec![format!("{} AS {}", d.string(&m.name), d.ident("metric"))];
    for (k, g) in groups.iter().enumerate() {
        outer.push(format!("g{k} AS {}", d.ident(g)));
    }
    outer.push(format!("{} AS {}", d.to_double(n), d.ident("count")));
    outer.push(format!("{} AS {}", d.to_double(n), d.ident("users")));
    for &(i, j, name) in stats {
        let have = vars.contains(&i) && (j == usize::MAX || vars.contains(&j));
        let e = if !have {
            d.null_double()
        } else if j == usize::MAX {
            d.to_double(&sum(i))
        } else {
            d.to_double(&cross(i, j))
        };
        outer.push(format!("{e} AS {}", d.ident(name)));
    }
    if !req.drop_missing {
        outer.push(format!(
            "{} AS {}",
            d.to_double("SUM(r_missing)"),
            d.ident(ROWS_MISSING)
        ));
    }
    outer.push(format!(
        "{} AS {}",
        d.to_double("SUM(r_invalid)"),
        d.ident(ROWS_INVALID)
    ));
    let group_by: Vec<String> = (0..groups.len()).map(|k| format!("g{k}")).collect();
    format!(
        "SELECT\n  {}\nFROM (\n  SELECT\n    {}\n{from}\n) AS u\nGROUP BY {}",
        outer.join(",\n  "),
        inner.join(",\n    "),
        group_by.join(", ")
    )
}

/// A query over a sample of at most `sample` rows giving, per metric, the mean row value of
/// each variable (`m{k}_v{i}` for metric k, variable i), plus `rows` and `units` (distinct
/// units in the sample, 0 without a unit): the basis of [`crate::engine::pilot_shifts`].
pub fn pilot_sql(req: &StatsRequest, dialect: Dialect, sample: usize) -> Result<String> {
    req.validate()?;
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
