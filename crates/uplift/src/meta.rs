//! Meta-learners: conditional average treatment effect `τ(x) = E[Y(1) - Y(0) | x]` from
//! ordinary regression / classification models (Künzel, Sekhon, Bickel & Yu 2019,
//! "Metalearners for estimating heterogeneous treatment effects using machine learning",
//! *PNAS* 116).
//!
//! - **S**: one model `μ(x, w)`; `τ = μ(x, 1) - μ(x, 0)`. Linear and logistic bases get the
//!   treatment and its interactions with every feature (`x, w, w·x`); boosted trees get `w`
//!   as one more feature.
//! - **T**: `μ₁` on the treated, `μ₀` on the controls; `τ = μ₁ - μ₀`.
//! - **X**: the T models' imputed effects `D₁ = y - μ₀(x)` (treated) and `D₀ = μ₁(x) - y`
//!   (controls) regressed on `x` as `τ₁`, `τ₀`; `τ = e(x) τ₀ + (1 - e(x)) τ₁`.
//! - **R** (Nie & Wager 2021, *Biometrika* 108): cross-fitted `m(x) = E[y|x]` and `e(x)`;
//!   `τ` minimises `Σ ((y - m) - τ(x)(w - e))²`, i.e. a regression of `(y - m)/(w - e)` with
//!   weights `(w - e)²`.
//! - **DR** (AIPW pseudo-outcome, Kennedy 2023, *EJS* 17): cross-fitted `μ₀, μ₁, e`;
//!   `φ = μ₁ - μ₀ + w (y - μ₁)/e - (1 - w)(y - μ₀)/(1 - e)` regressed on `x`.
//! - **Class transformation** (Jaskowski & Jaroszewicz 2012, *ICML workshop*): `z = y w +
//!   (1 - y)(1 - w)` for a 0/1 outcome, `τ = 2 P(z = 1 | x) - 1`; valid for `P(w = 1) = 1/2`,
//!   so the fit refuses a treated share outside `[0.45, 0.55]` (use IPW then).
//! - **IPW transformed outcome** (Athey & Imbens 2016, *PNAS* 113): `y* = y (w - e) / (e (1 -
//!   e))`, `E[y* | x] = τ(x)`, regressed on `x`.
//!
//! Propensity `e(x)`: known (one value per row), the treated share (randomised experiment),
//! or estimated by logistic regression on the features; it is clipped to `[trim, 1 - trim]`
//! and the overlap diagnostic reports its range and how many rows were clipped. Nuisance
//! models of R and DR are cross-fitted over `folds` seeded folds.
//!
//! Bases: boosted trees ([`Gbdt`], logistic loss for 0/1 outcome models, squared error for
//! pseudo-outcomes), logistic regression ([`causalkit_stats::Logit`], 0/1 outcome models;
//! pseudo-outcomes by OLS) or linear regression (OLS everywhere, [`causalkit_stats::LinearModel`]).

use crate::binned::Binned;
use crate::error::{invalid, Result, UpliftError};
use crate::gbdt::{Gbdt, GbdtOptions, Loss};
use crate::tree::check_columns;
use causalkit_stats::resample::replicate_rng;
use causalkit_stats::{LinearModel, Logit};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

/// Which meta-learner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Learner {
    /// Single model with the treatment as a feature.
    S,
    /// Two models.
    T,
    /// X-learner.
    X,
    /// R-learner.
    R,
    /// Doubly robust (AIPW pseudo-outcome).
    Dr,
    /// Class transformation.
    ClassTransform,
    /// IPW transformed outcome.
    Ipw,
}

impl Learner {
    /// Parses `s`, `t`, `x`, `r`, `dr`, `class-transform`, `ipw`.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "s" => Learner::S,
            "t" => Learner::T,
            "x" => Learner::X,
            "r" => Learner::R,
            "dr" => Learner::Dr,
            "class-transform" | "ct" => Learner::ClassTransform,
            "ipw" => Learner::Ipw,
            _ => {
                return Err(invalid(
                    "learner",
                    format!("expected s, t, x, r, dr, class-transform or ipw, got `{s}`"),
                ))
            }
        })
    }
}

