//! Column roles: which column is the unit, the period, the arm, the KPIs, the covariates,
//! the cluster and the weight — named by the user once, validated once.

use crate::dataset::{missing_mask, Dataset, MissingPolicy};
use crate::error::{DataError, Result};
use crate::kpi::Kpi;
use crate::panel::Balance;
use serde::Serialize;
use std::collections::BTreeMap;

/// The roles the user gives to columns. Every field is optional; what is named is checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnRoles {
    /// The analysis or randomisation unit (e.g. agent, customer, site).
    pub unit: Option<String>,
    /// The period (whole numbers: day, week, year).
    pub time: Option<String>,
    /// The arm / treatment column.
    pub arm: Option<String>,
    /// KPI definitions (their columns must be numeric).
    pub kpis: Vec<Kpi>,
    /// Numeric covariates (e.g. pre-period values for CUPED).
    pub covariates: Vec<String>,
    /// Cluster column(s).
    pub cluster: Vec<String>,
    /// Weight column (positive).
    pub weight: Option<String>,
}

/// What validation found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoleReport {
    /// Rows in the data.
    pub rows: usize,
    /// Missing values per used column (columns without missing values are omitted).
    pub missing: BTreeMap<String, usize>,
    /// Rows per arm, when an arm column is named.
    pub arms: BTreeMap<String, usize>,
    /// Panel balance, when unit and time are named and each unit-period occurs once.
    pub balance: Option<String>,
}

impl ColumnRoles {
    /// Checks the roles against the data: every column exists; KPI, covariate and weight
    /// columns are numeric; periods are whole numbers; weights are positive; the arm column has
    /// at least two arms; covariates are not constant. Errors name the column, row and value.
    pub fn validate(&self, data: &Dataset) -> Result<RoleReport> {
        let mut used: Vec<&str> = Vec::new();
        used.extend(self.unit.as_deref());
        used.extend(self.time.as_deref());
        used.extend(self.arm.as_deref());
        for k in &self.kpis {
            used.extend(k.columns());
        }
        used.extend(self.covariates.iter().map(String::as_str));
        used.extend(self.cluster.iter().map(String::as_str));
        used.extend(self.weight.as_deref());
        data.require(&used)?;
        let mut missing = BTreeMap::new();
        for c in &used {
            let m = data.null_count(c)?;
            if m > 0 {
                missing.insert(c.to_string(), m);
            }
        }
        for k in &self.kpis {
            for c in k.columns() {
                data.numeric(c)?;
            }
        }
        let mut periods = None;
        if let Some(t) = &self.time {
            let v = data.numeric(t)?;
            if let Some((row, x)) = v
                .iter()
                .enumerate()
                .find_map(|(i, x)| x.filter(|x| x.fract() != 0.0).map(|x| (i, x)))
            {
                return Err(DataError::OutOfRange {
                    column: t.clone(),
                    row,
                    value: x,
                    expected: "a whole-number period".into(),
                });
            }
            periods = Some(v);
        }
        if let Some(w) = &self.weight {
            let v = data.numeric(w)?;
            if let Some((row, x)) = v
                .iter()
                .enumerate()
                .find_map(|(i, x)| x.filter(|x| *x <= 0.0).map(|x| (i, x)))
            {
                return Err(DataError::OutOfRange {
                    column: w.clone(),
                    row,
                    value: x,
                    expected: "a positive weight".into(),
                });
            }
        }
        for c in &self.covariates {
            let v: Vec<f64> = data.numeric(c)?.into_iter().flatten().collect();
            if let Some(first) = v.first() {
                // Exact by design: a column is constant when every value is the same number.
                #[allow(clippy::float_cmp)]
                let constant = v.iter().all(|x| x == first);
                if constant {
                    return Err(DataError::ConstantColumn {
                        column: c.clone(),
                        value: first.to_string(),
                        why: "a constant covariate carries no information and makes the adjustment singular".into(),
                    });
                }
            }
        }
        let mut arms = BTreeMap::new();
        if let Some(a) = &self.arm {
            for l in data.labels(a)?.into_iter().flatten() {
                *arms.entry(l).or_insert(0usize) += 1;
            }
            match arms.len() {
                0 => {
                    return Err(DataError::EmptyGroup(format!(
                        "the arm column `{a}` has no values"
                    )))
                }
                1 => {
                    return Err(DataError::ConstantColumn {
                        column: a.clone(),
                        value: arms.keys().next().cloned().unwrap_or_default(),
                        why: "a comparison needs at least two arms".into(),
                    })
                }
                _ => {}
            }
        }
        let mut balance = None;
        if let (Some(u), Some(p)) = (&self.unit, periods) {
            let units = data.labels(u)?;
            let mut cells = std::collections::HashSet::new();
            let mut unit_col = Vec::new();
            let mut period_col = Vec::new();
            let mut duplicated = false;
            for (un, pe) in units.into_iter().zip(p) {
                if let (Some(un), Some(pe)) = (un, pe) {
                    let key = (un.clone(), pe as i64);
                    if cells.insert(key) {
                        unit_col.push(un);
                        period_col.push(pe as i64);
                    } else {
                        duplicated = true;
                    }
                }
            }
            if !duplicated {
                balance = Some(Balance::of(&unit_col, &period_col).describe());
            }
        }
        Ok(RoleReport {
            rows: data.height(),
            missing,
            arms,
            balance,
        })
    }
}

