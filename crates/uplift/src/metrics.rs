//! Uplift evaluation metrics: Qini and uplift curves and their normalised areas, uplift at
//! k, the uplift-by-percentile table and its weighted average, and causalml's Qini and AUUC
//! scores — with explicit tie handling, continuous outcomes, several treatment arms and
//! seeded bootstrap confidence intervals.
//!
//! # Definitions
//!
//! Rows are ranked by score, highest first. In the top `x` rows `N_t`, `N_c` are the treated
//! and control counts and `Y_t`, `Y_c` the outcome sums of each group (responders for a 0/1
//! outcome). Following Radcliffe (2007), "Using control groups to target on predicted
//! lift", *Direct Marketing Analytics Journal* 1, and the conventions of scikit-uplift 0.5.1
//! (read from its source):
//!
//! - **Qini curve** `Q(x) = Y_t - Y_c N_t / N_c` (the second term is 0 while `N_c = 0`).
//! - **Uplift curve** `U(x) = (Y_t/N_t - Y_c/N_c) (N_t + N_c)` (a mean over no rows counts 0).
//! - Both start at `(0, 0)` and have one point per tie group (below); areas are trapezoids.
//!   The *random* curve is the chord from `(0, 0)` to the end point.
//! - **`qini_auc`** (`qini_auc_score`, `negative_effect=True`) =
//!   `(A_model - A_random) / (A_perfect - A_random)` where the perfect curve is the Qini curve
//!   of the score `y w - y (1 - w)`. That score is defined for continuous outcomes too, so
//!   `qini_auc` is reported for them (scikit-uplift itself rejects non-binary outcomes).
//! - **`qini_auc_positive`** (`negative_effect=False`): the perfect curve is
//!   `(0,0) → (G,G) → (N,G)` with `G = Y_T - N_T Y_C / N_C` over all rows. Binary outcomes
//!   only (the x coordinate `G` is a number of rows), and undefined when `G <= 0`.
//! - **`uplift_auc`** (`uplift_auc_score`): the same normalisation of the uplift curve, the
//!   perfect curve being that of the score `2·[y = w] + (y if #control responders > #treated
//!   non-responders else w)`. Binary outcomes only.
//! - **`uplift_at_k`**, `overall`: difference of the group means among the top
//!   `floor(k n)` rows; `by_group`: top `floor(k n_t)` treated rows against top
//!   `floor(k n_c)` control rows, each ranked separately.
//! - **Uplift by percentile** (`uplift_by_percentile`): the ranked rows cut into `bins` bins
//!   as `numpy.array_split` does (the first `n mod bins` bins one row larger); per bin the
//!   group counts, means, their difference and standard errors `sqrt(var/n)` with the
//!   population variance (`p (1 - p)` for 0/1 outcomes, as scikit-uplift). `by_group` splits
//!   the treated and the control ranking separately.
//! - **`wau`** (`weighted_average_uplift`): the bins' uplifts averaged with weights `N_t`.
//! - **`causalml_qini`**, **`causalml_auuc`** (causalml 0.18 `qini_score`, `auuc_score`,
//!   `normalize=True`): one curve point per row `i = 0..N` (no tie groups). causalml's
//!   Qini is `Q(i)`, its gain `G(i) = L(i) i` with the lift `L(i) = Y_t/N_t - Y_c/N_c`;
//!   where a group is still empty, `Q` and `L` are linearly interpolated between `(0, 0)`
//!   and their first defined point (pandas `interpolate`); both curves are divided by the absolute value of their end point.
//!   `causalml_auuc = Σ_i G(i) / (N + 1)`, `causalml_qini = (Σ_i Q(i) - Σ_i chord(i)) /
//!   (N + 1)` with the chord `Q(N) i / N`.
//!
//! # Ties
//!
//! Scores are tied when, in the descending ranking, they lie within
//! `tie_tolerance · max(1, |s₀|)` of the first (largest) score `s₀` of their group; groups
//! are anchored at their first score so tolerance never chains. The default tolerance is
//! `1e-12` (a score computed twice along different summation orders stays one group);
//! `0` groups exactly equal scores only, as scikit-uplift does (`numpy.diff != 0`).
//!
//! The curves and the three normalised areas always use tie groups (as scikit-uplift).
//! Metrics that cut the ranking at a row position — `uplift_at_k`, the percentile table and
//! WAU, causalml's row-level curves — need an order *inside* a tie group; [`Ties`] chooses it:
//!
//! - [`Ties::Grouped`] (default): a tie group cut by a position contributes the cut fraction
//!   of each of its sums — the expected value over random orders inside the group. The
//!   result does not depend on the row order of the file.
//! - [`Ties::RowOrder`]: the peers' conventions, which depend on the row order of the
//!   file. scikit-uplift sorts with a stable ascending mergesort and reverses it, so tied
//!   rows come in *descending* row order for `uplift_at_k` and the percentile table;
//!   causalml sorts with pandas' `sort_values(ascending=False)`, i.e. numpy's *unstable*
//!   quicksort, so the order of tied rows is an accident of numpy's sort implementation
//!   and version (with numpy 2.4.6 on this machine the 10-row toy case of the reference
//!   comes out as rows `[9, 4, 8, 3, 7, 2, 6, 1, 0, 5]`: neither ascending nor descending
//!   within ties). causalml's value on tied scores therefore cannot be reproduced from the
//!   scores alone; with this rule we use ascending row order for the causalml metrics, and
//!   [`causalml_scores_in_order`] reproduces causalml exactly given the permutation pandas
//!   produced.
//!
//! Without ties (or with ties not cut by any position) both rules give the same numbers.
//!
//! # Several treatments
//!
//! [`evaluate_arms`] evaluates each treated arm against the control rows with that arm's
//! score (rows of other arms are left out), as scikit-uplift and causalml do for one arm.
//!
//! # Bootstrap
//!
//! [`evaluate`] with `bootstrap > 0` resamples rows with replacement *within* the treated
//! and the control group (group sizes fixed), recomputes every metric and reports the
//! replicates' standard deviation and percentile interval. Replicate `b` draws from the
//! ChaCha8 stream `(seed, b)` ([`causalkit_stats::resample`]), so the intervals are
//! identical for any number of threads.