/// Base learner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Base {
    /// Boosted trees with these options (the loss is chosen per model).
    Gbdt(GbdtOptions),
    /// Logistic regression for 0/1 outcome models, OLS for pseudo-outcomes.
    Logit,
    /// OLS for every model.
    Linear,
}

/// How the propensity is obtained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Propensity {
    /// The treated share of the training rows (randomised experiment).
    Share,
    /// Known per row (training rows).
    Known(Vec<f64>),
    /// Logistic regression of the treatment on the features.
    Logit,
}

/// Meta-learner specification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetaLearner {
    /// The learner.
    pub learner: Learner,
    /// The base models.
    pub base: Base,
    /// Propensity.
    pub propensity: Propensity,
    /// Propensities are clipped to `[trim, 1 - trim]`.
    pub trim: f64,
    /// Cross-fitting folds (R, DR).
    pub folds: usize,
    /// Seed (folds, boosted trees).
    pub seed: u64,
    /// Bins per feature for boosted trees.
    pub max_bins: usize,
}

impl Default for MetaLearner {
    fn default() -> Self {
        MetaLearner {
            learner: Learner::T,
            base: Base::Gbdt(GbdtOptions::default()),
            propensity: Propensity::Share,
            trim: 0.01,
            folds: 5,
            seed: 0,
            max_bins: 255,
        }
    }
}

/// A fitted base model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum BaseModel {
    /// Boosted trees.
    Gbdt(Gbdt),
    /// Logistic regression coefficients (intercept first).
    Logit(Vec<f64>),
    /// Linear regression coefficients (intercept first).
    Linear(Vec<f64>),
}

impl BaseModel {
    fn predict(&self, cols: &[Vec<f64>]) -> Result<Vec<f64>> {
        match self {
            BaseModel::Gbdt(g) => g.predict(cols),
            BaseModel::Logit(c) | BaseModel::Linear(c) => {
                let n = cols.first().map_or(0, |c| c.len());
                Ok((0..n)
                    .map(|i| {
                        let e = c[0] + cols.iter().zip(&c[1..]).map(|(x, b)| b * x[i]).sum::<f64>();
                        if matches!(self, BaseModel::Logit(_)) {
                            1.0 / (1.0 + (-e).exp())
                        } else {
                            e
                        }
                    })
                    .collect())
            }
        }
    }
}

/// Propensity model kept for prediction (the X-learner weights).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PropensityModel {
    /// A constant.
    Constant(f64),
    /// Logistic regression coefficients (intercept first).
    Logit(Vec<f64>),
}

/// The fitted effect model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum EffectModel {
    /// S-learner: `μ(x, w)` (with interactions for linear bases).
    S {
        /// The model.
        model: BaseModel,
        /// Whether the features include `w·x` interactions.
        interactions: bool,
    },
    /// T-learner.
    T {
        /// Control model.
        mu0: BaseModel,
        /// Treated model.
        mu1: BaseModel,
    },
    /// X-learner.
    X {
        /// Effect model fitted on the controls.
        tau0: BaseModel,
        /// Effect model fitted on the treated.
        tau1: BaseModel,
        /// Propensity for the weights.
        propensity: PropensityModel,
        /// Clipping.
        trim: f64,
    },
    /// One effect model regressed on a pseudo-outcome (R, DR, class transformation, IPW).
    Direct {
        /// The model.
        model: BaseModel,
        /// Class transformation: the prediction `q` maps to `2 q - 1`.
        class_transform: bool,
    },
}

impl EffectModel {
    /// The outcome or effect models inside (not the propensity model).
    pub fn base_models(&self) -> Vec<&BaseModel> {
        match self {
            EffectModel::S { model, .. } | EffectModel::Direct { model, .. } => vec![model],
            EffectModel::T { mu0, mu1 } => vec![mu0, mu1],
            EffectModel::X { tau0, tau1, .. } => vec![tau0, tau1],
        }
    }
}

