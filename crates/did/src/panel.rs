//! The input of the staggered-adoption estimators: a validated unit × period panel.

use crate::error::{invalid, DidError, Result};
use causalkit_stats::error::{check_finite, check_len};
use causalkit_stats::{Factor, Vcov};
use std::collections::{BTreeSet, HashMap};

/// A unit × period panel with staggered adoption (one row per observed unit-period;
/// unbalanced panels are allowed).
///
/// `cohort[i]` is the first treated period of the row's unit (`None` = never treated);
/// it must be constant within a unit. With anticipation `K`, a row is *treated* when
/// `time >= cohort - K`.
///
/// Invariant (checked by [`StaggeredPanel::new`] and the `with_*` builders): each (unit,
/// period) occurs once, the cohort is constant within a unit, outcomes, covariates and
/// weights are finite and weights positive. Callaway–Sant'Anna takes [`crate::cs::CsData`]
/// instead, which also allows repeated cross-sections and zero sampling weights.
#[derive(Debug, Clone)]
pub struct StaggeredPanel {
    /// Unit of each row.
    pub unit: Factor,
    /// Period of each row (integers: years, days, weeks...).
    pub time: Vec<i64>,
    /// Outcome of each row.
    pub outcome: Vec<f64>,
    /// First treated period of the row's unit, `None` for never-treated units.
    pub cohort: Vec<Option<i64>>,
    /// Optional analytic (regression) weights, positive.
    pub weights: Option<Vec<f64>>,
    /// Named covariates entering the regressions linearly.
    pub covariates: Vec<(String, Vec<f64>)>,
    /// Number of periods of anticipation (treatment starts to act `K` periods before the
    /// cohort period). Default 0.
    pub anticipation: i64,
    /// Name of the outcome (the user's column), shown in the regressions' diagnostics.
    /// Default `"outcome"`.
    pub outcome_name: String,
}

impl StaggeredPanel {
    /// A panel from its columns, with no weights, covariates or anticipation. Errors name
    /// the row of a non-finite outcome, a unit whose cohort changes, or a duplicate
    /// unit-period.
    pub fn new(
        unit: Factor,
        time: Vec<i64>,
        outcome: Vec<f64>,
        cohort: Vec<Option<i64>>,
    ) -> Result<Self> {
        let p = StaggeredPanel {
            unit,
            time,
            outcome,
            cohort,
            weights: None,
            covariates: Vec::new(),
            anticipation: 0,
            outcome_name: "outcome".into(),
        };
        p.validate()?;
        Ok(p)
    }

    /// Adds analytic weights (builder style; validated).
    pub fn with_weights(mut self, w: Vec<f64>) -> Result<Self> {
        self.weights = Some(w);
        self.validate()?;
        Ok(self)
    }

    /// Adds a covariate (builder style; validated).
    pub fn with_covariate(mut self, name: &str, values: Vec<f64>) -> Result<Self> {
        self.covariates.push((name.to_string(), values));
        self.validate()?;
        Ok(self)
    }

    /// Names the outcome (the user's column) for the diagnostics (builder style).
    pub fn with_outcome_name(mut self, name: &str) -> Self {
        self.outcome_name = name.to_string();
        self
    }

    /// Sets the number of anticipation periods (builder style).
    pub fn with_anticipation(mut self, k: i64) -> Result<Self> {
        if k < 0 {
            return Err(invalid("anticipation", format!("{k} is negative")));
        }
        self.anticipation = k;
        Ok(self)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.time.len()
    }

