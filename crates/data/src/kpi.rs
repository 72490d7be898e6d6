//! KPI definitions as data.
//!
//! A KPI is a ratio of sums `Σ numerator / Σ denominator` over the rows (or, at a coarser
//! analysis unit, over the units' sums). Each kind defines the per-row numerator and
//! denominator:
//!
//! | kind | spec | numerator | denominator |
//! |---|---|---|---|
//! | mean | `csat=mean(csat)` | x | 1 |
//! | proportion | `fcr=proportion(fcr)` (x must be 0/1) | x | 1 |
//! | ratio of sums | `aht=ratio(handle_seconds, count)` or `aov=ratio(revenue, orders)` | num | den (or 1 for `count`) |
//! | NPS | `nps=nps(score)` (0–10) | +1 if 9–10, −1 if 0–6, else 0 | 1 |
//! | top-box share | `top2=topbox(csat, 4)` | 1 if x ≥ threshold | 1 |
//! | weighted composite | `r=composite(0.1*click + 0.3*add_to_cart + 1*purchase - 0.5*return)` | Σ wⱼ xⱼ | 1 |
//!
//! So a mean-type KPI is a ratio whose denominator is the row count, and AHT "handle seconds
//! per contact at the agent level" is `ratio(handle_seconds, count)` aggregated by agent. The
//! NPS is the mean of the ±1 score, i.e. share of promoters minus share of detractors.

use crate::dataset::{missing_mask, Dataset, MissingPolicy};
use crate::error::{DataError, Result};
use serde::{Deserialize, Serialize};

/// The denominator of a ratio KPI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Denominator {
    /// The number of rows (e.g. contacts).
    Count,
    /// The sum of a column.
    Column(String),
}

/// How a KPI is computed from rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum KpiKind {
    /// Mean of a numeric column (e.g. CSAT).
    Mean {
        /// The column.
        column: String,
    },
    /// Share of rows with a 0/1 column equal to 1 (e.g. FCR, conversion).
    Proportion {
        /// The 0/1 column.
        column: String,
    },
    /// Ratio of sums (e.g. AHT = handle seconds / contacts, AOV = revenue / orders).
    Ratio {
        /// Numerator column.
        numerator: String,
        /// Denominator.
        denominator: Denominator,
    },
    /// Net promoter score from a 0–10 score: share 9–10 minus share 0–6.
    Nps {
        /// The 0–10 score column.
        column: String,
    },
    /// Share of rows whose value is at least `threshold` (e.g. CSAT 4–5).
    TopBox {
        /// The column.
        column: String,
        /// The smallest value that counts as top box.
        threshold: f64,
    },
    /// A weighted sum of columns per row, averaged (e.g. `0.1 click + 0.3 add_to_cart`).
    Composite {
        /// (column, weight) terms.
        terms: Vec<(String, f64)>,
    },
}

/// A named KPI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kpi {
    /// The KPI's name (e.g. `"aht"`).
    pub name: String,
    /// How it is computed.
    #[serde(flatten)]
    pub kind: KpiKind,
}

fn bad(spec: &str, reason: impl Into<String>) -> DataError {
    DataError::InvalidKpi {
        spec: spec.to_string(),
        reason: reason.into(),
    }
}

fn ident(spec: &str, s: &str) -> Result<String> {
    let s = s.trim();
    if s.is_empty() {
        return Err(bad(spec, "a column name is empty"));
    }
    Ok(s.to_string())
}

impl std::str::FromStr for Kpi {
    type Err = DataError;