/// The propensity overlap diagnostic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overlap {
    /// Smallest propensity before clipping.
    pub min: f64,
    /// Largest propensity before clipping.
    pub max: f64,
    /// Rows clipped to `[trim, 1 - trim]`.
    pub clipped: usize,
    /// The clipping bound.
    pub trim: f64,
}

/// A fitted meta-learner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetaFit {
    /// The specification.
    pub spec: MetaLearner,
    /// The effect model.
    pub effect: EffectModel,
    /// Number of features.
    pub n_features: usize,
    /// Feature names.
    pub names: Vec<String>,
    /// Overlap of the propensities used (when the learner uses them).
    pub overlap: Option<Overlap>,
}

fn is_binary(y: &[f64]) -> bool {
    y.iter().all(|&v| v == 0.0 || v - 1.0 == 0.0)
}

fn subset(cols: &[Vec<f64>], rows: &[usize]) -> Vec<Vec<f64>> {
    cols.iter()
        .map(|c| rows.iter().map(|&i| c[i]).collect())
        .collect()
}

impl MetaLearner {
    /// As [`MetaLearner::fit_base`] without weights on the rows `rows` of `cols` (`y` holds
    /// their outcomes): the boosted base bins the rows one column at a time
    /// ([`Binned::from_rows`]), so no copy of the subset's feature columns is alive while it
    /// boosts (560 MB per arm at 7M x 20); the others fit on a copy.
    fn fit_base_rows(
        &self,
        names: &[String],
        cols: &[Vec<f64>],
        rows: &[usize],
        y: &[f64],
        classify: bool,
        stream: u64,
    ) -> Result<BaseModel> {
        match &self.base {
            Base::Gbdt(o) => {
                let x = Binned::from_rows(names, cols, rows, self.max_bins)?;
                self.fit_gbdt(&x, y, None, o, classify, stream)
            }
            _ => self.fit_base(names, &subset(cols, rows), y, None, classify, stream),
        }
    }

    /// Fits the boosted base on binned features.
    fn fit_gbdt(
        &self,
        x: &Binned,
        y: &[f64],
        weights: Option<&[f64]>,
        o: &GbdtOptions,
        classify: bool,
        stream: u64,
    ) -> Result<BaseModel> {
        let o = GbdtOptions {
            loss: if classify {
                Loss::Logistic
            } else {
                Loss::SquaredError
            },
            seed: self.seed.wrapping_add(stream),
            ..o.clone()
        };
        let n = y.len() as u32;
        Ok(BaseModel::Gbdt(Gbdt::fit_weighted(
            x,
            y,
            weights,
            (0..n).collect(),
            Vec::new(),
            &o,
        )?))
    }

    /// Fits a model of `y` on `cols`: classification when `classify` (0/1 outcome), else
    /// regression; `weights` only for regression.
    fn fit_base(
        &self,
        names: &[String],
        cols: &[Vec<f64>],
        y: &[f64],
        weights: Option<&[f64]>,
        classify: bool,
        stream: u64,
    ) -> Result<BaseModel> {
        match &self.base {
            Base::Gbdt(o) => {
                let x = Binned::new(names, cols, self.max_bins)?;
                self.fit_gbdt(&x, y, weights, o, classify, stream)
            }
            Base::Logit if classify && weights.is_none() => {
                let mut m = Logit::new("outcome", y.to_vec());
                for (nm, c) in names.iter().zip(cols) {
                    m = m.regressor(nm, c.clone());
                }
                Ok(BaseModel::Logit(m.fit()?.coef().to_vec()))
            }
            _ => {
                let mut m = LinearModel::new("outcome", y.to_vec());
                for (nm, c) in names.iter().zip(cols) {
                    m = m.regressor(nm, c.clone());
                }
                if let Some(w) = weights {
                    m = m.weights(w.to_vec());
                }
                Ok(BaseModel::Linear(m.fit()?.coef().to_vec()))
            }
        }
    }

