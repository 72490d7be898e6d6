//! `causalkit synth`: synthetic control family on a unit × period panel.
//!
//! Methods: `sdid` (synthetic DiD, Arkhangelsky et al. 2021), `did` (synthdid's DiD),
//! `sdid-sc` (synthdid's regularised SC, no intercept), `sc` (Abadie–Diamond–Hainmueller
//! SC with nested V, from `causalkit_synth::abadie`), `ascm` (ridge-augmented SC, Ben-Michael,
//! Feller & Rothstein 2021, from `causalkit_synth::ascm`). `--covariates` adjusts sdid/did/sdid-sc
//! for time-varying covariates (`causalkit_synth::sdid_cov`) and ascm for fixed covariates (the
//! units' pre-period means, `AugmentedSc::covariates`).

use crate::output::{num, plain_table, render_with, table_nested, CliError, Format, Rendered};
use causalkit_data::design::{self, CellMatrix, PanelColumns, PanelRoles};
use causalkit_data::{Dataset, MissingPolicy};
use causalkit_report::{BarChart, Chart, LineChart, Series};
use causalkit_stats::{limits, EstimationResult, Report};
use causalkit_synth::abadie::{
    ConformalOptions, PlaceboInSpace, PlaceboOptions, Predictor, Predictors, ScError,
    SyntheticControl,
};
use causalkit_synth::ascm::{AugmentedSc, CvOptions, LambdaChoice};
use causalkit_synth::panel::{period_label, SynthPanel};
use causalkit_synth::sdid::{
    in_space_placebos, placebo_se_exact, sdid, sdid_inference, GapPath, SdidMethod, SdidOptions,
    SdidReport, SeMethod,
};
use causalkit_synth::sdid_cov::{sdid_covariates, se_cov};
use causalkit_synth::DMatrix;
use causalkit_synth::SynthError;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// Estimator of `causalkit synth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    /// Abadie–Diamond–Hainmueller synthetic control (nested V; `--predictors`).
    Sc,
    /// Synthetic difference-in-differences (unit and time weights).
    Sdid,
    /// Difference-in-differences (synthdid's `did_estimate`, uniform weights).
    Did,
    /// synthdid's regularised synthetic control (`sc_estimate`: no intercept, ζ = 1e-6 σ).
    SdidSc,
    /// Ridge-augmented synthetic control (augsynth's ridge ASCM; `--lambda`, default by
    /// cross-validation), with per-period conformal intervals.
    Ascm,
}

/// Standard error of the SDID family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeArg {
    /// Placebo: controls take the treated units' adoption times (works with one treated unit).
    Placebo,
    /// Unit bootstrap (needs more than one treated unit).
    Bootstrap,
    /// Fixed-weight jackknife (needs more than one treated unit).
    Jackknife,
    /// No standard error.
    None,
}

