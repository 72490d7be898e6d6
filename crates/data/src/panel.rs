//! Unit × period panels: built from event-level rows, or read and validated as given.

use crate::dataset::{missing_mask, Dataset, MissingPolicy};
use crate::error::{DataError, Result};
use crate::kpi::Kpi;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A unit × period panel, one row per observed cell, sorted by unit then period.
///
/// Invariant: each (unit, period) occurs once; rows are sorted by unit, then period; every
/// column of `values` and `weights` has one entry per row, and each KPI's cell weight is
/// positive (a cell without usable events is an error, never a NaN value). The panel may be
/// unbalanced ([`Panel::balance`]). This is the data layer's estimator-agnostic KPI panel; the
/// estimators' own panel types (DiD's `StaggeredPanel` and `CsData`, synthetic control's
/// balanced `SynthPanel`) are built from it or from [`crate::design::PanelColumns`] (see
/// ARCHITECTURE.md, "Panel types and their invariants").
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// Unit label per row.
    pub unit: Vec<String>,
    /// Period per row (an integer: day, year, week number, ...).
    pub period: Vec<i64>,
    /// Outcome columns (KPI values, or the columns read), each one value per row.
    pub values: BTreeMap<String, Vec<f64>>,
    /// Cell weights: the KPI denominator summed over the cell's events (for count
    /// denominators, the number of events). All 1 for a panel read as given.
    pub weights: BTreeMap<String, Vec<f64>>,
    /// Balance report.
    pub balance: Balance,
    /// Rows dropped for missing values.
    pub dropped_rows: usize,
}

/// Whether every unit is observed in every period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    /// Number of units.
    pub units: usize,
    /// Number of distinct periods.
    pub periods: usize,
    /// Cells observed.
    pub cells: usize,
    /// Units × periods − cells.
    pub missing_cells: usize,
}

impl Balance {
    /// True when no unit-period cell is missing.
    pub fn is_balanced(&self) -> bool {
        self.missing_cells == 0
    }

    /// The balance of cells given by their unit and period (each cell once).
    pub fn of(unit: &[String], period: &[i64]) -> Balance {
        let units: BTreeSet<&String> = unit.iter().collect();
        let periods: BTreeSet<i64> = period.iter().copied().collect();
        let cells = unit.len();
        Balance {
            units: units.len(),
            periods: periods.len(),
            cells,
            missing_cells: units.len() * periods.len() - cells,
        }
    }

    /// A one-line description, e.g. `"unbalanced panel: 500 units x 5 periods, 12 cells missing"`.
    pub fn describe(&self) -> String {
        if self.is_balanced() {
            format!(
                "balanced panel: {} units x {} periods",
                self.units, self.periods
            )
        } else {
            format!(
                "unbalanced panel: {} units x {} periods, {} of {} cells missing",
                self.units,
                self.periods,
                self.missing_cells,
                self.units * self.periods
            )
        }
    }
}

fn periods(data: &Dataset, time: &str) -> Result<Vec<Option<i64>>> {
    let v = data.numeric(time)?;
    v.iter()
        .enumerate()
        .map(|(row, x)| match x {
            None => Ok(None),
            Some(t) if t.fract() == 0.0 => Ok(Some(*t as i64)),
            Some(t) => Err(DataError::OutOfRange {
                column: time.to_string(),
                row,
                value: *t,
                expected: "a whole-number period".into(),
            }),
        })
        .collect()
}

impl Panel {
    /// Builds a panel from event-level rows (one per contact, order, session): each KPI's
    /// numerator and denominator are summed within unit × period, the cell value is their
    /// ratio and the cell weight the summed denominator. Cells where a KPI has no events are
    /// absent from that KPI's weights (weight 0, value NaN is never produced: such cells are
    /// reported as missing instead).
    pub fn from_events(
        data: &Dataset,
        unit: &str,
        time: &str,
        kpis: &[Kpi],
        policy: MissingPolicy,
    ) -> Result<Panel> {
        let times = periods(data, time)?;
        Self::from_period_rows(data, unit, time, &times, kpis, policy)
    }