    fn propensity(
        &self,
        names: &[String],
        cols: &[Vec<f64>],
        w: &[f64],
    ) -> Result<(Vec<f64>, PropensityModel, Overlap)> {
        let n = w.len();
        let (raw, model) = match &self.propensity {
            Propensity::Share => {
                let p = w.iter().sum::<f64>() / n as f64;
                (vec![p; n], PropensityModel::Constant(p))
            }
            Propensity::Known(v) => {
                if v.len() != n {
                    return Err(UpliftError::LengthMismatch {
                        what: "propensity".into(),
                        got: v.len(),
                        expected: n,
                    });
                }
                if let Some(i) = v.iter().position(|p| !(*p > 0.0 && *p < 1.0)) {
                    return Err(UpliftError::BadValue {
                        variable: "propensity".into(),
                        row: i,
                        value: v[i],
                        expected: "a probability strictly between 0 and 1".into(),
                    });
                }
                let p = v.iter().sum::<f64>() / n as f64;
                (v.clone(), PropensityModel::Constant(p))
            }
            Propensity::Logit => {
                let mut m = Logit::new("treatment", w.to_vec());
                for (nm, c) in names.iter().zip(cols) {
                    m = m.regressor(nm, c.clone());
                }
                let fit = m.fit()?;
                let refs: Vec<&[f64]> = cols.iter().map(|c| c.as_slice()).collect();
                (
                    fit.predict(&refs)?,
                    PropensityModel::Logit(fit.coef().to_vec()),
                )
            }
        };
        let t = self.trim;
        let mut clipped = 0;
        let e: Vec<f64> = raw
            .iter()
            .map(|&p| {
                let q = p.clamp(t, 1.0 - t);
                if (q - p).abs() > 0.0 {
                    clipped += 1;
                }
                q
            })
            .collect();
        let ov = Overlap {
            min: raw.iter().copied().fold(f64::INFINITY, f64::min),
            max: raw.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            clipped,
            trim: t,
        };
        Ok((e, model, ov))
    }

    /// Cross-fitted predictions of a model of `target` (classification if `classify`)
    /// fitted on the rows `keep` of each training fold and predicted on the held-out fold.
    #[allow(clippy::too_many_arguments)]
    fn crossfit(
        &self,
        names: &[String],
        cols: &[Vec<f64>],
        target: &[f64],
        keep: &dyn Fn(usize) -> bool,
        classify: bool,
        fold_of: &[usize],
        stream: u64,
    ) -> Result<Vec<f64>> {
        let n = target.len();
        let mut out = vec![0.0; n];
        for k in 0..self.folds {
            let train: Vec<usize> = (0..n).filter(|&i| fold_of[i] != k && keep(i)).collect();
            let test: Vec<usize> = (0..n).filter(|&i| fold_of[i] == k).collect();
            let yt: Vec<f64> = train.iter().map(|&i| target[i]).collect();
            let m = self.fit_base(
                names,
                &subset(cols, &train),
                &yt,
                None,
                classify,
                stream + k as u64,
            )?;
            for (&i, p) in test.iter().zip(m.predict(&subset(cols, &test))?) {
                out[i] = p;
            }
        }
        Ok(out)
    }