use crate::error::{invalid, undefined, Result, UpliftError};
use causalkit_stats::resample::{quantile, replicate};
use causalkit_stats::{Effect, EstimationResult, Report};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Default tie tolerance (relative to `max(1, |score|)`).
pub const DEFAULT_TIE_TOLERANCE: f64 = 1e-12;

/// How positions that cut through a group of tied scores are resolved (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Ties {
    /// A cut tie group contributes the cut fraction of its sums (independent of row order).
    #[default]
    Grouped,
    /// The peers' row-order conventions (scikit-uplift: descending row index inside ties;
    /// causalml: ascending).
    RowOrder,
}

/// `uplift_at_k` and percentile strategies of scikit-uplift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Strategy {
    /// One ranking of all rows.
    Overall,
    /// The treated and the control rows ranked separately.
    ByGroup,
}

/// A curve: points `(x[i], y[i])`, `x` in rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Curve {
    /// Number of top-ranked rows.
    pub x: Vec<f64>,
    /// Curve value.
    pub y: Vec<f64>,
}

impl Curve {
    /// Area under the curve by the trapezoidal rule.
    pub fn area(&self) -> f64 {
        trapezoid(&self.x, &self.y)
    }
}

/// Exactly 0 or 1 (a binary outcome value; exact comparison intended).
#[allow(clippy::float_cmp)]
fn is_01(v: f64) -> bool {
    v == 0.0 || v == 1.0
}

/// Exact equality of two scores (scikit-uplift's `numpy.diff != 0`; exact comparison
/// intended).
#[allow(clippy::float_cmp)]
fn same(a: f64, b: f64) -> bool {
    a == b
}

fn trapezoid(x: &[f64], y: &[f64]) -> f64 {
    x.windows(2)
        .zip(y.windows(2))
        .map(|(xs, ys)| (xs[1] - xs[0]) * (ys[0] + ys[1]) / 2.0)
        .sum()
}

/// Validated evaluation data: outcome, treated flag and score per row.
fn validate(y: &[f64], treated: &[bool], score: &[f64]) -> Result<()> {
    let n = y.len();
    for (what, len) in [("treatment", treated.len()), ("score", score.len())] {
        if len != n {
            return Err(UpliftError::LengthMismatch {
                what: what.into(),
                got: len,
                expected: n,
            });
        }
    }
    for (name, v) in [("outcome", y), ("score", score)] {
        if let Some(i) = v.iter().position(|x| !x.is_finite()) {
            return Err(UpliftError::NonFinite {
                variable: name.into(),
                row: i,
                value: v[i],
            });
        }
    }
    let nt = treated.iter().filter(|&&t| t).count();
    if nt == 0 || nt == n {
        return Err(UpliftError::InsufficientData(format!(
            "uplift metrics need treated and control rows; got {nt} treated and {} control",
            n - nt
        )));
    }
    Ok(())
}

/// Rows ranked by descending score, tied rows in ascending row order, with tie groups.
#[derive(Debug, Clone)]
pub struct Ranked {
    y: Vec<f64>,
    t: Vec<bool>,
    s: Vec<f64>,
    /// Exclusive end position of each tie group.
    ends: Vec<usize>,
    /// Tie group of each position.
    gid: Vec<usize>,
    tol: f64,
}

impl Ranked {
    /// Ranks validated rows. `tie_tolerance` as in the module docs (must be `>= 0`).
    pub fn new(y: &[f64], treated: &[bool], score: &[f64], tie_tolerance: f64) -> Result<Self> {
        validate(y, treated, score)?;
        if !(tie_tolerance >= 0.0 && tie_tolerance.is_finite()) {
            return Err(invalid(
                "tie_tolerance",
                format!("must be a finite number >= 0, got {tie_tolerance}"),
            ));
        }
        let mut order: Vec<usize> = (0..y.len()).collect();
        order.sort_by(|&a, &b| score[b].total_cmp(&score[a]).then(a.cmp(&b)));
        Ok(Self::from_sorted(
            order.iter().map(|&i| y[i]).collect(),
            order.iter().map(|&i| treated[i]).collect(),
            order.iter().map(|&i| score[i]).collect(),
            tie_tolerance,
        ))
    }

