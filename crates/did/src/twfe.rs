//! The canonical 2×2 difference-in-differences regression and two-way fixed effects (TWFE).
//!
//! # 2×2
//! `y = a + b·treat + c·post + τ·(treat × post) + Xβ + u` by OLS/WLS; τ is the DiD estimate
//! (Angrist & Pischke 2009, ch. 5). Works for panels and repeated cross-sections.
//!
//! # TWFE
//! `y_it = α_i + λ_t + τ D_it + X_it β + u_it` with `D_it = 1{t ≥ G_i − K}` (cohort `G_i`,
//! anticipation `K`), unit and period effects absorbed by alternating projections. With
//! staggered adoption and heterogeneous effects τ is a weighted average of cell effects with
//! possibly negative weights (Goodman-Bacon 2021, *J. Econometrics* 225; de Chaisemartin &
//! D'Haultfœuille 2020, *AER* 110) — use the Callaway-Sant'Anna, Sun-Abraham or imputation
//! estimators then. Standard errors are CRV1 by unit unless another variance is given,
//! with fixest's small-sample conventions; a wild cluster restricted bootstrap
//! ([`crate::wild`]) is available for few clusters.

use crate::error::{invalid, Result};
use crate::panel::StaggeredPanel;
use crate::wild::{wild_cluster_bootstrap, WildBootstrap, WildOptions};
use causalkit_stats::{
    CoefTable, Effect, EffectKey, EffectKind, EstimationResult, Factor, FixedEffects, LinearModel,
    Report, Vcov,
};

/// Name of the treatment coefficient in the TWFE and 2×2 tables.
pub const TREATED: &str = "treated";

/// A fitted 2×2 DiD or TWFE regression.
#[derive(Debug, Clone)]
pub struct TwfeFit {
    /// `"2x2 DiD"` or `"TWFE"`.
    pub method: String,
    /// The full coefficient table (treatment first in TWFE; `treat:post` is named
    /// [`TREATED`] in the 2×2).
    pub table: CoefTable,
    /// Wild cluster bootstrap of the treatment coefficient, when asked for.
    pub wild: Option<WildBootstrap>,
    /// Rows used.
    pub n_obs: usize,
    /// Units (or, for the 2×2 on cross-sections, rows).
    pub n_units: usize,
    /// Treated units.
    pub n_treated_units: usize,
    /// Warnings.
    pub warnings: Vec<String>,
}

impl TwfeFit {
    /// The treatment-effect row of the coefficient table.
    pub fn effect(&self) -> &causalkit_stats::ols::CoefRow {
        self.table
            .row(TREATED)
            .expect("the treatment coefficient is always present")
    }
}

/// Two-way fixed effects regression of the outcome on the treatment indicator
/// `D_it = 1{t ≥ G_i − K}` and the covariates, absorbing unit and period effects.
/// `vcov` defaults to CRV1 by unit.
///
/// Errors: no treated or no untreated rows, a cohort never observed untreated (e.g.
/// treated in the first period), a treatment collinear with the fixed effects.
pub fn twfe(
    panel: &StaggeredPanel,
    vcov: Option<Vcov>,
    alpha: f64,
    wild: Option<WildOptions>,
) -> Result<TwfeFit> {
    panel.validate()?;
    panel.check_design()?;
    let d = panel.treated();
    let fe = FixedEffects::new(vec![panel.unit.clone(), panel.time_factor()])?;
    let mut model = LinearModel::new(&panel.outcome_name, panel.outcome.clone())
        .regressor(TREATED, d.clone())
        .absorb(fe.clone());
    for (name, c) in &panel.covariates {
        model = model.regressor(name, c.clone());
    }
    if let Some(w) = &panel.weights {
        model = model.weights(w.clone());
    }
    let fit = model.fit()?;
    let vcov = vcov.unwrap_or_else(|| panel.default_vcov());
    let table = fit.inference(&vcov, alpha)?;
    let mut warnings = table.warnings().to_vec();
    let n_treated_units = panel.treated_units();
    if n_treated_units == 1 {
        warnings.push("a single treated unit: cluster-robust standard errors are unreliable (the treated cluster's score dominates); prefer the wild cluster bootstrap or a synthetic control".into());
    } else if let Vcov::Cluster(f) = &vcov {
        few_treated_clusters(f, &d, &mut warnings);
    }
    let wild = match wild {
        None => None,
        Some(opts) => {
            let cluster = match &vcov {
                Vcov::Cluster(f) => f.clone(),
                _ => panel.unit.clone(),
            };
            let others: Vec<Vec<f64>> = panel.covariates.iter().map(|(_, c)| c.clone()).collect();
            let w = wild_cluster_bootstrap(
                &panel.outcome,
                &d,
                &others,
                Some(&fe),
                panel.weights.as_deref(),
                &cluster,
                &WildOptions { alpha, ..opts },
            )?;
            warnings.extend(w.warnings.iter().cloned());
            Some(w)
        }
    };
    Ok(TwfeFit {
        method: "TWFE".into(),
        table,
        wild,
        n_obs: panel.len(),
        n_units: panel.unit.levels(),
        n_treated_units,
        warnings,
    })
}