    /// Fits the learner. `cols[j]` is feature `names[j]`, `treated` the treatment flag, `y`
    /// the outcome (0/1 or continuous).
    pub fn fit(
        &self,
        names: &[String],
        cols: &[Vec<f64>],
        treated: &[bool],
        y: &[f64],
    ) -> Result<MetaFit> {
        check_columns(cols, names.len())?;
        let n = y.len();
        if cols.first().map_or(0, |c| c.len()) != n || treated.len() != n {
            return Err(UpliftError::LengthMismatch {
                what: "features / treatment".into(),
                got: treated.len(),
                expected: n,
            });
        }
        if let Some(i) = y.iter().position(|v| !v.is_finite()) {
            return Err(UpliftError::NonFinite {
                variable: "outcome".into(),
                row: i,
                value: y[i],
            });
        }
        let nt = treated.iter().filter(|&&t| t).count();
        if nt < 2 || n - nt < 2 {
            return Err(UpliftError::InsufficientData(format!(
                "meta-learners need treated and control rows; got {nt} treated, {} control",
                n - nt
            )));
        }
        if !(self.trim >= 0.0 && self.trim < 0.5) {
            return Err(invalid(
                "trim",
                format!("must lie in [0, 0.5), got {}", self.trim),
            ));
        }
        if self.folds < 2 {
            return Err(invalid("folds", "cross-fitting needs at least 2 folds"));
        }
        let binary = is_binary(y);
        let w: Vec<f64> = treated.iter().map(|&t| if t { 1.0 } else { 0.0 }).collect();
        let tr: Vec<usize> = (0..n).filter(|&i| treated[i]).collect();
        let ct: Vec<usize> = (0..n).filter(|&i| !treated[i]).collect();
        let pick = |v: &[f64], rows: &[usize]| rows.iter().map(|&i| v[i]).collect::<Vec<f64>>();
        let mut overlap = None;
        let effect = match self.learner {
            Learner::S => {
                let interactions = !matches!(self.base, Base::Gbdt(_));
                let (nm, cs) = s_design(names, cols, &w, interactions);
                EffectModel::S {
                    model: self.fit_base(&nm, &cs, y, None, binary, 0)?,
                    interactions,
                }
            }
            Learner::T => EffectModel::T {
                mu0: self.fit_base_rows(names, cols, &ct, &pick(y, &ct), binary, 0)?,
                mu1: self.fit_base_rows(names, cols, &tr, &pick(y, &tr), binary, 1)?,
            },
            Learner::X => {
                let mu0 = self.fit_base_rows(names, cols, &ct, &pick(y, &ct), binary, 0)?;
                let mu1 = self.fit_base_rows(names, cols, &tr, &pick(y, &tr), binary, 1)?;
                let ctr = subset(cols, &tr);
                let cct = subset(cols, &ct);
                let d1: Vec<f64> = mu0
                    .predict(&ctr)?
                    .iter()
                    .zip(&tr)
                    .map(|(m, &i)| y[i] - m)
                    .collect();
                let d0: Vec<f64> = mu1
                    .predict(&cct)?
                    .iter()
                    .zip(&ct)
                    .map(|(m, &i)| m - y[i])
                    .collect();
                let (_, pm, ov) = self.propensity(names, cols, &w)?;
                overlap = Some(ov);
                EffectModel::X {
                    tau0: self.fit_base(names, &cct, &d0, None, false, 2)?,
                    tau1: self.fit_base(names, &ctr, &d1, None, false, 3)?,
                    propensity: pm,
                    trim: self.trim,
                }
            }
            Learner::ClassTransform => {
                if !binary {
                    return Err(invalid(
                        "learner",
                        "class transformation needs a 0/1 outcome; use ipw or dr",
                    ));
                }
                let share = nt as f64 / n as f64;
                if !(0.45..=0.55).contains(&share) {
                    return Err(invalid(
                        "learner",
                        format!("class transformation assumes half the rows treated; the treated share is {share:.3} (use ipw)"),
                    ));
                }
                let z: Vec<f64> = (0..n)
                    .map(|i| if (y[i] > 0.5) == treated[i] { 1.0 } else { 0.0 })
                    .collect();
                EffectModel::Direct {
                    model: self.fit_base(names, cols, &z, None, true, 0)?,
                    class_transform: true,
                }
            }
            Learner::Ipw | Learner::Dr | Learner::R => {
                let (e, _, ov) = self.propensity(names, cols, &w)?;
                overlap = Some(ov);
                let mut rng = replicate_rng(self.seed, u64::MAX - 1);
                let mut perm: Vec<usize> = (0..n).collect();
                perm.shuffle(&mut rng);
                let mut fold_of = vec![0; n];
                for (pos, &i) in perm.iter().enumerate() {
                    fold_of[i] = pos % self.folds;
                }
                let (target, weights): (Vec<f64>, Option<Vec<f64>>) = match self.learner {
                    Learner::Ipw => (
                        (0..n)
                            .map(|i| y[i] * (w[i] - e[i]) / (e[i] * (1.0 - e[i])))
                            .collect(),
                        None,
                    ),
                    Learner::Dr => {
                        let mu0 =
                            self.crossfit(names, cols, y, &|i| !treated[i], binary, &fold_of, 10)?;
                        let mu1 =
                            self.crossfit(names, cols, y, &|i| treated[i], binary, &fold_of, 20)?;
                        (
                            (0..n)
                                .map(|i| {
                                    mu1[i] - mu0[i] + w[i] * (y[i] - mu1[i]) / e[i]
                                        - (1.0 - w[i]) * (y[i] - mu0[i]) / (1.0 - e[i])
                                })
                                .collect(),
                            None,
                        )
                    }
                    _ => {
                        let m = self.crossfit(names, cols, y, &|_| true, binary, &fold_of, 30)?;
                        let mut t = Vec::with_capacity(n);
                        let mut wt = Vec::with_capacity(n);
                        for i in 0..n {
                            let r = w[i] - e[i];
                            t.push((y[i] - m[i]) / r);
                            wt.push(r * r);
                        }
                        (t, Some(wt))
                    }
                };
                EffectModel::Direct {
                    model: self.fit_base(names, cols, &target, weights.as_deref(), false, 40)?,
                    class_transform: false,
                }
            }
        };
        Ok(MetaFit {
            spec: self.clone(),
            effect,
            n_features: names.len(),
            names: names.to_vec(),
            overlap,
        })
    }
}