/// Arguments of `causalkit synth`.
#[derive(Debug, Args)]
pub struct SynthArgs {
    /// The data file (.csv or .parquet), one row per unit and period. Or --table with
    /// --engine.
    #[arg(long, required_unless_present = "table")]
    pub data: Option<PathBuf>,
    /// The panel aggregated by a SQL engine (--engine, --dialect, --table, --explain).
    #[command(flatten)]
    pub warehouse: crate::warehouse_panel::PanelEngineArgs,
    /// Unit column (e.g. state, site).
    #[arg(long)]
    pub unit: String,
    /// Time column: whole numbers (year, day index, ...) or dates (a Parquet Date or
    /// Timestamp, or ISO YYYY-MM-DD text; see --period-width).
    #[arg(long)]
    pub time: String,
    /// Days per period of a date --time column, counted from the earliest date (default 1;
    /// 7 gives weeks). With --events and a whole-number --time column: blocks of this many
    /// periods counted from the first.
    #[arg(long)]
    pub period_width: Option<i64>,
    /// Outcome column.
    #[arg(long)]
    pub outcome: String,
    /// Treated unit name (repeatable, or comma separated); needs --treatment-start.
    #[arg(long = "treated-unit", value_delimiter = ',')]
    pub treated_unit: Vec<String>,
    /// First treated period: a value of the time column (a date YYYY-MM-DD for a date
    /// column).
    #[arg(long)]
    pub treatment_start: Option<String>,
    /// 0/1 column marking treated unit-periods (alternative to --treated-unit; allows several
    /// treated units and staggered adoption).
    #[arg(long)]
    pub treated: Option<String>,
    /// Estimator.
    #[arg(long, value_enum, default_value_t = MethodArg::Sdid)]
    pub method: MethodArg,
    /// Abadie SC predictors: `outcome:PERIOD`, `mean:FROM-TO` (outcome mean over a window of
    /// periods) or a covariate column name (its pre-period mean). Default: every pre-period
    /// outcome.
    #[arg(long, value_delimiter = ',')]
    pub predictors: Vec<String>,
    /// Ridge penalty of `--method ascm` (default: augsynth's cross-validation over the
    /// pre-period, largest lambda within one SE of the minimum).
    #[arg(long)]
    pub lambda: Option<f64>,
    /// Covariates (comma separated columns). sdid/did/sdid-sc: time-varying, adjusted for as
    /// R synthdid's `synthdid_estimate(Y, N0, T0, X)` (outcome minus X·beta, beta estimated
    /// jointly with the weights); every unit-period must have a value (no imputation); --se
    /// placebo, bootstrap, jackknife or none as without covariates; staggered adoption is
    /// fitted cohort by cohort (one beta per cohort) without a standard error. ascm: fixed covariates, each unit's pre-period mean
    /// of the column (augsynth's default aggregation), residualised as augsynth's
    /// `residualize = TRUE`; every pre-period value must be observed.
    #[arg(long, value_delimiter = ',')]
    pub covariates: Vec<String>,
    /// Number of placebo replications (sets --se placebo unless --se is given). With
    /// `--method sc` it runs the in-space placebo test instead, over every donor (N unused).
    #[arg(long)]
    pub placebo: Option<usize>,
    /// Standard error for sdid/did/sdid-sc (default: placebo).
    #[arg(long, value_enum)]
    pub se: Option<SeArg>,
    /// Replications for the placebo or bootstrap SE (default 200).
    #[arg(long)]
    pub replications: Option<usize>,
    /// Placebo SE without Monte Carlo error (sdid/did/sdid-sc, no covariates): every
    /// assignment of pseudo-treated controls is fitted once (C(N0, N1) in a block design, 38
    /// for Prop 99) instead of random draws; refused above --max-placebo-fits.
    #[arg(long, conflicts_with_all = ["placebo", "replications"])]
    pub exact_placebo: bool,
    /// Most fits --exact-placebo may run.
    #[arg(long, default_value_t = 20_000)]
    pub max_placebo_fits: usize,
    /// Random seed of the placebo / bootstrap.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// 1 − confidence level of the intervals.
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// Write plots (SVG and PNG) into this directory: paths, gap, placebo gaps, RMSPE ratios.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Average the outcome over rows sharing a unit and period first (e.g. contact rows into
    /// a site × day panel of mean handle time); a cell is treated if any of its rows is.
    /// Same flag as `causalkit did --events` (`--aggregate` is accepted as an alias).
    #[arg(long = "events", alias = "aggregate")]
    pub aggregate: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Bad input exits 2; a numerical failure (a solver that failed or did not converge) exits
/// 1 and says so.
impl From<SynthError> for CliError {
    fn from(e: SynthError) -> Self {
        CliError::estimator(e.is_numerical(), e.to_string())
    }
}

/// As for [`SynthError`]: Abadie SC's own error type.
impl From<ScError> for CliError {
    fn from(e: ScError) -> Self {
        CliError::estimator(e.is_numerical(), e.to_string())
    }
}

/// The declared column roles of the flags (the data layer reads and validates them).
fn roles(a: &SynthArgs) -> PanelRoles {
    let mut r = PanelRoles::new(a.outcome.clone());
    r.unit = Some(a.unit.clone());
    r.time = Some(a.time.clone());
    r.treated = a.treated.clone();
    r.covariates = a.covariates.clone();
    r.events = a.aggregate;
    r.period_width = a.period_width;
    r.policy = MissingPolicy::Error;
    r
}

/// The unit × period panel of the flags: the data layer reads the columns (every used column
/// must exist and have no missing value; errors name the column and row; with --events the
/// rows are averaged into unit × period cells, a cell treated if any of its rows is), and the
/// long columns become the estimators' [`SynthPanel`].
fn read_panel(a: &SynthArgs, data: &Dataset) -> Result<(SynthPanel, PanelColumns), CliError> {
    if (a.aggregate || a.warehouse.table.is_some()) && !a.covariates.is_empty() {
        return Err(CliError::bad(
            "--covariates cannot be combined with --events (cell means of covariates are not defined here); aggregate the file first",
        ));
    }
    let mut r = roles(a);
    // Covariates are read as unit x period matrices later (some cells may be missing).
    r.covariates.clear();
    roles(a).check_distinct()?;
    let c = match crate::warehouse_panel::read(&a.warehouse, &r, a.data.as_deref())? {
        Some(c) => c,
        None => r.read(data)?,
    };
    let treated: Vec<f64> = match (&a.treated, a.treated_unit.is_empty(), &a.treatment_start) {
        (Some(_), true, None) => c.treated.clone().expect("treated column read"),
        (None, false, Some(start)) => c.treated_from_units(&r, &a.treated_unit, start)?,
        _ => {
            return Err(CliError::bad(
                "give either --treated COL, or --treated-unit NAME with --treatment-start T",
            ))
        }
    };
    let units = c.unit.clone().expect("unit read");
    let time: Vec<f64> = c.time.iter().flatten().map(|&t| t as f64).collect();
    let treated: Vec<bool> = treated.iter().map(|&d| d > 0.5).collect();
    let panel = SynthPanel::from_long(&units, &time, &c.outcome, &treated)?;
    if panel.n_treated() == 0 {
        return Err(CliError::bad(
            "no unit is treated in any period of the data",
        ));
    }
    Ok((panel, c))
}

/// The covariate columns as units x periods matrices in the panel's order; cells whose
/// period index `j` has `needed(j)` true must be observed (the data layer's error names the
/// column, row, unit and period and says `why`).
fn read_covariates_where(
    a: &SynthArgs,
    data: &Dataset,
    panel: &SynthPanel,
    needed: impl Fn(usize) -> bool,
    why: &str,
) -> Result<Vec<CellMatrix>, CliError> {
    let periods: Vec<i64> = panel.periods.iter().map(|&p| p as i64).collect();
    Ok(design::covariate_cells(
        data,
        &roles(a),
        &panel.units,
        &periods,
        needed,
        why,
    )?)
}

/// A data-layer cell matrix as the estimators' matrix.
fn to_matrix(m: &CellMatrix) -> DMatrix<f64> {
    DMatrix::from_row_slice(m.n_units, m.n_periods, &m.values)
}

/// Range checks of every numeric option, before any data is read; errors name the flag.
/// Replication counts are bounded by [`limits::max_replications`] (one stored estimate per
/// replicate, 8 bytes, and at most [`limits::MAX_REPLICATIONS`]).
fn check_numeric_args(a: &SynthArgs) -> Result<(), CliError> {
    limits::check_alpha_level("--alpha", a.alpha)?;
    if let Some(p) = a.placebo {
        limits::check_replications("--placebo", p, 2, 8)?;
    }
    if let Some(r) = a.replications {
        limits::check_replications("--replications", r, 2, 8)?;
    }
    if a.max_placebo_fits > limits::MAX_REPLICATIONS {
        return Err(CliError::bad(format!(
            "--max-placebo-fits must be at most {}, got {}",
            limits::MAX_REPLICATIONS,
            a.max_placebo_fits
        )));
    }
    if let Some(l) = a.lambda {
        if !(l.is_finite() && l >= 0.0) {
            return Err(CliError::bad(format!(
                "--lambda must be a finite number >= 0, got {l}"
            )));
        }
    }
    Ok(())
}

/// Runs `causalkit synth`.
pub fn run(a: SynthArgs) -> Result<Rendered, CliError> {
    check_numeric_args(&a)?;
    if let Some(sql) = crate::warehouse_panel::explain(&a.warehouse, &roles(&a), a.data.as_deref())?
    {
        return Ok(sql.into());
    }
    let data = match &a.data {
        Some(p) => Dataset::read(p)?,
        None => Dataset::empty(&a.warehouse.source(None)),
    };
    let (panel, columns) = read_panel(&a, &data)?;
    let (result, gaps) = match a.method {
        MethodArg::Sdid | MethodArg::Did | MethodArg::SdidSc => run_sdid(&a, &data, &panel)?,
        MethodArg::Sc => run_abadie(&a, &panel)?,
        MethodArg::Ascm => run_ascm(&a, &data, &panel)?,
    };
    let mut result = result;
    result
        .diagnostics
        .insert("data".into(), a.warehouse.source(a.data.as_deref()).into());
    if let Some(note) = columns.period_note(&a.time) {
        result.diagnostics.insert("periods".into(), note.into());
    }
    if let (Some(dir), Some(g)) = (&a.plot, &gaps) {
        causalkit_report::save_all(dir, &charts(&a, &panel, g)?)?;
    }
    crate::report::capture(&result);
    Ok(render_with(&result, a.format, table))
}

/// The common table (nested diagnostics as small tables) plus the largest unit weights.
fn table(r: &EstimationResult) -> String {
    let mut out = table_nested(r, &["unit_weights", "weights"]);
    if let Some(serde_json::Value::Object(w)) = r.diagnostics.get("unit_weights") {
        let mut ws: Vec<(&String, f64)> = w
            .iter()
            .map(|(k, v)| (k, v.as_f64().unwrap_or(0.0)))
            .collect();
        ws.sort_by(|a, b| b.1.total_cmp(&a.1));
        let rows: Vec<Vec<String>> = ws
            .iter()
            .filter(|(_, v)| v.abs() > 1e-9)
            .take(10)
            .map(|(k, v)| vec![k.to_string(), num(Some(*v))])
            .collect();
        out.push_str("\nlargest unit weights\n");
        out.push_str(&plain_table(&["unit", "weight"], &rows));
    }
    out
}

/// The gap paths used by the plots: the real one first, then the placebos.
type Gaps = (Vec<f64>, Vec<f64>, Vec<GapPath>);

/// The plotted paths of an Abadie or ASCM fit: the treated unit's gap path first, then one per
/// in-space placebo, with the treated and synthetic outcome paths.
fn placebo_paths(
    treated: GapPath,
    treated_outcome: &[f64],
    synthetic: &[f64],
    p: &PlaceboInSpace,
) -> Gaps {
    let mut paths = vec![treated];
    for (i, name) in p.names.iter().enumerate() {
        paths.push(GapPath {
            unit: name.clone(),
            gaps: p.gaps[i].clone(),
            rmspe_pre: p.rmspe_pre[i],
            rmspe_post: p.rmspe_post[i],
        });
    }
    (treated_outcome.to_vec(), synthetic.to_vec(), paths)
}

/// The SDID standard error the flags ask for: `--se` (default placebo) and its replications
/// (`--placebo N` or `--replications N`, default 200); `--placebo` with another `--se`, or the
/// two counts disagreeing, is bad input.
fn se_request(a: &SynthArgs) -> Result<(SeArg, usize), CliError> {
    let se_arg = a.se.unwrap_or(SeArg::Placebo);
    if a.placebo.is_some() && !matches!(se_arg, SeArg::Placebo) {
        return Err(CliError::bad(
            "--placebo N sets the placebo SE; it conflicts with --se",
        ));
    }
    let reps = match (a.placebo, a.replications) {
        (Some(p), Some(r)) if p != r => {
            return Err(CliError::bad("--placebo N and --replications disagree"));
        }
        (Some(p), _) => p,
        (None, Some(r)) => r,
        (None, None) => 200,
    };
    Ok((se_arg, reps))
}

fn run_sdid(
    a: &SynthArgs,
    data: &Dataset,
    panel: &SynthPanel,
) -> Result<(EstimationResult, Option<Gaps>), CliError> {
    let method = match a.method {
        MethodArg::Sdid => SdidMethod::Sdid,
        MethodArg::Did => SdidMethod::Did,
        _ => SdidMethod::Sc,
    };
    if !a.predictors.is_empty() {
        return Err(CliError::bad(
            "--predictors applies to --method sc (Abadie) only",
        ));
    }
    if a.lambda.is_some() {
        return Err(CliError::bad("--lambda applies to --method ascm only"));
    }
    let opts = SdidOptions::new(method);
    if a.exact_placebo && (!a.covariates.is_empty() || !matches!(a.se, None | Some(SeArg::Placebo)))
    {
        return Err(CliError::bad(
            "--exact-placebo is the placebo SE of sdid/did/sdid-sc without --covariates; drop --se or --covariates",
        ));
    }
    if !a.covariates.is_empty() {
        return run_sdid_covariates(a, data, panel, &opts);
    }
    let (se_arg, reps) = se_request(a)?;
    let se = match se_arg {
        SeArg::Placebo => Some((SeMethod::Placebo, reps, a.seed)),
        SeArg::Bootstrap => Some((SeMethod::Bootstrap, reps, a.seed)),
        SeArg::Jackknife => Some((SeMethod::Jackknife, 0, a.seed)),
        SeArg::None => None,
    };
    let rep = if a.exact_placebo {
        causalkit_stats::error::check_alpha(a.alpha)?;
        let fit = sdid(panel, &opts)?;
        let se = placebo_se_exact(panel, &fit, &opts, a.max_placebo_fits)?;
        SdidReport {
            fit,
            se: Some(se),
            alpha: a.alpha,
            units: panel.units.clone(),
            periods: panel.periods.clone(),
        }
    } else {
        sdid_inference(panel, &opts, se, a.alpha)?
    };
    let mut result = rep.result();
    if a.exact_placebo {
        result.diagnostics.insert(
            "placebo".into(),
            "exact: every assignment fitted once".into(),
        );
    } else if rep.se.is_some() {
        result.diagnostics.insert("seed".into(), a.seed.into());
    }
    if let Some(s) = &rep.se {
        if s.method == SeMethod::Placebo && panel.n_treated() == 1 {
            result.warnings.push(
                "placebo SE with one treated unit assumes homoskedastic errors across units (Arkhangelsky et al. 2021, Algorithm 4)".into(),
            );
        }
    }
    let gaps = if a.plot.is_some() && rep.fit.cohorts.len() == 1 {
        let c = &rep.fit.cohorts[0];
        let (tr, _, adj) = c.paths(&panel.y);
        let paths = in_space_placebos(panel, &rep.fit, &opts)?;
        let mut ranking = serde_json::Map::new();
        for p in &paths {
            ranking.insert(p.unit.clone(), p.ratio().into());
        }
        result
            .diagnostics
            .insert("rmspe_ratio".into(), serde_json::Value::Object(ranking));
        Some((tr, adj, paths))
    } else {
        None
    };
    Ok((result, gaps))
}

fn run_sdid_covariates(
    a: &SynthArgs,
    data: &Dataset,
    panel: &SynthPanel,
    opts: &SdidOptions,
) -> Result<(EstimationResult, Option<Gaps>), CliError> {
    // The time-varying covariates of sdid/did/sdid-sc: observed in every unit-period.
    let covs: Vec<(String, DMatrix<f64>)> = read_covariates_where(
        a,
        data,
        panel,
        |_| true,
        "covariates must be observed in every unit-period",
    )?
    .iter()
    .map(|m| (m.column.clone(), to_matrix(m)))
    .collect();
    let (se_arg, reps) = se_request(a)?;
    let fit = sdid_covariates(panel, &covs, opts)?;
    let staggered = fit.fit.cohorts.len() > 1;
    // Staggered adoption: no SE is implemented with covariates; without an explicit request
    // the fit is reported without one (an explicit --se/--placebo is a typed error).
    let se_arg = if staggered && a.se.is_none() && a.placebo.is_none() {
        SeArg::None
    } else {
        se_arg
    };
    let se_method = match se_arg {
        SeArg::Placebo => Some(SeMethod::Placebo),
        SeArg::Bootstrap => Some(SeMethod::Bootstrap),
        SeArg::Jackknife => Some(SeMethod::Jackknife),
        SeArg::None => None,
    };
    let se = match se_method {
        Some(m) => Some(se_cov(panel, &covs, &fit, opts, m, reps, a.seed)?),
        None => None,
    };
    let rep = SdidReport {
        fit: fit.fit.clone(),
        se,
        alpha: a.alpha,
        units: panel.units.clone(),
        periods: panel.periods.clone(),
    };
    let mut result = rep.result();
    result.method = format!(
        "{} with time-varying covariates (synthdid X)",
        result.method
    );
    let mut beta = serde_json::Map::new();
    for (n, b) in &fit.beta {
        beta.insert(n.clone(), (*b).into());
    }
    result
        .diagnostics
        .insert("covariate_beta".into(), serde_json::Value::Object(beta));
    result
        .diagnostics
        .insert("covariate_solver_iterations".into(), fit.iterations.into());
    if staggered {
        let mut by = serde_json::Map::new();
        for (c, b) in fit.fit.cohorts.iter().zip(&fit.cohort_beta) {
            let mut m = serde_json::Map::new();
            for ((n, _), v) in covs.iter().zip(b) {
                m.insert(n.clone(), (*v).into());
            }
            by.insert(
                period_label(panel.periods[c.start]),
                serde_json::Value::Object(m),
            );
        }
        result.diagnostics.insert(
            "covariate_beta_by_cohort".into(),
            serde_json::Value::Object(by),
        );
        result.warnings.push(
            "staggered adoption with covariates: each cohort has its own beta (covariate_beta_by_cohort; covariate_beta is their N1*T1-weighted mean); standard errors are not implemented for this design".into(),
        );
    }
    if let Some(s) = &rep.se {
        if s.method != SeMethod::Jackknife {
            result.diagnostics.insert("seed".into(), a.seed.into());
        }
        if s.method == SeMethod::Placebo && panel.n_treated() == 1 {
            result.warnings.push(
                "placebo SE with one treated unit assumes homoskedastic errors across units (Arkhangelsky et al. 2021, Algorithm 4)".into(),
            );
        }
    }
    if fit.iterations >= opts.max_iter {
        result.warnings.push(format!(
            "the joint weights/beta solver stopped at max_iter = {} without meeting synthdid's decrease criterion (as R synthdid typically does with covariates)",
            opts.max_iter
        ));
    }
    // Plots: paths of the covariate-adjusted outcome Y - X beta (no placebo panel); block
    // designs only.
    let gaps = if a.plot.is_some() && !staggered {
        let mut y = panel.y.clone();
        for ((_, x), (_, b)) in covs.iter().zip(&fit.beta) {
            y -= x * *b;
        }
        let c = &fit.fit.cohorts[0];
        let (tr, _, adj) = c.paths(&y);
        let gaps: Vec<f64> = tr.iter().zip(&adj).map(|(p, q)| p - q).collect();
        let t0 = c.start;
        let rms = |g: &[f64]| (g.iter().map(|x| x * x).sum::<f64>() / g.len() as f64).sqrt();
        let path = GapPath {
            unit: "treated (mean)".into(),
            rmspe_pre: rms(&gaps[..t0]),
            rmspe_post: rms(&gaps[t0..]),
            gaps,
        };
        Some((tr, adj, vec![path]))
    } else {
        None
    };
    Ok((result, gaps))
}

fn period_index(panel: &SynthPanel, v: &str, spec: &str) -> Result<usize, CliError> {
    let x: f64 = v
        .trim()
        .parse()
        .map_err(|_| CliError::bad(format!("predictor `{spec}`: `{v}` is not a period value")))?;
    panel
        .periods
        .iter()
        // Exact by design: the period must be one of the data's own values.
        .position(|p| p.total_cmp(&x).is_eq())
        .ok_or_else(|| CliError::bad(format!("predictor `{spec}`: period {v} is not in the data")))
}

/// Parses `outcome:PERIOD` and `mean:FROM-TO` predictors.
fn predictors(panel: &SynthPanel, specs: &[String]) -> Result<Predictors, CliError> {
    if specs.is_empty() {
        return Ok(Predictors::AllPreOutcomes);
    }
    let mut out = Vec::new();
    for spec in specs {
        let (kind, arg) = spec.split_once(':').ok_or_else(|| {
            CliError::bad(format!(
                "predictor `{spec}`: use outcome:PERIOD or mean:FROM-TO (covariate predictors are available in the library only)"
            ))
        })?;
        match kind.trim() {
            "outcome" => out.push(Predictor::Outcome {
                period: period_index(panel, arg, spec)?,
            }),
            "mean" => {
                let (a, b) = arg.split_once('-').ok_or_else(|| {
                    CliError::bad(format!("predictor `{spec}`: use mean:FROM-TO"))
                })?;
                out.push(Predictor::OutcomeMean {
                    from: period_index(panel, a, spec)?,
                    to: period_index(panel, b, spec)?,
                });
            }
            other => {
                return Err(CliError::bad(format!(
                    "predictor `{spec}`: unknown kind `{other}` (use outcome or mean)"
                )))
            }
        }
    }
    Ok(Predictors::Spec(out))
}

fn run_abadie(
    a: &SynthArgs,
    panel: &SynthPanel,
) -> Result<(EstimationResult, Option<Gaps>), CliError> {
    if a.lambda.is_some() {
        return Err(CliError::bad("--lambda applies to --method ascm only"));
    }
    if !a.covariates.is_empty() {
        return Err(CliError::bad(
            "--covariates applies to sdid, did, sdid-sc and ascm; Abadie SC takes covariates as predictors in the library",
        ));
    }
    if panel.n_treated() != 1 {
        return Err(CliError::bad(format!(
            "--method sc (Abadie) needs exactly one treated unit, found {}; use --method sdid for several",
            panel.n_treated()
        )));
    }
    if a.se.is_some() || a.replications.is_some() || a.exact_placebo {
        return Err(CliError::bad(
            "--se/--replications/--exact-placebo apply to sdid, did and sdid-sc; Abadie SC uses --placebo N (in-space placebo test)",
        ));
    }
    let treated = panel.units.len() - 1;
    let t0 = panel.adoption[treated].unwrap_or(0);
    let donors: Vec<usize> = (0..treated).collect();
    let sc = SyntheticControl::new(&panel.y, treated, t0)
        .donors(donors)
        .predictors(predictors(panel, &a.predictors)?)
        .unit_names(panel.units.clone())
        .period_labels(panel.periods.iter().map(|p| period_label(*p)).collect());
    let placebo_wanted = a.placebo.is_some() || a.plot.is_some();
    let (fit, placebo) = if placebo_wanted {
        let (f, p) = sc.fit_with_placebo(&PlaceboOptions::default())?;
        (f, Some(p))
    } else {
        (sc.fit()?, None)
    };
    let mut result = fit
        .report(
            if a.placebo.is_some() {
                placebo.as_ref()
            } else {
                None
            },
            None,
        )
        .result();
    if let Some(w) = result.diagnostics.get("weights").cloned() {
        result.diagnostics.insert("unit_weights".into(), w);
    }
    let gaps = placebo.map(|p| {
        let treated = GapPath {
            unit: fit.treated_name.clone(),
            gaps: fit.gaps.clone(),
            rmspe_pre: fit.rmspe_pre,
            rmspe_post: fit.rmspe_post,
        };
        placebo_paths(treated, &fit.treated_outcome, &fit.synthetic, &p)
    });
    if a.placebo.is_some() {
        result
            .warnings
            .push("Abadie SC: --placebo runs the in-space placebo test (one refit per donor); its p-value is on the ATT row".into());
    }
    Ok((result, gaps))
}

fn run_ascm(
    a: &SynthArgs,
    data: &Dataset,
    panel: &SynthPanel,
) -> Result<(EstimationResult, Option<Gaps>), CliError> {
    if panel.n_treated() != 1 {
        return Err(CliError::bad(format!(
            "--method ascm needs exactly one treated unit, found {}; use --method sdid for several",
            panel.n_treated()
        )));
    }
    if !a.predictors.is_empty() {
        return Err(CliError::bad(
            "--predictors applies to --method sc (Abadie) only; ASCM balances every pre-period outcome",
        ));
    }
    if a.se.is_some() || a.replications.is_some() || a.exact_placebo {
        return Err(CliError::bad(
            "--se/--replications/--exact-placebo apply to sdid, did and sdid-sc; ASCM reports conformal intervals and, with --placebo, the in-space placebo test",
        ));
    }
    let treated = panel.units.len() - 1;
    let t0 = panel.adoption[treated].unwrap_or(0);
    let lambda = match a.lambda {
        Some(l) => LambdaChoice::Fixed(l),
        None => LambdaChoice::CrossValidated(CvOptions::default()),
    };
    let mut spec = AugmentedSc::new(&panel.y, treated, t0)
        .donors((0..treated).collect())
        .lambda(lambda)
        .unit_names(panel.units.clone())
        .period_labels(panel.periods.iter().map(|p| period_label(*p)).collect());
    if !a.covariates.is_empty() {
        if t0 == 0 {
            return Err(CliError::bad(
                "--covariates with --method ascm needs at least one pre-treatment period",
            ));
        }
        // The fixed covariates: each unit's mean of the column over the pre-period, as
        // augsynth's default `cov_agg` (mean over `time < t_int`). Every pre-period value must
        // be observed (augsynth would drop missing ones with `na.rm = TRUE`; here that is an
        // error naming the unit and period); post-period values may be missing.
        let cells = read_covariates_where(
            a,
            data,
            panel,
            |j| j < t0,
            "with --method ascm every pre-period value is needed (the covariate is the unit's pre-period mean)",
        )?;
        let means = design::pre_period_means(&cells, t0);
        let z = DMatrix::from_row_slice(panel.units.len(), cells.len(), &means);
        spec = spec.covariates(a.covariates.clone(), &z);
    }
    let fit = spec.fit()?;
    let conformal = fit.conformal_intervals(&ConformalOptions {
        alpha: a.alpha,
        ..ConformalOptions::default()
    })?;
    let placebo = if a.placebo.is_some() || a.plot.is_some() {
        Some(fit.placebo_in_space(&PlaceboOptions::default())?)
    } else {
        None
    };
    let mut result = fit
        .report(
            if a.placebo.is_some() {
                placebo.as_ref()
            } else {
                None
            },
            Some(&conformal),
        )
        .result();
    if let Some(w) = result.diagnostics.get("weights").cloned() {
        result.diagnostics.insert("unit_weights".into(), w);
    }
    if a.placebo.is_some() {
        result.warnings.push(
            "ASCM: --placebo runs the in-space placebo test (one refit per donor, lambda chosen the same way); its p-value is on the ATT row".into(),
        );
    }
    let gaps = placebo.map(|p| {
        let treated = GapPath {
            unit: fit.treated_name.clone(),
            gaps: fit.gaps.clone(),
            rmspe_pre: fit.rmspe_pre,
            rmspe_post: fit.rmspe_post,
        };
        placebo_paths(treated, &fit.treated_outcome, &fit.synthetic, &p)
    });
    Ok((result, gaps))
}

/// The treated-vs-synthetic paths, the gap and, with placebos, the placebo gaps and the
/// RMSPE-ratio ranking, rendered in memory; `causalkit_report::save_all` writes them.
fn charts(a: &SynthArgs, panel: &SynthPanel, g: &Gaps) -> Result<Vec<Chart>, CliError> {
    let mut charts = Vec::new();
    let (tr, synth, paths) = g;
    let x = panel.periods.clone();
    let start = panel.adoption.iter().flatten().min().copied().unwrap_or(0);
    let vline = if start > 0 {
        (x[start - 1] + x[start]) / 2.0
    } else {
        x[0]
    };
    let treated_name = paths.first().map(|p| p.unit.clone()).unwrap_or_default();
    let method = format!("{:?}", a.method).to_lowercase();
    charts.push(
        LineChart::new(format!(
            "{}: {treated_name} vs synthetic ({method})",
            a.outcome
        ))
        .x_label(&a.time)
        .y_label(&a.outcome)
        .vline(vline)
        .chart(
            "paths",
            &[
                Series::new(treated_name.clone(), x.clone(), tr.clone()),
                Series::new("synthetic", x.clone(), synth.clone()),
            ],
        )?,
    );
    let gap: Vec<f64> = tr.iter().zip(synth).map(|(p, q)| p - q).collect();
    charts.push(
        LineChart::new(format!(
            "{}: gap {treated_name} − synthetic ({method}; point estimates, no interval band)",
            a.outcome
        ))
        .x_label(&a.time)
        .y_label("gap")
        .vline(vline)
        .hline(0.0)
        .chart("gap", &[Series::new("gap", x.clone(), gap.clone())])?,
    );
    if paths.len() > 1 {
        let series: Vec<Series> = paths
            .iter()
            .map(|p| Series::new(p.unit.clone(), x.clone(), p.gaps.clone()))
            .collect();
        charts.push(
            LineChart::new(format!(
                "{}: placebo gaps ({method}; point estimates, no interval band)",
                a.outcome
            ))
            .x_label(&a.time)
            .y_label("gap")
            .vline(vline)
            .hline(0.0)
            .highlight(treated_name.clone())
            .others_label("placebo (control units)")
            .chart("placebo_gaps", &series)?,
        );
        let bars: Vec<(String, f64)> = paths.iter().map(|p| (p.unit.clone(), p.ratio())).collect();
        charts.push(
            BarChart::new(format!(
                "post/pre RMSPE ratio ({method}); treatment from {}",
                period_label(x[start])
            ))
            .x_label("post/pre RMSPE")
            .highlight(treated_name.clone())
            .sort_descending(true)
            .chart("rmspe_ratio", &bars)?,
        );
    }
    Ok(charts)
}
