//! Fit once, score many: feature encoding, a seeded train/test split, one fitted model of
//! any kind (meta-learner, uplift tree or forest) and a versioned serde file.
//!
//! Feature handling (done here so users never hand-make a one-hot):
//! - numeric columns are used as they are;
//! - text (categorical) columns are replaced by **ordinal codes by mean outcome**: the
//!   categories seen in the training rows are sorted by their mean outcome (all arms pooled,
//!   ties by name) and coded `0, 1, 2, ...`; a category not seen in training is an
//!   [`UpliftError::UnknownCategory`] when scoring;
//! - a missing value is an [`UpliftError::Missing`] naming the column and row, unless
//!   `allow_missing` is set: then a numeric gap takes the training median of its column and
//!   a text gap is its own category (`<missing>`).

use crate::error::{invalid, Result, UpliftError};
use crate::forest::{ForestOptions, UpliftForest};
use crate::meta::{BaseModel, MetaFit, MetaLearner};
use crate::tree::{TreeOptions, UpliftTree};
use crate::Binned;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Version of the saved-model format written by [`SavedModel::to_json`].
pub const FORMAT_VERSION: u32 = 1;

/// The label a missing text value gets when missing values are allowed.
pub const MISSING_LEVEL: &str = "<missing>";

/// One raw feature column as read from a file.
#[derive(Debug, Clone, PartialEq)]
pub enum RawColumn {
    /// Numbers (missing as `None`).
    Numeric(Vec<Option<f64>>),
    /// Text categories (missing as `None`).
    Text(Vec<Option<String>>),
}

impl RawColumn {
    fn len(&self) -> usize {
        match self {
            RawColumn::Numeric(v) => v.len(),
            RawColumn::Text(v) => v.len(),
        }
    }
}

/// How one column is turned into numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ColumnEncoder {
    /// A numeric column; `impute` is the training median used for gaps (when allowed).
    Numeric {
        /// Training median (`None` when missing values were not allowed).
        impute: Option<f64>,
    },
    /// A text column coded by the training mean outcome of each category.
    Ordinal {
        /// Categories in code order (code = position).
        levels: Vec<String>,
    },
}

/// The fitted feature encoding of every column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureEncoder {
    /// Column names.
    pub names: Vec<String>,
    /// One encoder per column.
    pub columns: Vec<ColumnEncoder>,
    /// Whether missing values are imputed (otherwise they are an error).
    pub allow_missing: bool,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        0.5 * (v[m - 1] + v[m])
    })
}

impl FeatureEncoder {
    /// Learns the encoding on the training rows `rows` (`y` is the outcome of every row).
    pub fn fit(
        names: &[String],
        raw: &[RawColumn],
        y: &[f64],
        rows: &[usize],
        allow_missing: bool,
    ) -> Result<Self> {
        if names.len() != raw.len() {
            return Err(UpliftError::LengthMismatch {
                what: "feature names".into(),
                got: names.len(),
                expected: raw.len(),
            });
        }
        let mut columns = Vec::with_capacity(raw.len());
        for (name, col) in names.iter().zip(raw) {
            if col.len() != y.len() {
                return Err(UpliftError::LengthMismatch {
                    what: name.clone(),
                    got: col.len(),
                    expected: y.len(),
                });
            }
            columns.push(match col {
                RawColumn::Numeric(v) => {
                    if !allow_missing {
                        if let Some(row) = v.iter().position(Option::is_none) {
                            return Err(UpliftError::Missing {
                                column: name.clone(),
                                row,
                            });
                        }
                        ColumnEncoder::Numeric { impute: None }
                    } else {
                        let seen: Vec<f64> = rows.iter().filter_map(|&i| v[i]).collect();
                        let m = median(seen).ok_or_else(|| {
                            UpliftError::InsufficientData(format!(
                                "feature `{name}` has no value in the training rows"
                            ))
                        })?;
                        ColumnEncoder::Numeric { impute: Some(m) }
                    }
                }
                RawColumn::Text(v) => {
                    let mut stats: std::collections::BTreeMap<String, (f64, usize)> =
                        Default::default();
                    for &i in rows {
                        let key = match &v[i] {
                            Some(s) => s.clone(),
                            None if allow_missing => MISSING_LEVEL.to_string(),
                            None => {
                                return Err(UpliftError::Missing {
                                    column: name.clone(),
                                    row: i,
                                })
                            }
                        };
                        let e = stats.entry(key).or_insert((0.0, 0));
                        e.0 += y[i];
                        e.1 += 1;
                    }
                    let mut levels: Vec<(String, f64)> = stats
                        .into_iter()
                        .map(|(k, (s, c))| (k, s / c as f64))
                        .collect();
                    levels.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
                    ColumnEncoder::Ordinal {
                        levels: levels.into_iter().map(|(k, _)| k).collect(),
                    }
                }
            });
        }
        Ok(FeatureEncoder {
            names: names.to_vec(),
            columns,
            allow_missing,
        })
    }