/// Checks that no column is named for two roles: `roles` lists `(role, column)` pairs, the
/// role as the user named it (e.g. `"the outcome (--outcome)"`, `"a covariate
/// (--covariates)"`). The first repeated column is a [`DataError::ColumnInTwoRoles`].
pub fn check_distinct_roles(roles: &[(&str, &str)]) -> Result<()> {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for &(role, column) in roles {
        if let Some(first) = seen.insert(column, role) {
            return Err(DataError::ColumnInTwoRoles {
                column: column.to_string(),
                first: first.to_string(),
                second: role.to_string(),
            });
        }
    }
    Ok(())
}

/// The columns an analysis uses, read once under one missing-value policy: the rows kept
/// (0-based data rows, in file order) and typed accessors that return only those rows and
/// name the column, the file row and the value in every error. DiD, synthetic control and
/// `causalkit regress` read their columns through this instead of masking by hand.
#[derive(Debug)]
pub struct MaskedColumns<'a> {
    data: &'a Dataset,
    /// The data rows kept, in file order (0-based, as in every [`DataError`] row).
    pub rows: Vec<usize>,
    /// Rows dropped for a missing value (always 0 under [`MissingPolicy::Error`]).
    pub dropped: usize,
}

impl<'a> MaskedColumns<'a> {
    /// Checks that every column in `used` and `optional` exists, applies `policy` to the
    /// missing values of `used` (`optional` columns may be missing, e.g. a cohort column
    /// where empty means never treated) and keeps the remaining rows. Errors: a missing
    /// column (with the list of columns), a missing value under [`MissingPolicy::Error`]
    /// (column, count, first row), or no row left.
    pub fn new(
        data: &'a Dataset,
        used: &[&str],
        optional: &[&str],
        policy: MissingPolicy,
    ) -> Result<Self> {
        let mut all = used.to_vec();
        all.extend_from_slice(optional);
        data.require(&all)?;
        let mut presence = Vec::with_capacity(used.len());
        for c in used {
            presence.push((*c, data.present(c)?));
        }
        let (keep, dropped) = missing_mask(&presence, data.height(), policy)?;
        let rows: Vec<usize> = (0..data.height()).filter(|&i| keep[i]).collect();
        if rows.is_empty() {
            return Err(DataError::EmptyGroup(if dropped > 0 {
                format!("no rows left after dropping {dropped} row(s) with missing values")
            } else {
                "the data have no rows".into()
            }));
        }
        Ok(MaskedColumns {
            data,
            rows,
            dropped,
        })
    }

    /// Accessors on the given data rows (0-based, e.g. rows already masked by another
    /// reader), with nothing dropped.
    pub fn rows_of(data: &'a Dataset, rows: &[usize]) -> Self {
        MaskedColumns {
            data,
            rows: rows.to_vec(),
            dropped: 0,
        }
    }

    /// Number of rows kept.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether no row is kept (never true after [`MaskedColumns::new`]).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// A numeric column on the kept rows; a missing value left (in a column not listed as
    /// used) is an error naming the column and row.
    pub fn numeric(&self, column: &str) -> Result<Vec<f64>> {
        let v = self.data.numeric(column)?;
        self.rows
            .iter()
            .map(|&i| {
                v[i].ok_or(DataError::MissingValues {
                    column: column.to_string(),
                    count: 1,
                    first_row: i,
                })
            })
            .collect()
    }

    /// A column as text labels on the kept rows (missing values as an error).
    pub fn labels(&self, column: &str) -> Result<Vec<String>> {
        let v = self.data.labels(column)?;
        self.rows
            .iter()
            .map(|&i| {
                v[i].clone().ok_or(DataError::MissingValues {
                    column: column.to_string(),
                    count: 1,
                    first_row: i,
                })
            })
            .collect()
    }

    /// Whole-number periods (e.g. years, day indices).
    pub fn periods(&self, column: &str) -> Result<Vec<i64>> {
        let v = self.numeric(column)?;
        v.iter()
            .zip(&self.rows)
            .map(|(&x, &row)| whole(column, row, x, "a whole-number period"))
            .collect()
    }

    /// A cohort column (first treated period): a whole number, with 0 or a missing value
    /// meaning never treated. Negative values are errors.
    pub fn cohorts(&self, column: &str) -> Result<Vec<Option<i64>>> {
        let v = self.data.numeric(column)?;
        self.rows
            .iter()
            .map(|&row| match v[row] {
                None => Ok(None),
                Some(0.0) => Ok(None),
                Some(x) if x < 0.0 => Err(DataError::OutOfRange {
                    column: column.to_string(),
                    row,
                    value: x,
                    expected: "a first treated period, or 0 / empty for never treated".into(),
                }),
                Some(x) => whole(column, row, x, "a whole-number first treated period").map(Some),
            })
            .collect()
    }