fn s_design(
    names: &[String],
    cols: &[Vec<f64>],
    w: &[f64],
    interactions: bool,
) -> (Vec<String>, Vec<Vec<f64>>) {
    let mut nm = names.to_vec();
    let mut cs = cols.to_vec();
    nm.push("__treatment".into());
    cs.push(w.to_vec());
    if interactions {
        for (name, c) in names.iter().zip(cols) {
            nm.push(format!("__treatment:{name}"));
            cs.push(c.iter().zip(w).map(|(x, t)| x * t).collect());
        }
    }
    (nm, cs)
}

impl MetaFit {
    /// Predicted effect `τ(x)` for each row of a column-major feature matrix.
    pub fn predict(&self, cols: &[Vec<f64>]) -> Result<Vec<f64>> {
        check_columns(cols, self.n_features)?;
        let n = cols.first().map_or(0, |c| c.len());
        match &self.effect {
            EffectModel::S {
                model,
                interactions,
            } => {
                let (_, c1) = s_design(&self.names, cols, &vec![1.0; n], *interactions);
                let (_, c0) = s_design(&self.names, cols, &vec![0.0; n], *interactions);
                let (a, b) = (model.predict(&c1)?, model.predict(&c0)?);
                Ok(a.iter().zip(&b).map(|(u, v)| u - v).collect())
            }
            EffectModel::T { mu0, mu1 } => {
                let (a, b) = (mu1.predict(cols)?, mu0.predict(cols)?);
                Ok(a.iter().zip(&b).map(|(u, v)| u - v).collect())
            }
            EffectModel::X {
                tau0,
                tau1,
                propensity,
                trim,
            } => {
                let e: Vec<f64> = match propensity {
                    PropensityModel::Constant(p) => vec![*p; n],
                    PropensityModel::Logit(c) => BaseModel::Logit(c.clone()).predict(cols)?,
                };
                let (t0, t1) = (tau0.predict(cols)?, tau1.predict(cols)?);
                Ok((0..n)
                    .map(|i| {
                        let p = e[i].clamp(*trim, 1.0 - trim);
                        p * t0[i] + (1.0 - p) * t1[i]
                    })
                    .collect())
            }
            EffectModel::Direct {
                model,
                class_transform,
            } => {
                let p = model.predict(cols)?;
                Ok(if *class_transform {
                    p.into_iter().map(|q| 2.0 * q - 1.0).collect()
                } else {
                    p
                })
            }
        }
    }
}

