//! The in-space placebo of the synthetic control family, written once.
//!
//! Abadie, Diamond & Hainmueller (2010, JASA, "Synthetic control methods for comparative case
//! studies", Section 3.2 and Fig. 8): every unit of the comparison pool in turn is treated as if
//! it had been treated at the real treatment date and refitted with the other pool units as its
//! donors; its gap path and post/pre RMSPE ratio are compared with the treated unit's. The
//! rotation (the private `rotate`) is shared by Abadie SC
//! ([`crate::abadie::ScFit::placebo_in_space`]), ASCM
//! ([`crate::ascm::AscmFit::placebo_in_space`]) and the SDID placebo paths
//! ([`crate::sdid::in_space_placebos`]); the rank test ([`PlaceboInSpace`]) by the first two.

use rayon::prelude::*;

/// Options of the in-space placebo test.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PlaceboOptions {
    /// Drop placebos whose pre-treatment RMSPE exceeds this multiple of the treated unit's
    /// (Abadie et al. 2010, Figs. 5-7, use MSPE multiples 20, 5 and 2, i.e. RMSPE multiples
    /// `sqrt(20)`, `sqrt(5)`, `sqrt(2)`). `None` keeps every placebo.
    pub max_pre_rmspe_ratio: Option<f64>,
}

impl PlaceboOptions {
    /// Checks the options; `Err` holds the option's name and why it is refused.
    pub(crate) fn check(&self) -> Result<(), (&'static str, String)> {
        match self.max_pre_rmspe_ratio {
            Some(r) if !(r.is_finite() && r > 0.0) => Err((
                "max_pre_rmspe_ratio",
                format!("{r} is not a positive number"),
            )),
            _ => Ok(()),
        }
    }
}

/// Gap path of one unit (treated − synthetic) and its pre/post RMSPE.
#[derive(Debug, Clone)]
pub struct GapPath {
    /// Unit name (the cohort's treated units averaged for an SDID fit with several).
    pub unit: String,
    /// Gap in every period.
    pub gaps: Vec<f64>,
    /// Root mean squared gap over pre-periods.
    pub rmspe_pre: f64,
    /// Root mean squared gap over post-periods.
    pub rmspe_post: f64,
}

impl GapPath {
    /// The gap path `treated − synthetic` with its RMSPEs before and from period `start`.
    pub(crate) fn new(unit: String, tr: &[f64], synth: &[f64], start: usize) -> Self {
        let gaps: Vec<f64> = tr.iter().zip(synth).map(|(a, b)| a - b).collect();
        let rms = |s: &[f64]| (s.iter().map(|g| g * g).sum::<f64>() / s.len() as f64).sqrt();
        GapPath {
            unit,
            rmspe_pre: rms(&gaps[..start]),
            rmspe_post: rms(&gaps[start..]),
            gaps,
        }
    }

    /// Post/pre RMSPE ratio (Abadie, Diamond & Hainmueller 2010).
    pub fn ratio(&self) -> f64 {
        self.rmspe_post / self.rmspe_pre
    }
}

/// In-space placebo test (Abadie, Diamond & Hainmueller 2010, Section 3.2 and Fig. 8).
///
/// Each donor `j` is treated as if it had been treated at `t0` and refitted with the same
/// procedure, the donor pool being the other donors (the real treated unit is never a donor).
/// The statistic is `r = RMSPE_post / RMSPE_pre`; the p-value is the rank of the treated
/// unit's ratio among the treated and the kept placebos,
/// `p = (1 + #{kept placebos with r_j >= r_treated}) / (1 + #kept)`.
#[derive(Debug, Clone)]
pub struct PlaceboInSpace {
    /// Placebo unit indices (the donors), in donor order.
    pub units: Vec<usize>,
    /// Their names.
    pub names: Vec<String>,
    /// Pre-period RMSPE of each placebo.
    pub rmspe_pre: Vec<f64>,
    /// Post-period RMSPE of each placebo.
    pub rmspe_post: Vec<f64>,
    /// Post/pre RMSPE ratio of each placebo.
    pub ratio: Vec<f64>,
    /// Average post-period gap of each placebo.
    pub att: Vec<f64>,
    /// Gaps of each placebo in every period.
    pub gaps: Vec<Vec<f64>>,
    /// Whether each placebo passed the pre-RMSPE filter.
    pub kept: Vec<bool>,
    /// Number of kept placebos.
    pub n_kept: usize,
    /// The treated unit's post/pre RMSPE ratio.
    pub treated_ratio: f64,
    /// The treated unit's pre-period RMSPE.
    pub treated_rmspe_pre: f64,
    /// Rank p-value.
    pub p_value: f64,
}