    /// A 0/1 indicator column (e.g. treated, post).
    pub fn binary(&self, column: &str) -> Result<Vec<f64>> {
        let v = self.numeric(column)?;
        for (&x, &row) in v.iter().zip(&self.rows) {
            // Exact by design: indicators are exactly 0 or 1.
            #[allow(clippy::float_cmp)]
            let not_binary = x != 0.0 && x != 1.0;
            if not_binary {
                return Err(DataError::OutOfRange {
                    column: column.to_string(),
                    row,
                    value: x,
                    expected: "0 or 1".into(),
                });
            }
        }
        Ok(v)
    }

    /// A regressor's design columns on the kept rows: a numeric column as itself (one
    /// `(column, values)` pair); a text column as dummies named `column[level]`, one per level
    /// after the first in sorted order (the reference). A text column most of whose values are
    /// numbers is a numeric column with a typo, not a categorical one: the first non-number
    /// is a [`DataError::NonNumeric`] naming its row. A text column with a single level is a
    /// [`DataError::ConstantColumn`] (collinear with the intercept).
    pub fn regressor(&self, column: &str) -> Result<Vec<(String, Vec<f64>)>> {
        let dtype = self.data.dtype(column)?;
        if !(dtype == "str" || dtype.contains("String")) {
            return Ok(vec![(column.to_string(), self.numeric(column)?)]);
        }
        let labels = self.labels(column)?;
        let numeric_like = labels
            .iter()
            .filter(|l| l.trim().parse::<f64>().is_ok())
            .count();
        if numeric_like * 2 > labels.len() {
            self.data.numeric(column)?;
        }
        let mut levels: Vec<&String> = labels
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        if levels.len() < 2 {
            return Err(DataError::ConstantColumn {
                column: column.to_string(),
                value: levels.first().map(|l| l.to_string()).unwrap_or_default(),
                why: "a categorical regressor with a single level is collinear with the intercept"
                    .into(),
            });
        }
        levels.remove(0);
        Ok(levels
            .into_iter()
            .map(|lev| {
                let dummy = labels
                    .iter()
                    .map(|l| if l == lev { 1.0 } else { 0.0 })
                    .collect();
                (format!("{column}[{lev}]"), dummy)
            })
            .collect())
    }

    /// A positive weight column.
    pub fn weights(&self, column: &str) -> Result<Vec<f64>> {
        let v = self.numeric(column)?;
        for (&x, &row) in v.iter().zip(&self.rows) {
            if x <= 0.0 {
                return Err(DataError::OutOfRange {
                    column: column.to_string(),
                    row,
                    value: x,
                    expected: "a positive weight".into(),
                });
            }
        }
        Ok(v)
    }
}

fn whole(column: &str, row: usize, x: f64, expected: &str) -> Result<i64> {
    if x.fract() != 0.0 || x.abs() > 9.0e15 {
        return Err(DataError::OutOfRange {
            column: column.to_string(),
            row,
            value: x,
            expected: expected.into(),
        });
    }
    Ok(x as i64)
}

/// Checks that each (unit, period) pair occurs once; the error names the user's unit value,
/// the period and both data rows. `rows[i]` is the data row of entry `i` (as
/// [`MaskedColumns::rows`]).
pub fn check_unique_unit_periods(units: &[String], periods: &[i64], rows: &[usize]) -> Result<()> {
    let mut seen: std::collections::HashMap<(&str, i64), usize> =
        std::collections::HashMap::with_capacity(units.len());
    for (i, (u, &t)) in units.iter().zip(periods).enumerate() {
        if let Some(first) = seen.insert((u.as_str(), t), i) {
            return Err(DataError::DuplicateUnitPeriod {
                unit: u.clone(),
                period: t.to_string(),
                first_row: rows[first],
                second_row: rows[i],
            });
        }
    }
    Ok(())
}

/// Checks that `values` (e.g. a cohort or a cluster column, named `column`) is constant
/// within each unit; the error names the user's unit, both values (as `show` prints them) and
/// both data rows.
pub fn check_constant_within_units<T: PartialEq>(
    column: &str,
    units: &[String],
    values: &[T],
    rows: &[usize],
    show: impl Fn(&T) -> String,
) -> Result<()> {
    let mut first: std::collections::HashMap<&str, usize> =
        std::collections::HashMap::with_capacity(units.len());
    for (i, u) in units.iter().enumerate() {
        let j = *first.entry(u.as_str()).or_insert(i);
        if values[j] != values[i] {
            return Err(DataError::NotConstantWithinUnit {
                column: column.to_string(),
                unit: u.clone(),
                first: show(&values[j]),
                first_row: rows[j],
                second: show(&values[i]),
                second_row: rows[i],
            });
        }
    }
    Ok(())
}