    fn from_sorted(y: Vec<f64>, t: Vec<bool>, s: Vec<f64>, tol: f64) -> Self {
        let n = y.len();
        let mut ends = Vec::new();
        let mut gid = Vec::with_capacity(n);
        let mut anchor = f64::NAN;
        for (i, &v) in s.iter().enumerate() {
            if i == 0 {
                anchor = v;
            } else if anchor - v > tol * anchor.abs().max(1.0) {
                ends.push(i);
                anchor = v;
            }
            gid.push(ends.len());
        }
        if n > 0 {
            ends.push(n);
        }
        Ranked {
            y,
            t,
            s,
            ends,
            gid,
            tol,
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Number of tie groups (distinct scores up to the tolerance).
    pub fn groups(&self) -> usize {
        self.ends.len()
    }

    /// Number of rows that share their tie group with at least one other row.
    pub fn tied_rows(&self) -> usize {
        let mut start = 0;
        let mut tied = 0;
        for &e in &self.ends {
            if e - start > 1 {
                tied += e - start;
            }
            start = e;
        }
        tied
    }

    fn is_binary(&self) -> bool {
        self.y.iter().all(|&v| is_01(v))
    }

    /// Rows of one group (treated or control) in ranking order, as a sequence with the
    /// group ids carried over.
    fn seq(&self, keep: Option<bool>, ties: Ties, reverse_ties: bool) -> Seq {
        let idx: Vec<usize> = (0..self.len())
            .filter(|&i| keep.is_none_or(|k| self.t[i] == k))
            .collect();
        let mut order = idx;
        if ties == Ties::RowOrder && reverse_ties {
            // scikit-uplift: exactly equal scores in descending row order.
            let mut a = 0;
            while a < order.len() {
                let mut b = a + 1;
                while b < order.len() && same(self.s[order[b]], self.s[order[a]]) {
                    b += 1;
                }
                order[a..b].reverse();
                a = b;
            }
        }
        Seq::new(self, &order, ties)
    }
}

/// Sums over a set of rows: treated/control counts, outcome sums and sums of squares.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Sums {
    nt: f64,
    nc: f64,
    yt: f64,
    yc: f64,
    yt2: f64,
    yc2: f64,
}

impl Sums {
    fn add(&mut self, y: f64, t: bool, w: f64) {
        if t {
            self.nt += w;
            self.yt += w * y;
            self.yt2 += w * y * y;
        } else {
            self.nc += w;
            self.yc += w * y;
            self.yc2 += w * y * y;
        }
    }
    fn sub(&self, o: &Sums) -> Sums {
        Sums {
            nt: self.nt - o.nt,
            nc: self.nc - o.nc,
            yt: self.yt - o.yt,
            yc: self.yc - o.yc,
            yt2: self.yt2 - o.yt2,
            yc2: self.yc2 - o.yc2,
        }
    }
    fn lerp(a: &Sums, b: &Sums, f: f64) -> Sums {
        let l = |x: f64, y: f64| x + f * (y - x);
        Sums {
            nt: l(a.nt, b.nt),
            nc: l(a.nc, b.nc),
            yt: l(a.yt, b.yt),
            yc: l(a.yc, b.yc),
            yt2: l(a.yt2, b.yt2),
            yc2: l(a.yc2, b.yc2),
        }
    }
}

/// A ranked sequence with prefix sums and, for [`Ties::Grouped`], the tie group of each
/// position (group ids of the full ranking, restricted to the rows kept).
struct Seq {
    prefix: Vec<Sums>,
    /// (start, end) of the tie group holding each position (only for `Grouped`).
    span: Vec<(usize, usize)>,
    ties: Ties,
}

impl Seq {
    fn new(r: &Ranked, order: &[usize], ties: Ties) -> Seq {
        let mut prefix = Vec::with_capacity(order.len() + 1);
        let mut acc = Sums::default();
        prefix.push(acc);
        for &i in order {
            acc.add(r.y[i], r.t[i], 1.0);
            prefix.push(acc);
        }
        let mut span = Vec::new();
        if ties == Ties::Grouped {
            span = vec![(0, 0); order.len()];
            let mut a = 0;
            while a < order.len() {
                let mut b = a + 1;
                while b < order.len() && r.gid[order[b]] == r.gid[order[a]] {
                    b += 1;
                }
                for s in &mut span[a..b] {
                    *s = (a, b);
                }
                a = b;
            }
        }
        Seq { prefix, span, ties }
    }

    fn len(&self) -> usize {
        self.prefix.len() - 1
    }

    /// Sums over the first `x` positions (fractional inside a cut tie group when grouped).
    fn upto(&self, x: usize) -> Sums {
        if self.ties == Ties::RowOrder || x >= self.len() {
            return self.prefix[x.min(self.len())];
        }
        let (a, b) = self.span[x];
        if a == x {
            return self.prefix[x];
        }
        Sums::lerp(
            &self.prefix[a],
            &self.prefix[b],
            (x - a) as f64 / (b - a) as f64,
        )
    }