    /// Parses `name=kind(args)` (or `kind(args)`, named after the spec). See the module
    /// docs for the kinds.
    ///
    /// ```
    /// use causalkit_data::{Kpi, KpiKind, Denominator};
    /// let k: Kpi = "aht=ratio(handle_seconds, count)".parse().unwrap();
    /// assert_eq!(k.name, "aht");
    /// assert_eq!(k.kind, KpiKind::Ratio { numerator: "handle_seconds".into(), denominator: Denominator::Count });
    /// ```
    fn from_str(spec: &str) -> Result<Kpi> {
        let (name, body) = match spec.split_once('=') {
            Some((n, b)) if !n.contains('(') => (n.trim().to_string(), b.trim()),
            _ => (spec.trim().to_string(), spec.trim()),
        };
        if name.is_empty() {
            return Err(bad(spec, "the KPI name is empty"));
        }
        let open = body
            .find('(')
            .ok_or_else(|| bad(spec, "expected kind(arguments), e.g. mean(csat)"))?;
        if !body.ends_with(')') {
            return Err(bad(spec, "missing closing parenthesis"));
        }
        let kind = body[..open].trim().to_ascii_lowercase();
        let args = &body[open + 1..body.len() - 1];
        let parts: Vec<&str> = args.split(',').collect();
        let nargs = |n: usize| -> Result<()> {
            if parts.len() == n {
                Ok(())
            } else {
                Err(bad(
                    spec,
                    format!("{kind} takes {n} argument(s), got {}", parts.len()),
                ))
            }
        };
        let kind = match kind.as_str() {
            "mean" => {
                nargs(1)?;
                KpiKind::Mean {
                    column: ident(spec, parts[0])?,
                }
            }
            "proportion" | "prop" => {
                nargs(1)?;
                KpiKind::Proportion {
                    column: ident(spec, parts[0])?,
                }
            }
            "ratio" => {
                nargs(2)?;
                let den = ident(spec, parts[1])?;
                let denominator = if den == "count" {
                    Denominator::Count
                } else {
                    Denominator::Column(den)
                };
                KpiKind::Ratio {
                    numerator: ident(spec, parts[0])?,
                    denominator,
                }
            }
            "nps" => {
                nargs(1)?;
                KpiKind::Nps {
                    column: ident(spec, parts[0])?,
                }
            }
            "topbox" | "top_box" => {
                nargs(2)?;
                let threshold: f64 = parts[1].trim().parse().map_err(|_| {
                    bad(
                        spec,
                        format!("threshold `{}` is not a number", parts[1].trim()),
                    )
                })?;
                KpiKind::TopBox {
                    column: ident(spec, parts[0])?,
                    threshold,
                }
            }
            "composite" => KpiKind::Composite {
                terms: parse_terms(spec, args)?,
            },
            other => {
                return Err(bad(
                    spec,
                    format!(
                    "unknown kind `{other}`; use mean, proportion, ratio, nps, topbox or composite"
                ),
                ))
            }
        };
        Ok(Kpi { name, kind })
    }
}

/// Parses `0.1*click + 0.3*add_to_cart - 0.5*return` (a bare column has weight 1).
fn parse_terms(spec: &str, expr: &str) -> Result<Vec<(String, f64)>> {
    let mut terms = Vec::new();
    let normalised = expr.replace('-', "+-");
    for raw in normalised.split('+') {
        let t = raw.trim();
        if t.is_empty() {
            continue;
        }
        let (sign, t) = match t.strip_prefix('-') {
            Some(rest) => (-1.0, rest.trim()),
            None => (1.0, t),
        };
        let (w, c) = match t.split_once('*') {
            Some((w, c)) => {
                let w: f64 = w
                    .trim()
                    .parse()
                    .map_err(|_| bad(spec, format!("weight `{}` is not a number", w.trim())))?;
                (w, ident(spec, c)?)
            }
            None => (1.0, ident(spec, t)?),
        };
        terms.push((c, sign * w));
    }
    if terms.is_empty() {
        return Err(bad(spec, "a composite needs at least one term"));
    }
    Ok(terms)
}

impl Kpi {
    /// The columns this KPI reads.
    pub fn columns(&self) -> Vec<&str> {
        match &self.kind {
            KpiKind::Mean { column }
            | KpiKind::Proportion { column }
            | KpiKind::Nps { column }
            | KpiKind::TopBox { column, .. } => vec![column],
            KpiKind::Ratio {
                numerator,
                denominator,
            } => match denominator {
                Denominator::Count => vec![numerator],
                Denominator::Column(d) => vec![numerator, d],
            },
            KpiKind::Composite { terms } => terms.iter().map(|(c, _)| c.as_str()).collect(),
        }
    }

    /// Whether the KPI is a ratio of two column sums (so its variance needs the delta
    /// method even at the row level).
    pub fn is_ratio(&self) -> bool {
        matches!(
            self.kind,
            KpiKind::Ratio {
                denominator: Denominator::Column(_),
                ..
            }
        )
    }