    /// Encodes every row of `raw` (columns in the order of [`FeatureEncoder::names`]) into
    /// column-major numbers.
    pub fn transform(&self, raw: &[RawColumn]) -> Result<Vec<Vec<f64>>> {
        if raw.len() != self.columns.len() {
            return Err(UpliftError::LengthMismatch {
                what: "feature columns".into(),
                got: raw.len(),
                expected: self.columns.len(),
            });
        }
        let mut out = Vec::with_capacity(raw.len());
        for ((name, enc), col) in self.names.iter().zip(&self.columns).zip(raw) {
            let missing = |row| UpliftError::Missing {
                column: name.clone(),
                row,
            };
            out.push(match (enc, col) {
                (ColumnEncoder::Numeric { impute }, RawColumn::Numeric(v)) => v
                    .iter()
                    .enumerate()
                    .map(|(i, x)| match (x, impute) {
                        (Some(x), _) => Ok(*x),
                        (None, Some(m)) if self.allow_missing => Ok(*m),
                        (None, _) => Err(missing(i)),
                    })
                    .collect::<Result<Vec<f64>>>()?,
                (ColumnEncoder::Ordinal { levels }, RawColumn::Text(v)) => v
                    .iter()
                    .enumerate()
                    .map(|(i, x)| {
                        let key = match x {
                            Some(s) => s.as_str(),
                            None if self.allow_missing => MISSING_LEVEL,
                            None => return Err(missing(i)),
                        };
                        levels
                            .iter()
                            .position(|l| l == key)
                            .map(|p| p as f64)
                            .ok_or_else(|| UpliftError::UnknownCategory {
                                column: name.clone(),
                                row: i,
                                value: key.to_string(),
                            })
                    })
                    .collect::<Result<Vec<f64>>>()?,
                // A numeric training column read as text (or the reverse) in new data.
                (ColumnEncoder::Ordinal { .. }, RawColumn::Numeric(v)) => {
                    let text: Vec<Option<String>> =
                        v.iter().map(|x| x.map(|x| format!("{x}"))).collect();
                    self.transform_one(name, enc, &RawColumn::Text(text))?
                }
                (ColumnEncoder::Numeric { .. }, RawColumn::Text(_)) => {
                    return Err(invalid(
                        name,
                        "was numeric when the model was fitted but holds text here",
                    ))
                }
            });
        }
        Ok(out)
    }

    fn transform_one(&self, name: &str, enc: &ColumnEncoder, col: &RawColumn) -> Result<Vec<f64>> {
        let one = FeatureEncoder {
            names: vec![name.to_string()],
            columns: vec![enc.clone()],
            allow_missing: self.allow_missing,
        };
        Ok(one.transform(std::slice::from_ref(col))?.remove(0))
    }
}

/// A seeded split of `0..n` into (train, test) rows, each sorted; the test part has
/// `round(n * test_fraction)` rows (at least one of each part).
pub fn train_test_split(
    n: usize,
    test_fraction: f64,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>)> {
    if !(test_fraction > 0.0 && test_fraction < 1.0) {
        return Err(invalid(
            "test_fraction",
            format!("must lie in (0, 1), got {test_fraction}"),
        ));
    }
    let n_test = ((n as f64) * test_fraction).round() as usize;
    if n_test == 0 || n_test >= n {
        return Err(UpliftError::InsufficientData(format!(
            "{n} rows cannot be split with test fraction {test_fraction}"
        )));
    }
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let mut test = idx[..n_test].to_vec();
    let mut train = idx[n_test..].to_vec();
    test.sort_unstable();
    train.sort_unstable();
    Ok((train, test))
}

/// Which model to fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ModelSpec {
    /// A meta-learner (one fit per treatment arm against the control).
    Meta(MetaLearner),
    /// One uplift tree (all arms at once), with its bins per feature and seed.
    Tree {
        /// Tree options.
        options: TreeOptions,
        /// Bins per feature.
        max_bins: usize,
        /// Seed.
        seed: u64,
    },
    /// An uplift random forest (all arms at once), with its bins per feature.
    Forest {
        /// Forest options.
        options: ForestOptions,
        /// Bins per feature.
        max_bins: usize,
    },
}

/// A fitted model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FittedModel {
    /// One meta-learner fit per arm.
    Meta(Vec<MetaFit>),
    /// An uplift tree.
    Tree(UpliftTree),
    /// An uplift forest.
    Forest(UpliftForest),
}

impl FittedModel {
    /// Predicted uplift per arm: `out[a][i]` is arm `a`'s effect for row `i`.
    pub fn predict(&self, cols: &[Vec<f64>]) -> Result<Vec<Vec<f64>>> {
        let per_row = match self {
            FittedModel::Meta(fits) => return fits.iter().map(|f| f.predict(cols)).collect(),
            FittedModel::Tree(t) => t.predict(cols)?,
            FittedModel::Forest(f) => f.predict(cols)?,
        };
        let arms = per_row.first().map_or(0, Vec::len);
        Ok((0..arms)
            .map(|a| per_row.iter().map(|r| r[a]).collect())
            .collect())
    }