    fn between(&self, a: usize, b: usize) -> Sums {
        self.upto(b).sub(&self.upto(a))
    }
}

fn cum_at_group_ends(r: &Ranked) -> Vec<(usize, Sums)> {
    let mut out = Vec::with_capacity(r.ends.len());
    let mut acc = Sums::default();
    let mut start = 0;
    for &e in &r.ends {
        for i in start..e {
            acc.add(r.y[i], r.t[i], 1.0);
        }
        out.push((e, acc));
        start = e;
    }
    out
}

fn qini_value(s: &Sums) -> f64 {
    let ratio = if s.nc != 0.0 { s.nt / s.nc } else { 0.0 };
    s.yt - s.yc * ratio
}

fn uplift_value(s: &Sums) -> f64 {
    let mt = if s.nt != 0.0 { s.yt / s.nt } else { 0.0 };
    let mc = if s.nc != 0.0 { s.yc / s.nc } else { 0.0 };
    (mt - mc) * (s.nt + s.nc)
}

fn curve_of(r: &Ranked, f: fn(&Sums) -> f64) -> Curve {
    let mut c = Curve {
        x: vec![0.0],
        y: vec![0.0],
    };
    for (e, s) in cum_at_group_ends(r) {
        c.x.push(e as f64);
        c.y.push(f(&s));
    }
    c
}

/// The Qini curve (scikit-uplift `qini_curve`): one point per tie group plus `(0, 0)`.
pub fn qini_curve(r: &Ranked) -> Curve {
    curve_of(r, qini_value)
}

/// The uplift curve (scikit-uplift `uplift_curve`).
pub fn uplift_curve(r: &Ranked) -> Curve {
    curve_of(r, uplift_value)
}

fn perfect_ranked(r: &Ranked, score: impl Fn(f64, bool) -> f64) -> Ranked {
    // The perfect score is computed in ranking order; ties among perfect scores are exact
    // and the order inside them does not matter for curves evaluated at group ends.
    let s: Vec<f64> = r.y.iter().zip(&r.t).map(|(&y, &t)| score(y, t)).collect();
    let mut order: Vec<usize> = (0..r.len()).collect();
    order.sort_by(|&a, &b| s[b].total_cmp(&s[a]).then(a.cmp(&b)));
    Ranked::from_sorted(
        order.iter().map(|&i| r.y[i]).collect(),
        order.iter().map(|&i| r.t[i]).collect(),
        order.iter().map(|&i| s[i]).collect(),
        0.0,
    )
}

fn normalised_area(metric: &str, actual: &Curve, perfect: &Curve) -> Result<f64> {
    let xl = *perfect.x.last().expect("curves have a point");
    let yl = *perfect.y.last().expect("curves have a point");
    let base = trapezoid(&[0.0, xl], &[0.0, yl]);
    let denom = perfect.area() - base;
    if denom.abs() <= f64::EPSILON * base.abs().max(1.0) {
        return Err(undefined(
            metric,
            "the perfect curve has the same area as the random chord (no outcome variation to rank)",
        ));
    }
    Ok((actual.area() - base) / denom)
}

fn need_binary(r: &Ranked, metric: &str) -> Result<()> {
    if let Some(i) = r.y.iter().position(|&v| !is_01(v)) {
        return Err(UpliftError::BadValue {
            variable: "outcome".into(),
            row: i,
            value: r.y[i],
            expected: format!("{metric} needs a 0/1 outcome (row in ranking order)"),
        });
    }
    Ok(())
}

/// scikit-uplift's perfect Qini curve (`perfect_qini_curve`).
pub fn perfect_qini_curve(r: &Ranked, negative_effect: bool) -> Result<Curve> {
    if negative_effect {
        return Ok(qini_curve(&perfect_ranked(
            r,
            |y, t| {
                if t {
                    y
                } else {
                    -y
                }
            },
        )));
    }
    need_binary(r, "qini_auc_positive")?;
    let total = cum_at_group_ends(r).last().expect("rows").1;
    let g = total.yt - total.nt * total.yc / total.nc;
    if g <= 0.0 {
        return Err(undefined(
            "qini_auc_positive",
            format!("the overall Qini gain Y_T - N_T Y_C / N_C = {g} is not positive, so the perfect curve (0,0)-(G,G)-(N,G) does not exist"),
        ));
    }
    let n = r.len() as f64;
    Ok(Curve {
        x: vec![0.0, g, n],
        y: vec![0.0, g, g],
    })
}

/// scikit-uplift's perfect uplift curve (`perfect_uplift_curve`); 0/1 outcomes only.
pub fn perfect_uplift_curve(r: &Ranked) -> Result<Curve> {
    need_binary(r, "uplift_auc")?;
    let cr =
        r.y.iter()
            .zip(&r.t)
            .filter(|(&y, &t)| y > 0.5 && !t)
            .count();
    let tn = r.y.iter().zip(&r.t).filter(|(&y, &t)| y < 0.5 && t).count();
    let use_y = cr > tn;
    Ok(uplift_curve(&perfect_ranked(r, move |y, t| {
        let tf = if t { 1.0 } else { 0.0 };
        // y is 0/1 here (checked above).
        let eq = if (y > 0.5) == t { 2.0 } else { 0.0 };
        eq + if use_y { y } else { tf }
    })))
}

/// `qini_auc_score` of scikit-uplift: `negative_effect = true` is `qini_auc`,
/// `false` is `qini_auc_positive`.
pub fn qini_auc(r: &Ranked, negative_effect: bool) -> Result<f64> {
    let name = if negative_effect {
        "qini_auc"
    } else {
        "qini_auc_positive"
    };
    normalised_area(
        name,
        &qini_curve(r),
        &perfect_qini_curve(r, negative_effect)?,
    )
}

/// `uplift_auc_score` of scikit-uplift (0/1 outcomes).
pub fn uplift_auc(r: &Ranked) -> Result<f64> {
    normalised_area("uplift_auc", &uplift_curve(r), &perfect_uplift_curve(r)?)
}

fn check_k(k: f64) -> Result<()> {
    if !(k > 0.0 && k < 1.0) {
        return Err(invalid("k", format!("must lie in (0, 1), got {k}")));
    }
    Ok(())
}

fn mean_diff(metric: &str, s: &Sums, what: &str) -> Result<f64> {
    if s.nt <= 0.0 || s.nc <= 0.0 {
        return Err(undefined(
            metric,
            format!(
                "{what} hold {} treated and {} control rows; both are needed",
                s.nt, s.nc
            ),
        ));
    }
    Ok(s.yt / s.nt - s.yc / s.nc)
}

/// `uplift_at_k` of scikit-uplift for a fraction `k` in (0, 1).
pub fn uplift_at_k(r: &Ranked, k: f64, strategy: Strategy, ties: Ties) -> Result<f64> {
    check_k(k)?;
    match strategy {
        Strategy::Overall => {
            let m = (r.len() as f64 * k).floor() as usize;
            let s = r.seq(None, ties, true).upto(m);
            mean_diff("uplift_at_k_overall", &s, &format!("the top {m} rows"))
        }
        Strategy::ByGroup => {
            let st = r.seq(Some(true), ties, true);
            let sc = r.seq(Some(false), ties, true);
            let mt = (st.len() as f64 * k).floor() as usize;
            let mc = (sc.len() as f64 * k).floor() as usize;
            if mt < 1 || mc < 1 {
                return Err(undefined(
                    "uplift_at_k_by_group",
                    format!("k = {k} selects {mt} treated and {mc} control rows; at least one of each is needed"),
                ));
            }
            let a = st.upto(mt);
            let b = sc.upto(mc);
            Ok(a.yt / a.nt - b.yc / b.nc)
        }
    }
}

/// One bin of the uplift-by-percentile table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PercentileRow {
    /// scikit-uplift's label, e.g. `"0-10"`.
    pub percentile: String,
    /// Treated rows in the bin (fractional under [`Ties::Grouped`] when a tie group is cut).
    pub n_treatment: f64,
    /// Control rows in the bin.
    pub n_control: f64,
    /// Mean outcome of the treated rows (`None` when there are none).
    pub response_rate_treatment: Option<f64>,
    /// Mean outcome of the control rows.
    pub response_rate_control: Option<f64>,
    /// Difference of the two means.
    pub uplift: Option<f64>,
    /// `sqrt(var_t / n_t)`, population variance.
    pub std_treatment: Option<f64>,
    /// `sqrt(var_c / n_c)`.
    pub std_control: Option<f64>,
    /// `sqrt(std_t² + std_c²)`.
    pub std_uplift: Option<f64>,
}