/// Inputs of the 2×2 regression.
#[derive(Debug, Clone)]
pub struct TwoByTwo {
    /// Outcome.
    pub outcome: Vec<f64>,
    /// 1 for the treated group, 0 for the comparison group.
    pub treat: Vec<f64>,
    /// 1 for the post period, 0 before.
    pub post: Vec<f64>,
    /// Named covariates.
    pub covariates: Vec<(String, Vec<f64>)>,
    /// Optional analytic weights.
    pub weights: Option<Vec<f64>>,
    /// The unit of each row, for panels: `n_units` and `n_treated_units` then count units
    /// (otherwise rows, as for repeated cross-sections).
    pub units: Option<Factor>,
    /// Name of the outcome (the user's column) in the diagnostics; `None` = `"outcome"`.
    pub outcome_name: Option<String>,
}

/// The 2×2 DiD regression `y = a + b·treat + c·post + τ·treat×post + Xβ`. `vcov` defaults
/// to HC1 (pass a cluster factor for panels). Errors name a treat/post column that is not
/// 0/1, an empty cell of the 2×2 table, or a singular design.
pub fn did_2x2(
    data: &TwoByTwo,
    vcov: Option<Vcov>,
    alpha: f64,
    wild: Option<WildOptions>,
) -> Result<TwfeFit> {
    let n = data.outcome.len();
    causalkit_stats::error::check_len("treat", data.treat.len(), n)?;
    causalkit_stats::error::check_len("post", data.post.len(), n)?;
    for (name, col) in [("treat", &data.treat), ("post", &data.post)] {
        // Exact by design: indicators must be exactly 0 or 1.
        #[allow(clippy::float_cmp)]
        let bad = col.iter().position(|&v| v != 0.0 && v != 1.0);
        if let Some(row) = bad {
            return Err(causalkit_stats::StatsError::OutOfRange {
                variable: name.into(),
                row,
                value: col[row],
                expected: "0 or 1".into(),
            }
            .into());
        }
    }
    let mut cells = [0usize; 4];
    for i in 0..n {
        cells[(data.treat[i] as usize) * 2 + data.post[i] as usize] += 1;
    }
    let names = [
        "comparison, pre",
        "comparison, post",
        "treated, pre",
        "treated, post",
    ];
    if let Some(c) = cells.iter().position(|&c| c == 0) {
        return Err(causalkit_stats::StatsError::InsufficientData(format!(
            "the 2x2 cell `{}` has no rows",
            names[c]
        ))
        .into());
    }
    let inter: Vec<f64> = data
        .treat
        .iter()
        .zip(&data.post)
        .map(|(a, b)| a * b)
        .collect();
    if let Some(u) = &data.units {
        causalkit_stats::error::check_len(u.name(), u.len(), n)?;
    }
    let mut model = LinearModel::new(
        data.outcome_name.as_deref().unwrap_or("outcome"),
        data.outcome.clone(),
    )
    .regressor(TREATED, inter.clone())
    .regressor("treat", data.treat.clone())
    .regressor("post", data.post.clone());
    for (name, c) in &data.covariates {
        model = model.regressor(name, c.clone());
    }
    if let Some(w) = &data.weights {
        model = model.weights(w.clone());
    }
    let fit = model.fit()?;
    let vcov = vcov.unwrap_or(Vcov::Hc1);
    let table = fit.inference(&vcov, alpha)?;
    let mut warnings = table.warnings().to_vec();
    let wild = match (wild, &vcov) {
        (None, _) => None,
        (Some(opts), Vcov::Cluster(f)) => {
            let mut others = vec![vec![1.0; n], data.treat.clone(), data.post.clone()];
            others.extend(data.covariates.iter().map(|(_, c)| c.clone()));
            let w = wild_cluster_bootstrap(
                &data.outcome,
                &inter,
                &others,
                None,
                data.weights.as_deref(),
                f,
                &WildOptions { alpha, ..opts },
            )?;
            warnings.extend(w.warnings.iter().cloned());
            Some(w)
        }
        (Some(_), _) => {
            return Err(invalid(
                "wild",
                "the wild cluster bootstrap needs a cluster variable",
            ));
        }
    };
    let (n_units, n_treated_units) = match &data.units {
        Some(u) => (u.levels(), count_levels(u, &data.treat)),
        None => (n, cells[2] + cells[3]),
    };
    if let Vcov::Cluster(f) = &vcov {
        few_treated_clusters(f, &data.treat, &mut warnings);
    }
    Ok(TwfeFit {
        method: "2x2 DiD".into(),
        table,
        wild,
        n_obs: n,
        n_units,
        n_treated_units,
        warnings,
    })
}