    /// Whether the panel has no rows.
    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    /// Checks lengths, finiteness, positive weights, constant cohorts within units and
    /// unique unit-periods.
    pub fn validate(&self) -> Result<()> {
        let n = self.time.len();
        if n == 0 {
            return Err(causalkit_stats::StatsError::InsufficientData(
                "the panel has no rows".into(),
            )
            .into());
        }
        check_len("unit", self.unit.len(), n)?;
        check_len("outcome", self.outcome.len(), n)?;
        check_len("cohort", self.cohort.len(), n)?;
        check_finite("outcome", &self.outcome)?;
        if let Some(w) = &self.weights {
            check_len("weights", w.len(), n)?;
            check_finite("weights", w)?;
            if let Some(row) = w.iter().position(|&v| v <= 0.0) {
                return Err(causalkit_stats::StatsError::OutOfRange {
                    variable: "weights".into(),
                    row,
                    value: w[row],
                    expected: "a positive weight".into(),
                }
                .into());
            }
        }
        for (name, c) in &self.covariates {
            check_len(name, c.len(), n)?;
            check_finite(name, c)?;
        }
        let levels = self.unit.levels();
        let mut seen: Vec<Option<Option<i64>>> = vec![None; levels];
        for (i, &u) in self.unit.codes().iter().enumerate() {
            let c = self.cohort[i];
            match seen[u as usize] {
                None => seen[u as usize] = Some(c),
                Some(prev) if prev != c => {
                    let show = |c: Option<i64>| c.map_or("never".to_string(), |v| v.to_string());
                    return Err(DidError::CohortNotConstant {
                        unit: self.unit.labels()[u as usize].clone(),
                        first: show(prev),
                        second: show(c),
                    });
                }
                _ => {}
            }
        }
        // Duplicate unit-periods: a bitmap over unit x period cells when it is small
        // enough (the usual case), otherwise a sort of packed cell ids.
        let periods = self.periods();
        let tcodes = self.time_codes(&periods);
        let nt = periods.len();
        let cells = levels.saturating_mul(nt);
        let codes = self.unit.codes();
        let dup = |i: usize| DidError::DuplicateUnitPeriod {
            unit: self.unit.labels()[codes[i] as usize].clone(),
            period: self.time[i],
        };
        if cells <= 8 * n + 1024 {
            let mut seen = vec![false; cells];
            for i in 0..n {
                let c = codes[i] as usize * nt + tcodes[i] as usize;
                if seen[c] {
                    return Err(dup(i));
                }
                seen[c] = true;
            }
        } else {
            let mut ids: Vec<(u64, usize)> = (0..n)
                .map(|i| ((codes[i] as u64) * nt as u64 + tcodes[i] as u64, i))
                .collect();
            ids.sort_unstable();
            if let Some(w) = ids.windows(2).find(|w| w[0].0 == w[1].0) {
                return Err(dup(w[1].1));
            }
        }
        Ok(())
    }

    /// Whether row `i` is treated: `time >= cohort - anticipation`.
    pub fn is_treated(&self, i: usize) -> bool {
        matches!(self.cohort[i], Some(g) if self.time[i] >= g - self.anticipation)
    }

    /// The treatment indicator of every row.
    pub fn treated(&self) -> Vec<f64> {
        (0..self.len())
            .map(|i| if self.is_treated(i) { 1.0 } else { 0.0 })
            .collect()
    }

    /// Relative period `time - cohort` of row `i` (None for never-treated units).
    pub fn relative_time(&self, i: usize) -> Option<i64> {
        self.cohort[i].map(|g| self.time[i] - g)
    }