fn array_split_bounds(n: usize, bins: usize) -> Vec<(usize, usize)> {
    let (q, rem) = (n / bins, n % bins);
    let mut out = Vec::with_capacity(bins);
    let mut a = 0;
    for i in 0..bins {
        let len = q + usize::from(i < rem);
        out.push((a, a + len));
        a += len;
    }
    out
}

fn percentile_labels(bins: usize) -> Vec<String> {
    let p: Vec<i64> = (1..=bins)
        .map(|i| (i as f64 * 100.0 / bins as f64).round_ties_even() as i64)
        .collect();
    let mut out = vec![format!("0-{}", p[0])];
    for w in p.windows(2) {
        out.push(format!("{}-{}", w[0], w[1]));
    }
    out
}

fn bin_row(label: String, s: &Sums) -> PercentileRow {
    let rt = (s.nt > 0.0).then(|| s.yt / s.nt);
    let rc = (s.nc > 0.0).then(|| s.yc / s.nc);
    let sd = |n: f64, y: f64, y2: f64| {
        (n > 0.0).then(|| {
            let m = y / n;
            ((y2 / n - m * m).max(0.0) / n).sqrt()
        })
    };
    let st = sd(s.nt, s.yt, s.yt2);
    let sc = sd(s.nc, s.yc, s.yc2);
    PercentileRow {
        percentile: label,
        n_treatment: s.nt,
        n_control: s.nc,
        response_rate_treatment: rt,
        response_rate_control: rc,
        uplift: rt.zip(rc).map(|(a, b)| a - b),
        std_treatment: st,
        std_control: sc,
        std_uplift: st.zip(sc).map(|(a, b)| (a * a + b * b).sqrt()),
    }
}

/// `uplift_by_percentile` of scikit-uplift (`std=True`, without the total row).
pub fn uplift_by_percentile(
    r: &Ranked,
    bins: usize,
    strategy: Strategy,
    ties: Ties,
) -> Result<Vec<PercentileRow>> {
    let labels = percentile_labels(bins.max(1));
    match strategy {
        Strategy::Overall => {
            // scikit-uplift also requires fewer bins than rows.
            if bins < 1 || bins >= r.len() {
                return Err(invalid(
                    "bins",
                    format!(
                        "must lie in 1..{} (fewer than the rows), got {bins}",
                        r.len()
                    ),
                ));
            }
            let seq = r.seq(None, ties, true);
            Ok(array_split_bounds(r.len(), bins)
                .into_iter()
                .zip(labels)
                .map(|((a, b), l)| bin_row(l, &seq.between(a, b)))
                .collect())
        }
        Strategy::ByGroup => {
            let st = r.seq(Some(true), ties, true);
            let sc = r.seq(Some(false), ties, true);
            let smaller = st.len().min(sc.len());
            if bins < 1 || bins > smaller {
                return Err(invalid(
                    "bins",
                    format!("must lie in 1..={smaller} (rows of the smaller group), got {bins}"),
                ));
            }
            let bt = array_split_bounds(st.len(), bins);
            let bc = array_split_bounds(sc.len(), bins);
            Ok(bt
                .into_iter()
                .zip(bc)
                .zip(labels)
                .map(|(((a, b), (c, d)), l)| {
                    let t = st.between(a, b);
                    let u = sc.between(c, d);
                    let s = Sums {
                        nt: t.nt,
                        yt: t.yt,
                        yt2: t.yt2,
                        nc: u.nc,
                        yc: u.yc,
                        yc2: u.yc2,
                    };
                    bin_row(l, &s)
                })
                .collect())
        }
    }
}

/// `weighted_average_uplift` of scikit-uplift: bin uplifts weighted by treated counts.
pub fn weighted_average_uplift(
    r: &Ranked,
    bins: usize,
    strategy: Strategy,
    ties: Ties,
) -> Result<f64> {
    let name = match strategy {
        Strategy::Overall => "wau_overall",
        Strategy::ByGroup => "wau_by_group",
    };
    let table = uplift_by_percentile(r, bins, strategy, ties)?;
    let mut num = 0.0;
    let mut den = 0.0;
    for row in &table {
        let u = row.uplift.ok_or_else(|| {
            undefined(
                name,
                format!(
                    "bin {} has {} treated and {} control rows; both are needed",
                    row.percentile, row.n_treatment, row.n_control
                ),
            )
        })?;
        num += row.n_treatment * u;
        den += row.n_treatment;
    }
    Ok(num / den)
}

/// causalml's row-level curves (one point per row `0..=N`, interpolated where a group is
/// still empty), not normalised: `(qini, gain)`.
fn causalml_curves(r: &Ranked, ties: Ties) -> (Vec<f64>, Vec<f64>) {
    let seq = r.seq(None, ties, false);
    let n = seq.len();
    let mut q = vec![f64::NAN; n + 1];
    let mut g = vec![f64::NAN; n + 1];
    q[0] = 0.0;
    g[0] = 0.0;
    for i in 1..=n {
        let s = seq.upto(i);
        if s.nc > 0.0 {
            q[i] = s.yt - s.yc * s.nt / s.nc;
        }
        if s.nt > 0.0 && s.nc > 0.0 {
            g[i] = s.yt / s.nt - s.yc / s.nc;
        }
    }
    for c in [&mut q, &mut g] {
        // pandas `interpolate()`: a leading run of NaN after the (0, 0) point is filled on
        // the line to the first defined point. Later points are always defined.
        let first = (1..=n).find(|&i| !c[i].is_nan()).unwrap_or(n);
        let v = c[first];
        for (i, ci) in c.iter_mut().enumerate().take(first).skip(1) {
            *ci = v * i as f64 / first as f64;
        }
    }
    // causalml interpolates the cumulative *lift* and then multiplies by the row count.
    for (i, gi) in g.iter_mut().enumerate() {
        *gi *= i as f64;
    }
    (q, g)
}