    /// Feature importance, one share per feature (in column order), summing to 1; `None`
    /// when the model has no tree to measure (logistic or linear bases) or no split at all.
    ///
    /// - Uplift tree: each split adds its gain times the training rows of the node to its
    ///   feature (the mean-decrease-in-impurity of Breiman 2001, with the uplift criterion's
    ///   gain as the impurity decrease, as causalml's `feature_importances_`).
    /// - Uplift forest: the mean of the trees' normalised importances.
    /// - Meta-learners on boosted trees: the total split gain of each feature over every
    ///   boosted tree of every arm's outcome or effect models (LightGBM's
    ///   `importance_type="gain"`); `None` for a model saved before gains were recorded.
    pub fn feature_importance(&self) -> Option<Vec<f64>> {
        let raw = match self {
            FittedModel::Tree(t) => tree_importance(t),
            FittedModel::Forest(f) => {
                let mut acc = vec![0.0; f.n_features];
                for t in &f.trees {
                    if let Some(v) = normalise(tree_importance(t)) {
                        acc.iter_mut().zip(v).for_each(|(a, b)| *a += b);
                    }
                }
                acc
            }
            FittedModel::Meta(fits) => {
                let n = fits.first()?.n_features;
                let mut acc = vec![0.0; n];
                for fit in fits {
                    for model in fit.effect.base_models() {
                        match model {
                            BaseModel::Gbdt(g) => {
                                for node in g.trees.iter().flatten() {
                                    if let Some(f) = node.feature {
                                        if f < n && node.gain.is_finite() {
                                            acc[f] += node.gain.max(0.0);
                                        }
                                    }
                                }
                            }
                            BaseModel::Logit(_) | BaseModel::Linear(_) => return None,
                        }
                    }
                }
                acc
            }
        };
        normalise(raw)
    }
}

fn tree_importance(t: &UpliftTree) -> Vec<f64> {
    let mut v = vec![0.0; t.n_features];
    for node in &t.nodes {
        if let Some(f) = node.feature {
            if f < v.len() && node.gain.is_finite() {
                v[f] += node.gain.max(0.0) * node.n;
            }
        }
    }
    v
}

fn normalise(v: Vec<f64>) -> Option<Vec<f64>> {
    let total: f64 = v.iter().sum();
    (total > 0.0 && total.is_finite()).then(|| v.iter().map(|x| x / total).collect())
}

impl ModelSpec {
    /// Fits on encoded training columns; `arm[i]` is `None` for control and `Some(a)` for arm
    /// `a < n_arms`.
    pub fn fit(
        &self,
        names: &[String],
        cols: &[Vec<f64>],
        arm: &[Option<usize>],
        n_arms: usize,
        y: &[f64],
    ) -> Result<FittedModel> {
        match self {
            ModelSpec::Meta(m) => Ok(FittedModel::Meta(m.fit_arms(names, cols, arm, n_arms, y)?)),
            ModelSpec::Tree {
                options,
                max_bins,
                seed,
            } => {
                let x = Binned::new(names, cols, *max_bins)?;
                let g = groups(arm);
                Ok(FittedModel::Tree(UpliftTree::fit(
                    &x, &g, y, options, *seed,
                )?))
            }
            ModelSpec::Forest { options, max_bins } => {
                let x = Binned::new(names, cols, *max_bins)?;
                let g = groups(arm);
                Ok(FittedModel::Forest(UpliftForest::fit(&x, &g, y, options)?))
            }
        }
    }
}

fn groups(arm: &[Option<usize>]) -> Vec<usize> {
    arm.iter().map(|a| a.map_or(0, |a| a + 1)).collect()
}

/// A fitted model with everything needed to score new rows: the versioned file of
/// `causalkit uplift fit --save`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedModel {
    /// [`FORMAT_VERSION`] of the writer.
    pub format_version: u32,
    /// Treatment column.
    pub treatment: String,
    /// Control label.
    pub control: String,
    /// Treated arm labels (arm `a` = `arms[a]`).
    pub arms: Vec<String>,
    /// Outcome column.
    pub outcome: String,
    /// Feature encoding (names in column order).
    pub encoder: FeatureEncoder,
    /// The specification fitted.
    pub spec: ModelSpec,
    /// The fitted model.
    pub model: FittedModel,
}

impl SavedModel {
    /// Per-arm uplift of raw feature columns (in the order of `encoder.names`).
    pub fn predict(&self, raw: &[RawColumn]) -> Result<Vec<Vec<f64>>> {
        self.model.predict(&self.encoder.transform(raw)?)
    }

    /// The model as JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| invalid("model", e.to_string()))
    }

    /// Reads a model written by [`SavedModel::to_json`]; a different format version is an
    /// error naming both versions.
    pub fn from_json(text: &str) -> Result<Self> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| invalid("model", e.to_string()))?;
        let ver = v.get("format_version").and_then(|x| x.as_u64());
        if ver != Some(u64::from(FORMAT_VERSION)) {
            return Err(invalid(
                "model",
                format!("format_version {ver:?} is not the supported version {FORMAT_VERSION}"),
            ));
        }
        serde_json::from_value(v).map_err(|e| invalid("model", e.to_string()))
    }
}