    /// As [`Panel::from_events`], with each row's period given (`periods[i]` for data row
    /// `i`, `None` where the time column `time` is missing) — e.g. dates grouped into periods
    /// of several days ([`crate::design::kpi_panel`]).
    pub fn from_period_rows(
        data: &Dataset,
        unit: &str,
        time: &str,
        periods: &[Option<i64>],
        kpis: &[Kpi],
        policy: MissingPolicy,
    ) -> Result<Panel> {
        let n = data.height();
        let units = data.labels(unit)?;
        let times = periods;
        let presence = vec![
            (unit, units.iter().map(Option::is_some).collect::<Vec<_>>()),
            (time, times.iter().map(Option::is_some).collect()),
        ];
        let (keep, _) = missing_mask(&presence, n, policy)?;
        // Cells in sorted (unit, period) order, and each kept row's cell, computed once.
        let sorted: Vec<(String, i64)> = (0..n)
            .filter(|&i| keep[i])
            .map(|i| {
                (
                    units[i].clone().unwrap_or_default(),
                    times[i].unwrap_or_default(),
                )
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let pos: HashMap<(&str, i64), usize> = sorted
            .iter()
            .enumerate()
            .map(|(c, k)| ((k.0.as_str(), k.1), c))
            .collect();
        let cell_of_row: Vec<Option<usize>> = (0..n)
            .map(|i| {
                keep[i].then(|| {
                    pos[&(
                        units[i].as_deref().unwrap_or_default(),
                        times[i].unwrap_or_default(),
                    )]
                })
            })
            .collect();
        let cells = sorted.len();
        if cells == 0 {
            return Err(DataError::EmptyGroup(
                "no rows with both a unit and a period".into(),
            ));
        }
        let mut values = BTreeMap::new();
        let mut weights = BTreeMap::new();
        let mut dropped_rows = keep.iter().filter(|k| !**k).count();
        for kpi in kpis {
            let rv = kpi.row_values(data, policy)?;
            dropped_rows = dropped_rows.max(
                rv.keep
                    .iter()
                    .zip(&keep)
                    .filter(|(a, b)| !(**a && **b))
                    .count(),
            );
            let mut num = vec![0.0; cells];
            let mut den = vec![0.0; cells];
            for (i, cell) in cell_of_row.iter().enumerate() {
                let Some(c) = *cell else { continue };
                if !rv.keep[i] {
                    continue;
                }
                num[c] += rv.numerator[i];
                den[c] += rv.denominator[i];
            }
            if let Some(c) = den.iter().position(|d| *d == 0.0) {
                return Err(DataError::EmptyGroup(format!(
                    "KPI `{}` has no usable events (zero denominator) for unit `{}` in period {}; drop the cell or choose a coarser period",
                    kpi.name, sorted[c].0, sorted[c].1
                )));
            }
            values.insert(
                kpi.name.clone(),
                num.iter().zip(&den).map(|(a, b)| a / b).collect(),
            );
            weights.insert(kpi.name.clone(), den);
        }
        let unit_col: Vec<String> = sorted.iter().map(|k| k.0.clone()).collect();
        let period_col: Vec<i64> = sorted.iter().map(|k| k.1).collect();
        let balance = Balance::of(&unit_col, &period_col);
        Ok(Panel {
            unit: unit_col,
            period: period_col,
            values,
            weights,
            balance,
            dropped_rows,
        })
    }

    /// Reads a panel that is already one row per unit × period, validating it: a duplicate
    /// unit-period is a [`DataError::DuplicateUnitPeriod`] naming both rows; missing values
    /// are an error or dropped per `policy`; imbalance is reported in [`Panel::balance`].
    pub fn from_rows(
        data: &Dataset,
        unit: &str,
        time: &str,
        columns: &[&str],
        policy: MissingPolicy,
    ) -> Result<Panel> {
        let n = data.height();
        let units = data.labels(unit)?;
        let times = periods(data, time)?;
        let cols: Vec<Vec<Option<f64>>> = columns
            .iter()
            .map(|c| data.numeric(c))
            .collect::<Result<_>>()?;
        let mut presence = vec![
            (unit, units.iter().map(Option::is_some).collect::<Vec<_>>()),
            (time, times.iter().map(Option::is_some).collect()),
        ];
        for (c, v) in columns.iter().zip(&cols) {
            presence.push((c, v.iter().map(Option::is_some).collect()));
        }
        let (keep, dropped_rows) = missing_mask(&presence, n, policy)?;
        let mut seen: HashMap<(String, i64), usize> = HashMap::new();
        let mut rows: Vec<usize> = Vec::new();
        for i in (0..n).filter(|&i| keep[i]) {
            let key = (
                units[i].clone().unwrap_or_default(),
                times[i].unwrap_or_default(),
            );
            if let Some(first) = seen.insert(key.clone(), i) {
                return Err(DataError::DuplicateUnitPeriod {
                    unit: key.0,
                    period: key.1.to_string(),
                    first_row: first,
                    second_row: i,
                });
            }
            rows.push(i);
        }
        if rows.is_empty() {
            return Err(DataError::EmptyGroup("the panel has no usable rows".into()));
        }
        rows.sort_by(|&a, &b| {
            (units[a].as_deref(), times[a]).cmp(&(units[b].as_deref(), times[b]))
        });
        let unit_col: Vec<String> = rows
            .iter()
            .map(|&i| units[i].clone().unwrap_or_default())
            .collect();
        let period_col: Vec<i64> = rows.iter().map(|&i| times[i].unwrap_or_default()).collect();
        let mut values = BTreeMap::new();
        let mut weights = BTreeMap::new();
        for (c, v) in columns.iter().zip(&cols) {
            values.insert(
                c.to_string(),
                rows.iter().map(|&i| v[i].unwrap_or_default()).collect(),
            );
            weights.insert(c.to_string(), vec![1.0; rows.len()]);
        }
        let balance = Balance::of(&unit_col, &period_col);
        Ok(Panel {
            unit: unit_col,
            period: period_col,
            values,
            weights,
            balance,
            dropped_rows,
        })
    }

    /// Number of rows (observed cells).
    pub fn len(&self) -> usize {
        self.unit.len()
    }

    /// Whether the panel has no rows.
    pub fn is_empty(&self) -> bool {
        self.unit.is_empty()
    }
}