/// causalml 0.18 `qini_score` and `auuc_score` with `normalize`; returns `(qini, auuc)`.
pub fn causalml_scores(r: &Ranked, normalize: bool, ties: Ties) -> Result<(f64, f64)> {
    let (mut q, mut g) = causalml_curves(r, ties);
    let n1 = q.len() as f64;
    if normalize {
        for (c, name) in [(&mut q, "causalml_qini"), (&mut g, "causalml_auuc")] {
            let last = c.last().expect("rows").abs();
            if last == 0.0 {
                return Err(undefined(
                    name,
                    "the curve ends at 0, so it cannot be normalised by its end point",
                ));
            }
            c.iter_mut().for_each(|v| *v /= last);
        }
    }
    let qn = *q.last().expect("rows");
    let nn = n1 - 1.0;
    let chord: f64 = (0..q.len()).map(|i| qn * i as f64 / nn).sum();
    let qini = (q.iter().sum::<f64>() - chord) / n1;
    let auuc = g.iter().sum::<f64>() / n1;
    Ok((qini, auuc))
}

/// causalml's `qini_score` and `auuc_score` with the rows taken in a given `order` (row
/// indices, best first) instead of a ranking by score: reproduces causalml exactly when
/// `order` is the permutation its `sort_values(ascending=False)` produced, which for tied
/// scores is decided by numpy's unstable quicksort (see the module docs). Returns
/// `(qini, auuc)`.
pub fn causalml_scores_in_order(
    y: &[f64],
    treated: &[bool],
    order: &[usize],
    normalize: bool,
) -> Result<(f64, f64)> {
    let fake: Vec<f64> = (0..y.len()).map(|i| -(i as f64)).collect();
    validate(y, treated, &fake)?;
    if order.len() != y.len() {
        return Err(UpliftError::LengthMismatch {
            what: "order".into(),
            got: order.len(),
            expected: y.len(),
        });
    }
    let mut seen = vec![false; y.len()];
    for (p, &i) in order.iter().enumerate() {
        if i >= y.len() || seen[i] {
            return Err(invalid(
                "order",
                format!("position {p} holds row {i}, which is out of range or repeated"),
            ));
        }
        seen[i] = true;
    }
    let r = Ranked::from_sorted(
        order.iter().map(|&i| y[i]).collect(),
        order.iter().map(|&i| treated[i]).collect(),
        fake,
        0.0,
    );
    causalml_scores(&r, normalize, Ties::RowOrder)
}

/// Options of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalOptions {
    /// Fraction targeted for `uplift_at_k` (scikit-uplift's default 0.3).
    pub k: f64,
    /// Bins of the percentile table and WAU (default 10).
    pub bins: usize,
    /// Tie tolerance (default [`DEFAULT_TIE_TOLERANCE`]).
    pub tie_tolerance: f64,
    /// Row-position tie rule (default [`Ties::Grouped`]).
    pub ties: Ties,
    /// Bootstrap replicates (0: none).
    pub bootstrap: usize,
    /// Seed of the bootstrap.
    pub seed: u64,
    /// Confidence level of the bootstrap intervals is `1 - alpha` (default 0.05).
    pub alpha: f64,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            k: 0.3,
            bins: 10,
            tie_tolerance: DEFAULT_TIE_TOLERANCE,
            ties: Ties::Grouped,
            bootstrap: 0,
            seed: 0,
            alpha: 0.05,
        }
    }
}

/// The nine scalar metrics, in the order of their labels ([`METRIC_LABELS`]); `None` where
/// a metric is undefined for these data (the reason is in the evaluation's warnings).
pub type MetricValues = [Option<f64>; 9];

/// Labels of the scalar metrics, exactly as the JSON output names them.
pub const METRIC_LABELS: [&str; 9] = [
    "qini_auc",
    "qini_auc_positive",
    "uplift_auc",
    "uplift_at_k_overall",
    "uplift_at_k_by_group",
    "wau_overall",
    "wau_by_group",
    "causalml_qini",
    "causalml_auuc",
];

fn all_metrics(r: &Ranked, o: &EvalOptions) -> (MetricValues, Vec<String>) {
    let mut warnings = Vec::new();
    let mut keep = |res: Result<f64>| match res {
        Ok(v) => Some(v),
        Err(e) => {
            warnings.push(e.to_string());
            None
        }
    };
    let binary = r.is_binary();
    let cm = causalml_scores(r, true, o.ties);
    let (cq, ca) = match cm {
        Ok((a, b)) => (Ok(a), Ok(b)),
        Err(e) => (Err(e.clone()), Err(e)),
    };
    let v = [
        keep(qini_auc(r, true)),
        if binary {
            keep(qini_auc(r, false))
        } else {
            None
        },
        if binary { keep(uplift_auc(r)) } else { None },
        keep(uplift_at_k(r, o.k, Strategy::Overall, o.ties)),
        keep(uplift_at_k(r, o.k, Strategy::ByGroup, o.ties)),
        keep(weighted_average_uplift(
            r,
            o.bins,
            Strategy::Overall,
            o.ties,
        )),
        keep(weighted_average_uplift(
            r,
            o.bins,
            Strategy::ByGroup,
            o.ties,
        )),
        keep(cq),
        keep(ca),
    ];
    // A normalised area is (model - random) / (perfect - random): outside [-1, 1] the model
    // beats the perfect ranking, which only a near-zero normaliser allows (the perfect curve
    // scales with the overall treated-minus-control gap). Say so rather than let a value of
    // 40 read as an excellent model.
    for (label, value) in METRIC_LABELS.iter().zip(&v).take(3) {
        if let Some(x) = value.filter(|x| x.abs() > 1.0) {
            warnings.push(format!(
                "`{label}` = {x:.3} lies outside [-1, 1]: its normaliser (the perfect ranking's area above the random one, which scales with the overall treated-minus-control gap) is near zero for these data, so the value is unstable; compare models by `causalml_qini` or the unnormalised curves"
            ));
        }
    }
    if !binary {
        warnings.push(
            "continuous outcome: qini_auc_positive and uplift_auc need a 0/1 outcome and are not reported; qini_auc uses the perfect ranking by y*w - y*(1-w)"
                .into(),
        );
    }
    (v, warnings)
}