/// Number of levels of `f` with at least one row where `d` is 1.
fn count_levels(f: &Factor, d: &[f64]) -> usize {
    let mut seen = vec![false; f.levels()];
    for (&c, &x) in f.codes().iter().zip(d) {
        if x > 0.5 {
            seen[c as usize] = true;
        }
    }
    seen.iter().filter(|s| **s).count()
}

/// CRV1 with fewer than two treated clusters: the treated cluster's score dominates the
/// variance and the p-value is far too small (MacKinnon & Webb 2017, *J. Appl. Econometrics*
/// 32). Warns and points to the wild cluster bootstrap.
fn few_treated_clusters(cluster: &Factor, d: &[f64], warnings: &mut Vec<String>) {
    let treated = count_levels(cluster, d);
    if treated < 2 {
        warnings.push(format!(
            "only {treated} treated cluster(s) of `{}` ({} clusters in all): CRV1 standard errors and p-values are unreliable with fewer than 2 treated clusters; use the wild cluster bootstrap (--bootstrap N) or a synthetic control",
            cluster.name(),
            cluster.levels()
        ));
    }
}

impl Report for TwfeFit {
    fn result(&self) -> EstimationResult {
        let base = self.table.result();
        let mut r = EstimationResult::new(
            self.method.clone(),
            "ATT: average effect of treatment on the treated (TWFE-weighted under staggered adoption)",
        );
        for e in &base.effects {
            if e.label == TREATED {
                r.effects.push(Effect {
                    key: EffectKey::kind(EffectKind::Att),
                    label: "ATT".into(),
                    ..e.clone()
                });
            }
        }
        if let Some(w) = &self.wild {
            r.effects.push(Effect {
                key: EffectKey::kind(EffectKind::Att).variant("wild_bootstrap"),
                label: "ATT (wild cluster bootstrap)".into(),
                estimate: w.estimate,
                std_error: None,
                ci_low: w.ci_low,
                ci_high: w.ci_high,
                p_value: Some(w.p_value),
            });
        }
        for e in &base.effects {
            if e.label != TREATED && e.label != "Intercept" {
                r.effects.push(Effect {
                    key: EffectKey::kind(EffectKind::Coefficient).term(e.label.clone()),
                    label: format!("coefficient: {}", e.label),
                    ..e.clone()
                });
            }
        }
        r.diagnostics = base.diagnostics;
        r.diagnostics.insert("n_units".into(), self.n_units.into());
        r.diagnostics
            .insert("n_treated_units".into(), self.n_treated_units.into());
        if let Some(w) = &self.wild {
            r.diagnostics.insert(
                "wild_bootstrap".into(),
                serde_json::json!({
                    "kind": "WCR (null imposed), symmetric p, CI by test inversion",
                    "weights": format!("{:?}", w.weights),
                    "reps": w.reps,
                    "clusters": w.clusters,
                    "t_stat_unscaled": w.t_stat,
                }),
            );
        }
        r.warnings = self.warnings.clone();
        r
    }
}