/// A fitted learner evaluated on held-out rows: the metrics of
/// [`crate::metrics::evaluate`] (labels `qini_auc`, ..., `causalml_auuc`) with the learner
/// and the overlap diagnostic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitReport {
    /// What was fitted, e.g. `"T-learner (gbdt)"`.
    pub model: String,
    /// The evaluation on the held-out rows.
    pub evaluation: crate::metrics::UpliftEvaluation,
    /// Propensity overlap (learners that use a propensity).
    pub overlap: Option<Overlap>,
}

impl causalkit_stats::Report for FitReport {
    fn result(&self) -> causalkit_stats::EstimationResult {
        let mut r = self.evaluation.result();
        r.method = format!("{} evaluated on held-out rows", self.model);
        if let Some(ov) = &self.overlap {
            r.diagnostics.insert(
                "propensity_overlap".into(),
                serde_json::to_value(ov).unwrap_or_default(),
            );
            if ov.clipped > 0 {
                r.warnings.push(format!(
                    "{} propensities outside [{}, {}] were clipped (range {:.4} to {:.4})",
                    ov.clipped,
                    ov.trim,
                    1.0 - ov.trim,
                    ov.min,
                    ov.max
                ));
            }
        }
        r
    }
}

impl MetaFit {
    /// Predicts on held-out rows and evaluates the predictions.
    pub fn evaluate_on(
        &self,
        cols: &[Vec<f64>],
        treated: &[bool],
        y: &[f64],
        options: &crate::metrics::EvalOptions,
    ) -> Result<FitReport> {
        let score = self.predict(cols)?;
        let base = match &self.spec.base {
            Base::Gbdt(_) => "gbdt",
            Base::Logit => "logit",
            Base::Linear => "linear",
        };
        Ok(FitReport {
            model: format!("{:?}-learner ({base})", self.spec.learner),
            evaluation: crate::metrics::evaluate(y, treated, &score, options)?,
            overlap: self.overlap.clone(),
        })
    }
}

impl MetaLearner {
    /// Several treatments against one control: one fit per arm on that arm's rows and the
    /// control rows. `arm[i]` is `None` for a control row and `Some(a)` for arm `a`
    /// (`a < n_arms`); the fits come back in arm order.
    pub fn fit_arms(
        &self,
        names: &[String],
        cols: &[Vec<f64>],
        arm: &[Option<usize>],
        n_arms: usize,
        y: &[f64],
    ) -> Result<Vec<MetaFit>> {
        if arm.len() != y.len() {
            return Err(UpliftError::LengthMismatch {
                what: "treatment".into(),
                got: arm.len(),
                expected: y.len(),
            });
        }
        if let Some(i) = arm.iter().position(|a| a.is_some_and(|a| a >= n_arms)) {
            return Err(invalid(
                "treatment",
                format!(
                    "row {i} names arm {:?}, but there are {n_arms} arms",
                    arm[i]
                ),
            ));
        }
        (0..n_arms)
            .map(|a| {
                let rows: Vec<usize> = (0..y.len())
                    .filter(|&i| arm[i].is_none() || arm[i] == Some(a))
                    .collect();
                let t: Vec<bool> = rows.iter().map(|&i| arm[i].is_some()).collect();
                let yy: Vec<f64> = rows.iter().map(|&i| y[i]).collect();
                let spec = match &self.propensity {
                    Propensity::Known(v) => MetaLearner {
                        propensity: Propensity::Known(rows.iter().map(|&i| v[i]).collect()),
                        ..self.clone()
                    },
                    _ => self.clone(),
                };
                // With one treated arm every row is kept: fit on the columns as they are
                // instead of a copy of them (a 10M x 20 fit holds 1.1 GB less).
                if rows.len() == y.len() {
                    spec.fit(names, cols, &t, &yy)
                } else {
                    spec.fit(names, &subset(cols, &rows), &t, &yy)
                }
            })
            .collect()
    }
}