impl PlaceboInSpace {
    /// The test from the treated unit's gap path and the placebo runs (`(gap path, ATT)` of
    /// each unit of `units`, in that order), filtered by `max_pre_rmspe_ratio`.
    pub(crate) fn from_runs(
        units: Vec<usize>,
        treated: &GapPath,
        runs: Vec<(GapPath, f64)>,
        max_pre_rmspe_ratio: Option<f64>,
    ) -> Self {
        let mut out = PlaceboInSpace {
            units,
            names: Vec::with_capacity(runs.len()),
            rmspe_pre: Vec::with_capacity(runs.len()),
            rmspe_post: Vec::with_capacity(runs.len()),
            ratio: Vec::with_capacity(runs.len()),
            att: Vec::with_capacity(runs.len()),
            gaps: Vec::with_capacity(runs.len()),
            kept: Vec::with_capacity(runs.len()),
            n_kept: 0,
            treated_ratio: treated.ratio(),
            treated_rmspe_pre: treated.rmspe_pre,
            p_value: 1.0,
        };
        for (path, att) in runs {
            out.names.push(path.unit.clone());
            out.rmspe_pre.push(path.rmspe_pre);
            out.rmspe_post.push(path.rmspe_post);
            out.ratio.push(path.ratio());
            out.att.push(att);
            out.kept.push(true);
            out.gaps.push(path.gaps);
        }
        out.filtered(max_pre_rmspe_ratio)
    }

    /// The same placebo runs with a different pre-RMSPE filter (no refitting): keeps the
    /// placebos with `rmspe_pre <= ratio * treated_rmspe_pre` (all if `None`) and recomputes
    /// the rank p-value.
    pub fn filtered(mut self, max_pre_rmspe_ratio: Option<f64>) -> Self {
        self.kept = self
            .rmspe_pre
            .iter()
            .map(|&r| max_pre_rmspe_ratio.is_none_or(|k| r <= k * self.treated_rmspe_pre))
            .collect();
        self.n_kept = self.kept.iter().filter(|&&k| k).count();
        let above = self
            .ratio
            .iter()
            .zip(&self.kept)
            .filter(|(r, k)| **k && **r >= self.treated_ratio)
            .count();
        self.p_value = (1 + above) as f64 / (1 + self.n_kept) as f64;
        self
    }

    /// The placebos' gap paths, in donor order (for plots next to the treated unit's path).
    pub fn paths(&self) -> Vec<GapPath> {
        (0..self.names.len())
            .map(|i| GapPath {
                unit: self.names[i].clone(),
                gaps: self.gaps[i].clone(),
                rmspe_pre: self.rmspe_pre[i],
                rmspe_post: self.rmspe_post[i],
            })
            .collect()
    }
}

/// The placebo rotation: for every unit `j` of `pool`, `refit(j, others)` fits `j` as the
/// treated unit with the other pool units (in pool order) as its donors. Runs in parallel
/// (rayon); the results are in pool order and, each refit being a deterministic function of
/// the data, do not depend on the thread count. The first failure in pool order is returned.
pub(crate) fn rotate<T, E, F>(pool: &[usize], refit: F) -> Result<Vec<T>, E>
where
    T: Send,
    E: Send,
    F: Fn(usize, Vec<usize>) -> Result<T, E> + Sync,
{
    let runs: Vec<Result<T, E>> = pool
        .par_iter()
        .map(|&j| refit(j, pool.iter().copied().filter(|&d| d != j).collect()))
        .collect();
    runs.into_iter().collect()
}