    /// Per-row numerator and denominator, validated; rows with a missing input are an error
    /// or dropped per `policy` (the mask of rows kept is returned with the values).
    pub fn row_values(&self, data: &Dataset, policy: MissingPolicy) -> Result<RowValues> {
        let n = data.height();
        let cols: Vec<(String, Vec<Option<f64>>)> = self
            .columns()
            .into_iter()
            .map(|c| Ok((c.to_string(), data.numeric(c)?)))
            .collect::<Result<_>>()?;
        let presence: Vec<(&str, Vec<bool>)> = cols
            .iter()
            .map(|(c, v)| (c.as_str(), v.iter().map(Option::is_some).collect()))
            .collect();
        let (keep, dropped) = missing_mask(&presence, n, policy)?;
        let get = |j: usize, i: usize| cols[j].1[i].unwrap_or(0.0);
        let mut num = Vec::with_capacity(n);
        let mut den = Vec::with_capacity(n);
        for (i, &kept) in keep.iter().enumerate() {
            if !kept {
                num.push(0.0);
                den.push(0.0);
                continue;
            }
            let (a, b) = match &self.kind {
                KpiKind::Mean { .. } => (get(0, i), 1.0),
                KpiKind::Proportion { column } => {
                    let x = get(0, i);
                    if x != 0.0 && x != 1.0 {
                        return Err(DataError::OutOfRange {
                            column: column.clone(),
                            row: i,
                            value: x,
                            expected: "0 or 1 for a proportion".into(),
                        });
                    }
                    (x, 1.0)
                }
                KpiKind::Ratio { denominator, .. } => {
                    let d = match denominator {
                        Denominator::Count => 1.0,
                        Denominator::Column(c) => {
                            let d = get(1, i);
                            if d < 0.0 {
                                return Err(DataError::OutOfRange {
                                    column: c.clone(),
                                    row: i,
                                    value: d,
                                    expected: "a non-negative denominator".into(),
                                });
                            }
                            d
                        }
                    };
                    (get(0, i), d)
                }
                KpiKind::Nps { column } => {
                    let x = get(0, i);
                    if !(0.0..=10.0).contains(&x) || x.fract() != 0.0 {
                        return Err(DataError::OutOfRange {
                            column: column.clone(),
                            row: i,
                            value: x,
                            expected: "an integer score from 0 to 10".into(),
                        });
                    }
                    (
                        if x >= 9.0 {
                            1.0
                        } else if x <= 6.0 {
                            -1.0
                        } else {
                            0.0
                        },
                        1.0,
                    )
                }
                KpiKind::TopBox { threshold, .. } => {
                    (if get(0, i) >= *threshold { 1.0 } else { 0.0 }, 1.0)
                }
                KpiKind::Composite { terms } => (
                    terms
                        .iter()
                        .enumerate()
                        .map(|(j, (_, w))| w * get(j, i))
                        .sum(),
                    1.0,
                ),
            };
            num.push(a);
            den.push(b);
        }
        Ok(RowValues {
            numerator: num,
            denominator: den,
            keep,
            dropped,
        })
    }
}

/// Per-row numerator and denominator of a KPI.
#[derive(Debug, Clone, PartialEq)]
pub struct RowValues {
    /// Numerator per row (0 for dropped rows).
    pub numerator: Vec<f64>,
    /// Denominator per row (0 for dropped rows).
    pub denominator: Vec<f64>,
    /// Which rows are used.
    pub keep: Vec<bool>,
    /// How many rows were dropped for missing values.
    pub dropped: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind() {
        let k: Kpi = "fcr=proportion(fcr)".parse().unwrap();
        assert_eq!(
            k.kind,
            KpiKind::Proportion {
                column: "fcr".into()
            }
        );
        let k: Kpi = "mean(csat)".parse().unwrap();
        assert_eq!(k.name, "mean(csat)");
        let k: Kpi = "t=topbox(csat, 4)".parse().unwrap();
        assert_eq!(
            k.kind,
            KpiKind::TopBox {
                column: "csat".into(),
                threshold: 4.0
            }
        );
        let k: Kpi = "r=composite(0.1*click + 0.3*add_to_cart + purchase - 0.5*return)"
            .parse()
            .unwrap();
        assert_eq!(
            k.kind,
            KpiKind::Composite {
                terms: vec![
                    ("click".into(), 0.1),
                    ("add_to_cart".into(), 0.3),
                    ("purchase".into(), 1.0),
                    ("return".into(), -0.5)
                ]
            }
        );
        let k: Kpi = "aov=ratio(revenue, orders)".parse().unwrap();
        assert!(k.is_ratio());
        assert_eq!(k.columns(), vec!["revenue", "orders"]);
    }

    #[test]
    fn bad_specs_say_why() {
        for s in [
            "x=median(a)",
            "x=mean(a, b)",
            "x=mean(a",
            "x=topbox(a, high)",
            "=mean(a)",
            "x=composite(2*)",
            "x=mean()",
        ] {
            let e = s.parse::<Kpi>().unwrap_err();
            assert!(matches!(e, DataError::InvalidKpi { .. }), "{s}: {e}");
        }
    }

    #[test]
    fn json_round_trip() {
        let k: Kpi = "aht=ratio(handle_seconds, count)".parse().unwrap();
        let j = serde_json::to_string(&k).unwrap();
        assert_eq!(serde_json::from_str::<Kpi>(&j).unwrap(), k);
    }
}