/// Bootstrap summary of one metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricCi {
    /// Standard deviation of the replicates.
    pub std_error: f64,
    /// Lower percentile bound.
    pub ci_low: f64,
    /// Upper percentile bound.
    pub ci_high: f64,
    /// Replicates in which the metric was defined.
    pub replicates: usize,
}

/// The evaluation of one score against one control group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpliftEvaluation {
    /// Arm name (`None` for a single treated arm).
    pub arm: Option<String>,
    /// Rows evaluated.
    pub n: usize,
    /// Treated rows.
    pub n_treated: usize,
    /// Control rows.
    pub n_control: usize,
    /// Whether the outcome is 0/1.
    pub binary_outcome: bool,
    /// Tie groups (distinct scores up to the tolerance).
    pub tie_groups: usize,
    /// Rows sharing their score with another row.
    pub tied_rows: usize,
    /// The options used.
    pub options: EvalOptions,
    /// The metrics in [`METRIC_LABELS`] order.
    pub values: MetricValues,
    /// Bootstrap intervals per metric (same order), when asked for.
    pub intervals: Option<Vec<Option<MetricCi>>>,
    /// The Qini curve.
    pub qini_curve: Curve,
    /// The uplift curve.
    pub uplift_curve: Curve,
    /// The perfect Qini curve (scikit-uplift `perfect_qini_curve`, `negative_effect=True`):
    /// the reference a plot draws above the model's curve. `None` only in files written
    /// before it was added.
    #[serde(default)]
    pub perfect_qini_curve: Option<Curve>,
    /// The perfect uplift curve (scikit-uplift `perfect_uplift_curve`); `None` for a
    /// continuous outcome, where it is not defined.
    #[serde(default)]
    pub perfect_uplift_curve: Option<Curve>,
    /// The uplift-by-percentile table (`overall`).
    pub percentiles: Vec<PercentileRow>,
    /// Reasons for metrics that are undefined, and other notes.
    pub warnings: Vec<String>,
}

impl UpliftEvaluation {
    /// The value of a metric by its label.
    pub fn get(&self, label: &str) -> Option<f64> {
        METRIC_LABELS
            .iter()
            .position(|&l| l == label)
            .and_then(|i| self.values[i])
    }
}

fn bootstrap(r: &Ranked, o: &EvalOptions) -> Result<Vec<Option<MetricCi>>> {
    if !(o.alpha > 0.0 && o.alpha < 1.0) {
        return Err(invalid(
            "alpha",
            format!("must lie in (0, 1), got {}", o.alpha),
        ));
    }
    let treated: Vec<usize> = (0..r.len()).filter(|&i| r.t[i]).collect();
    let control: Vec<usize> = (0..r.len()).filter(|&i| !r.t[i]).collect();
    let reps: Vec<MetricValues> = replicate(o.seed, o.bootstrap, |rng, _| {
        let mut count = vec![0u32; r.len()];
        for _ in 0..treated.len() {
            count[treated[rng.random_range(0..treated.len())]] += 1;
        }
        for _ in 0..control.len() {
            count[control[rng.random_range(0..control.len())]] += 1;
        }
        // Expand along the original ranking: duplicates stay next to their row.
        let mut y = Vec::with_capacity(r.len());
        let mut t = Vec::with_capacity(r.len());
        let mut s = Vec::with_capacity(r.len());
        for (i, &c) in count.iter().enumerate() {
            for _ in 0..c {
                y.push(r.y[i]);
                t.push(r.t[i]);
                s.push(r.s[i]);
            }
        }
        all_metrics(&Ranked::from_sorted(y, t, s, r.tol), o).0
    });
    let mut out = Vec::with_capacity(METRIC_LABELS.len());
    for m in 0..METRIC_LABELS.len() {
        let vals: Vec<f64> = reps.iter().filter_map(|v| v[m]).collect();
        if vals.len() < 2 {
            out.push(None);
            continue;
        }
        let mean = vals.iter().sum::<f64>() / vals.len() as f64;
        let var = vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (vals.len() - 1) as f64;
        out.push(Some(MetricCi {
            std_error: var.sqrt(),
            ci_low: quantile(&vals, o.alpha / 2.0)?,
            ci_high: quantile(&vals, 1.0 - o.alpha / 2.0)?,
            replicates: vals.len(),
        }));
    }
    Ok(out)
}

