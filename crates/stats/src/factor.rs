//! Categorical variables as dense integer codes.

use crate::error::{check_len, Result, StatsError};
use std::collections::HashMap;
use std::hash::Hash;

/// Codes of `labels` in `0..levels`, in order of first appearance, and each level's first
/// label (the coding of [`Factor::from_labels`], without turning levels into text).
///
/// ```
/// let (codes, levels) = causalkit_stats::factor::codes_in_order([Some("b"), None, Some("b")]);
/// assert_eq!(codes, vec![0, 1, 0]);
/// assert_eq!(levels, vec![Some("b"), None]);
/// ```
pub fn codes_in_order<T: Hash + Eq + Clone>(
    labels: impl IntoIterator<Item = T>,
) -> (Vec<u32>, Vec<T>) {
    let mut map: HashMap<T, u32> = HashMap::new();
    let mut levels = Vec::new();
    let codes = labels
        .into_iter()
        .map(|l| {
            *map.entry(l).or_insert_with_key(|l| {
                levels.push(l.clone());
                (levels.len() - 1) as u32
            })
        })
        .collect();
    (codes, levels)
}

/// A categorical variable: one code in `0..levels` per row, plus the level labels.
///
/// Factors identify fixed effects and clusters. Build one from any hashable labels with
/// [`Factor::from_labels`]; codes follow the order of first appearance.
#[derive(Debug, Clone, PartialEq)]
pub struct Factor {
    name: String,
    codes: Vec<u32>,
    labels: Vec<String>,
}

impl Factor {
    /// Builds a factor from row labels, coding levels in order of first appearance.
    ///
    /// ```
    /// use causalkit_stats::Factor;
    /// let f = Factor::from_labels("site", &["a", "b", "a"]);
    /// assert_eq!(f.levels(), 2);
    /// assert_eq!(f.codes(), &[0, 1, 0]);
    /// ```
    pub fn from_labels<T: Hash + Eq + ToString>(name: &str, labels: &[T]) -> Self {
        let (codes, levels) = codes_in_order(labels);
        Factor {
            name: name.to_string(),
            codes,
            labels: levels.into_iter().map(|l| l.to_string()).collect(),
        }
    }

    /// Builds a factor from codes already in `0..levels`; labels are the codes as text.
    pub fn from_codes(name: &str, codes: Vec<u32>, levels: usize) -> Result<Self> {
        if let Some(row) = codes.iter().position(|&c| c as usize >= levels) {
            return Err(StatsError::OutOfRange {
                variable: name.to_string(),
                row,
                value: codes[row] as f64,
                expected: format!("a code below {levels}"),
            });
        }
        Ok(Factor {
            name: name.to_string(),
            codes,
            labels: (0..levels).map(|i| i.to_string()).collect(),
        })
    }

    /// The variable name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// One code per row.
    pub fn codes(&self) -> &[u32] {
        &self.codes
    }
    /// Number of levels.
    pub fn levels(&self) -> usize {
        self.labels.len()
    }
    /// Level labels, indexed by code.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.codes.len()
    }
    /// Whether the factor has no rows.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// Whether every level of `self` lies inside a single level of `outer`
    /// (e.g. counties nested in states).
    pub fn is_nested_in(&self, outer: &Factor) -> Result<bool> {
        check_len(outer.name(), outer.len(), self.len())?;
        let mut owner = vec![u32::MAX; self.levels()];
        for (&c, &o) in self.codes.iter().zip(outer.codes.iter()) {
            let slot = &mut owner[c as usize];
            if *slot == u32::MAX {
                *slot = o;
            } else if *slot != o {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The factor whose levels are the observed combinations of `self` and `other`
    /// (used for the intersection term of two-way clustering).
    pub fn interact(&self, other: &Factor) -> Result<Factor> {
        check_len(other.name(), other.len(), self.len())?;
        let mut map: HashMap<(u32, u32), u32> = HashMap::new();
        let mut labels = Vec::new();
        let codes = self
            .codes
            .iter()
            .zip(other.codes.iter())
            .map(|(&a, &b)| {
                *map.entry((a, b)).or_insert_with(|| {
                    labels.push(format!(
                        "{}:{}",
                        self.labels[a as usize], other.labels[b as usize]
                    ));
                    (labels.len() - 1) as u32
                })
            })
            .collect();
        Ok(Factor {
            name: format!("{}:{}", self.name, other.name),
            codes,
            labels,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_and_interaction() {
        let county = Factor::from_labels("county", &[1, 1, 2, 2, 3, 3]);
        let state = Factor::from_labels("state", &["a", "a", "a", "a", "b", "b"]);
        let year = Factor::from_labels("year", &[1, 2, 1, 2, 1, 2]);
        assert!(county.is_nested_in(&state).unwrap());
        assert!(!state.is_nested_in(&county).unwrap());
        assert!(!year.is_nested_in(&state).unwrap());
        let cy = county.interact(&year).unwrap();
        assert_eq!(cy.levels(), 6);
        assert_eq!(cy.labels()[0], "1:1");
    }

    #[test]
    fn bad_codes_are_named() {
        let e = Factor::from_codes("g", vec![0, 3], 2).unwrap_err();
        assert!(matches!(e, StatsError::OutOfRange { row: 1, .. }));
    }
}