    /// The distinct periods, sorted.
    pub fn periods(&self) -> Vec<i64> {
        self.time
            .iter()
            .copied()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    /// The distinct treatment cohorts, sorted (never-treated excluded).
    pub fn cohorts(&self) -> Vec<i64> {
        self.cohort
            .iter()
            .flatten()
            .copied()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    /// The time factor (levels in sorted period order).
    pub fn time_factor(&self) -> Factor {
        let periods = self.periods();
        let codes = self.time_codes(&periods);
        // from_codes only fails for codes out of range, which cannot happen here.
        Factor::from_codes("time", codes, periods.len()).expect("codes in range")
    }

    /// Period codes: the position of each row's period in `periods` (sorted, distinct).
    fn time_codes(&self, periods: &[i64]) -> Vec<u32> {
        self.time
            .iter()
            .map(|t| periods.binary_search(t).expect("every period is listed") as u32)
            .collect()
    }

    /// Number of treated units (units whose cohort is set and observed treated at least once).
    pub fn treated_units(&self) -> usize {
        let mut s = vec![false; self.unit.levels()];
        for i in 0..self.len() {
            if self.is_treated(i) {
                s[self.unit.codes()[i] as usize] = true;
            }
        }
        s.iter().filter(|v| **v).count()
    }

    /// Checks that the staggered design is identified for a regression with unit and
    /// time effects: some treated row, some untreated row, every cohort observed untreated
    /// at least once.
    pub fn check_design(&self) -> Result<()> {
        if !(0..self.len()).any(|i| self.is_treated(i)) {
            return Err(DidError::NoTreated(
                "no row has time >= cohort - anticipation".into(),
            ));
        }
        if (0..self.len()).all(|i| self.is_treated(i)) {
            return Err(DidError::NoControls("every row is treated".into()));
        }
        let first = *self.time.iter().min().expect("non-empty");
        // (has an untreated row, has a treated row) per cohort.
        let mut seen: std::collections::BTreeMap<i64, (bool, bool)> = Default::default();
        for i in 0..self.len() {
            if let Some(g) = self.cohort[i] {
                let e = seen.entry(g).or_default();
                if self.is_treated(i) {
                    e.1 = true;
                } else {
                    e.0 = true;
                }
            }
        }
        for (g, (has_pre, has_post)) in seen {
            if has_post && !has_pre {
                return Err(DidError::NoPrePeriod {
                    cohort: g,
                    first_period: first,
                });
            }
        }
        Ok(())
    }

    /// The rows `rows` of the panel (unit labels kept).
    pub fn subset(&self, rows: &[usize]) -> StaggeredPanel {
        let labels: Vec<&str> = rows
            .iter()
            .map(|&i| self.unit.labels()[self.unit.codes()[i] as usize].as_str())
            .collect();
        let pick = |v: &[f64]| -> Vec<f64> { rows.iter().map(|&i| v[i]).collect() };
        StaggeredPanel {
            unit: Factor::from_labels(self.unit.name(), &labels),
            time: rows.iter().map(|&i| self.time[i]).collect(),
            outcome: pick(&self.outcome),
            cohort: rows.iter().map(|&i| self.cohort[i]).collect(),
            weights: self.weights.as_ref().map(|w| pick(w)),
            covariates: self
                .covariates
                .iter()
                .map(|(n, c)| (n.clone(), pick(c)))
                .collect(),
            anticipation: self.anticipation,
            outcome_name: self.outcome_name.clone(),
        }
    }

    /// Periods in which every observed row is treated (no comparison row).
    pub fn fully_treated_periods(&self) -> Vec<i64> {
        let mut any_control: HashMap<i64, bool> = HashMap::new();
        for i in 0..self.len() {
            let e = any_control.entry(self.time[i]).or_insert(false);
            *e |= !self.is_treated(i);
        }
        let mut v: Vec<i64> = any_control
            .into_iter()
            .filter(|(_, c)| !c)
            .map(|(t, _)| t)
            .collect();
        v.sort_unstable();
        v
    }

    /// The default variance: CRV1 clustered by unit.
    pub fn default_vcov(&self) -> Vcov {
        Vcov::Cluster(self.unit.clone())
    }
}

/// The mean outcome of one adoption cohort in each period it is observed (a cohort-trend
/// line of the descriptive "raw trends" chart).
#[derive(Debug, Clone, PartialEq)]
pub struct CohortTrend {
    /// The cohort (first treated period); `None` for never-treated units.
    pub cohort: Option<i64>,
    /// The periods, sorted.
    pub periods: Vec<i64>,
    /// The unweighted mean outcome of the cohort's rows in each period.
    pub mean: Vec<f64>,
}

/// Mean outcome by cohort and period (rows averaged with equal weight), cohorts in order
/// with never-treated first. Inputs are parallel per-row slices.
pub fn cohort_trends(time: &[i64], cohort: &[Option<i64>], y: &[f64]) -> Vec<CohortTrend> {
    let mut acc: std::collections::BTreeMap<
        Option<i64>,
        std::collections::BTreeMap<i64, (f64, f64)>,
    > = Default::default();
    for ((&t, &g), &v) in time.iter().zip(cohort).zip(y) {
        let e = acc.entry(g).or_default().entry(t).or_insert((0.0, 0.0));
        e.0 += v;
        e.1 += 1.0;
    }
    acc.into_iter()
        .map(|(g, m)| CohortTrend {
            cohort: g,
            periods: m.keys().copied().collect(),
            mean: m.values().map(|(s, n)| s / n).collect(),
        })
        .collect()
}

#[cfg(test)]
mod trend_tests {
    use super::*;

    #[test]
    fn cohort_trends_average_rows_by_cohort_and_period() {
        let t = [1, 2, 1, 2, 1];
        let g = [Some(2), Some(2), None, None, Some(2)];
        let y = [1.0, 3.0, 10.0, 20.0, 2.0];
        let tr = cohort_trends(&t, &g, &y);
        assert_eq!(tr.len(), 2);
        assert_eq!(tr[0].cohort, None);
        assert_eq!(tr[0].periods, [1, 2]);
        assert!((tr[0].mean[0] - 10.0).abs() < 1e-12 && (tr[0].mean[1] - 20.0).abs() < 1e-12);
        assert_eq!(tr[1].cohort, Some(2));
        assert!((tr[1].mean[0] - 1.5).abs() < 1e-12 && (tr[1].mean[1] - 3.0).abs() < 1e-12);
    }
}