/// Evaluates one uplift score: every metric, the curves and the percentile table, and
/// bootstrap intervals when `options.bootstrap > 0`.
///
/// `y` is the outcome (0/1 or continuous), `treated` the treatment flag, `score` the
/// predicted uplift (higher = target first).
pub fn evaluate(
    y: &[f64],
    treated: &[bool],
    score: &[f64],
    options: &EvalOptions,
) -> Result<UpliftEvaluation> {
    check_k(options.k)?;
    let r = Ranked::new(y, treated, score, options.tie_tolerance)?;
    let (values, mut warnings) = all_metrics(&r, options);
    let percentiles = uplift_by_percentile(&r, options.bins, Strategy::Overall, options.ties)
        .unwrap_or_else(|e| {
            warnings.push(e.to_string());
            Vec::new()
        });
    let intervals = if options.bootstrap > 0 {
        Some(bootstrap(&r, options)?)
    } else {
        None
    };
    let n_treated = r.t.iter().filter(|&&t| t).count();
    Ok(UpliftEvaluation {
        arm: None,
        n: r.len(),
        n_treated,
        n_control: r.len() - n_treated,
        binary_outcome: r.is_binary(),
        tie_groups: r.groups(),
        tied_rows: r.tied_rows(),
        options: options.clone(),
        values,
        intervals,
        qini_curve: qini_curve(&r),
        uplift_curve: uplift_curve(&r),
        perfect_qini_curve: perfect_qini_curve(&r, true).ok(),
        perfect_uplift_curve: perfect_uplift_curve(&r).ok(),
        percentiles,
        warnings,
    })
}

/// Evaluates several treated arms against one control: `arm[i]` is `None` for a control
/// row and `Some(a)` for a row of arm `a` (index into `names` and `scores`); `scores[a]` is
/// arm `a`'s predicted uplift for every row. Rows of other arms are left out of arm `a`'s
/// evaluation.
pub fn evaluate_arms(
    y: &[f64],
    arm: &[Option<usize>],
    names: &[String],
    scores: &[Vec<f64>],
    options: &EvalOptions,
) -> Result<Vec<UpliftEvaluation>> {
    if scores.len() != names.len() {
        return Err(UpliftError::LengthMismatch {
            what: "scores (one per arm)".into(),
            got: scores.len(),
            expected: names.len(),
        });
    }
    if arm.len() != y.len() {
        return Err(UpliftError::LengthMismatch {
            what: "treatment".into(),
            got: arm.len(),
            expected: y.len(),
        });
    }
    if let Some(i) = arm.iter().position(|a| a.is_some_and(|a| a >= names.len())) {
        return Err(invalid(
            "treatment",
            format!(
                "row {i} names arm {:?}, but only {} arms are given",
                arm[i],
                names.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(names.len());
    for (a, (name, sc)) in names.iter().zip(scores).enumerate() {
        if sc.len() != y.len() {
            return Err(UpliftError::LengthMismatch {
                what: format!("score of arm `{name}`"),
                got: sc.len(),
                expected: y.len(),
            });
        }
        let rows: Vec<usize> = (0..y.len())
            .filter(|&i| arm[i].is_none() || arm[i] == Some(a))
            .collect();
        let yy: Vec<f64> = rows.iter().map(|&i| y[i]).collect();
        let tt: Vec<bool> = rows.iter().map(|&i| arm[i].is_some()).collect();
        let ss: Vec<f64> = rows.iter().map(|&i| sc[i]).collect();
        let mut ev = evaluate(&yy, &tt, &ss, options).map_err(|e| match e {
            UpliftError::InsufficientData(m) => {
                UpliftError::InsufficientData(format!("arm `{name}`: {m}"))
            }
            other => other,
        })?;
        ev.arm = Some(name.clone());
        out.push(ev);
    }
    Ok(out)
}

/// Several evaluations (one per arm) in one report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmsEvaluation(pub Vec<UpliftEvaluation>);

fn effects_of(ev: &UpliftEvaluation, suffix: &str) -> Vec<Effect> {
    METRIC_LABELS
        .iter()
        .enumerate()
        .filter_map(|(i, &l)| {
            let v = ev.values[i]?;
            let mut e = Effect::point(format!("{l}{suffix}"), v);
            if let Some(Some(ci)) = ev.intervals.as_ref().map(|c| c[i].clone()) {
                e.std_error = Some(ci.std_error);
                e.ci_low = Some(ci.ci_low);
                e.ci_high = Some(ci.ci_high);
            }
            Some(e)
        })
        .collect()
}

fn diagnostics_of(ev: &UpliftEvaluation) -> serde_json::Value {
    let mut d = json!({
        "n": ev.n,
        "n_treated": ev.n_treated,
        "n_control": ev.n_control,
        "binary_outcome": ev.binary_outcome,
        "k": ev.options.k,
        "bins": ev.options.bins,
        "tie_tolerance": ev.options.tie_tolerance,
        "ties": ev.options.ties,
        "tie_groups": ev.tie_groups,
        "tied_rows": ev.tied_rows,
        "bootstrap": ev.options.bootstrap,
        "seed": ev.options.seed,
        "qini_curve": ev.qini_curve,
        "uplift_curve": ev.uplift_curve,
        "perfect_qini_curve": ev.perfect_qini_curve,
        "perfect_uplift_curve": ev.perfect_uplift_curve,
        "uplift_by_percentile": ev.percentiles,
    });
    if let serde_json::Value::Object(m) = &mut d {
        // A reference curve that is not defined (continuous outcome) is left out, not null.
        m.retain(|_, v| !v.is_null());
    }
    d
}

const METHOD: &str = "uplift evaluation (scikit-uplift 0.5.1 / causalml 0.18 conventions)";
const ESTIMAND: &str = "ranking quality of an uplift score";

impl Report for UpliftEvaluation {
    fn result(&self) -> EstimationResult {
        let mut r = EstimationResult::new(METHOD, ESTIMAND);
        r.effects = effects_of(self, "");
        if let serde_json::Value::Object(m) = diagnostics_of(self) {
            r.diagnostics = m;
        }
        r.warnings = self.warnings.clone();
        r
    }
}

impl Report for ArmsEvaluation {
    fn result(&self) -> EstimationResult {
        let mut r = EstimationResult::new(METHOD, ESTIMAND);
        for ev in &self.0 {
            let name = ev.arm.clone().unwrap_or_default();
            r.effects.extend(effects_of(ev, &format!(" ({name})")));
            r.diagnostics.insert(name.clone(), diagnostics_of(ev));
            r.warnings
                .extend(ev.warnings.iter().map(|w| format!("arm `{name}`: {w}")));
        }
        r
    }
}
