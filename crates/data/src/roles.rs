//! Column roles: which column is the unit, the period, the arm, the KPIs, the covariates,
//! the cluster and the weight — named by the user once, validated once.

use crate::dataset::Dataset;
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
                if v.iter().all(|x| x == first) {
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
