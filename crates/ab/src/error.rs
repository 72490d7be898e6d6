//! Errors of the A/B review specification: which option is at fault, as a typed field, so a
//! front end can name it the way its users wrote it (a command-line flag, a config key).

use causalkit_stats::StatsError;
use std::fmt;
use thiserror::Error;

/// An option of [`crate::review::AbSpec`] that validation can refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AbOption {
    /// `metrics`: none given, or a name given twice.
    Metrics,
    /// `lower_is_better` (via [`crate::review::AbSpec::set_lower_is_better`]).
    LowerIsBetter,
    /// `alpha`, the significance level.
    Alpha,
    /// `srm_alpha`, the significance level of the sample ratio mismatch check.
    SrmAlpha,
    /// `split`, the planned traffic shares.
    Split,
    /// `primary`, the primary metric of the verdict.
    Primary,
    /// `guardrails` (metric name or margin).
    Guardrail,
    /// `adjust_scope` (via [`crate::review::AdjustScope::from_names`]).
    AdjustScope,
    /// The mean of the Bayesian normal prior on the relative lift.
    PriorMean,
    /// The standard deviation of the Bayesian normal prior on the relative lift.
    PriorSd,
    /// The Beta(a, b) prior of each arm's rate for proportion metrics.
    BetaPrior,
    /// `n_plan` of the confidence sequence.
    NPlan,
    /// `n_tune` of Eppo's confidence sequence.
    NTune,
    /// `tau`, the mSPRT mixing standard deviation.
    Tau,
    /// `cumulative_sequence`, the confidence sequence of the cumulative view.
    CumulativeSequence,
}

impl AbOption {
    /// The option's name in the library's terms (the field of [`crate::review::AbSpec`]).
    pub fn name(self) -> &'static str {
        match self {
            AbOption::Metrics => "metrics",
            AbOption::LowerIsBetter => "lower_is_better",
            AbOption::Alpha => "alpha",
            AbOption::SrmAlpha => "srm_alpha",
            AbOption::Split => "split",
            AbOption::Primary => "primary",
            AbOption::Guardrail => "guardrails",
            AbOption::AdjustScope => "adjust_scope",
            AbOption::PriorMean => "bayesian prior mean",
            AbOption::PriorSd => "bayesian prior sd",
            AbOption::BetaPrior => "bayesian beta prior",
            AbOption::NPlan => "sequential n_plan",
            AbOption::NTune => "sequential n_tune",
            AbOption::Tau => "sequential tau",
            AbOption::CumulativeSequence => "cumulative_sequence",
        }
    }
}

impl fmt::Display for AbOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What can go wrong when building or validating an A/B review specification.
///
/// Every variant that concerns an option carries it as [`AbOption`]; the `reason` is phrased
/// to follow the option's name (`"{option} {reason}"`), whatever a front end calls it.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum AbError {
    /// An option has an invalid value.
    #[error("{option} {reason}")]
    Option {
        /// The option at fault.
        option: AbOption,
        /// Why, e.g. `must be a probability strictly between 0 and 1, got 2`.
        reason: String,
    },
    /// An option names metrics the specification does not have.
    #[error("{option} {}", unknown_metric_reason(.names, .metrics))]
    UnknownMetric {
        /// The option at fault.
        option: AbOption,
        /// The names that match no metric.
        names: Vec<String>,
        /// The metrics of the specification.
        metrics: Vec<String>,
    },
    /// A failure of the numeric core.
    #[error(transparent)]
    Stats(#[from] StatsError),
}

impl AbError {
    /// The option at fault, if the error concerns one.
    pub fn option(&self) -> Option<AbOption> {
        match self {
            AbError::Option { option, .. } | AbError::UnknownMetric { option, .. } => Some(*option),
            AbError::Stats(_) => None,
        }
    }

    /// The error's message with the option named as `name` (e.g. a command-line flag): the
    /// same text as [`fmt::Display`] with `name` in place of [`AbOption::name`].
    pub fn message_naming(&self, name: &str) -> String {
        match self {
            AbError::Option { reason, .. } => format!("{name} {reason}"),
            AbError::UnknownMetric { names, metrics, .. } => {
                format!("{name} {}", unknown_metric_reason(names, metrics))
            }
            AbError::Stats(e) => e.to_string(),
        }
    }
}

fn unknown_metric_reason(names: &[String], metrics: &[String]) -> String {
    let quoted = |v: &[String]| {
        v.iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if metrics.is_empty() {
        format!("names no metric called {}", quoted(names))
    } else {
        format!(
            "names no metric called {}; metrics are {}",
            quoted(names),
            quoted(metrics)
        )
    }
}

impl From<AbError> for StatsError {
    /// For callers that collect every failure as a [`StatsError`]: an option error becomes
    /// [`StatsError::InvalidArgument`] named by [`AbOption::name`].
    fn from(e: AbError) -> Self {
        match e {
            AbError::Stats(s) => s,
            other => StatsError::InvalidArgument {
                name: other
                    .option()
                    .map(AbOption::name)
                    .unwrap_or_default()
                    .into(),
                reason: other.message_naming("").trim_start().to_string(),
            },
        }
    }
}

/// Result alias of the specification's validation.
pub type AbResult<T> = std::result::Result<T, AbError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_option_or_the_given_name() {
        let e = AbError::Option {
            option: AbOption::SrmAlpha,
            reason: "must be a probability strictly between 0 and 1, got 2".into(),
        };
        assert_eq!(
            e.to_string(),
            "srm_alpha must be a probability strictly between 0 and 1, got 2"
        );
        assert_eq!(
            e.message_naming("--srm-alpha"),
            "--srm-alpha must be a probability strictly between 0 and 1, got 2"
        );
        let u = AbError::UnknownMetric {
            option: AbOption::Primary,
            names: vec!["ahtt".into()],
            metrics: vec!["aht".into(), "fcr".into()],
        };
        assert_eq!(u.option(), Some(AbOption::Primary));
        assert_eq!(
            u.message_naming("--primary"),
            "--primary names no metric called `ahtt`; metrics are `aht`, `fcr`"
        );
        match StatsError::from(u) {
            StatsError::InvalidArgument { name, reason } => {
                assert_eq!(name, "primary");
                assert_eq!(
                    reason,
                    "names no metric called `ahtt`; metrics are `aht`, `fcr`"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}

#[cfg(test)]
mod validation_tests {
    use super::*;
    use crate::review::{AbSpec, Guardrail, MetricSpec, SequentialMethod};
    use crate::MetricType;

    fn spec() -> AbSpec {
        AbSpec::new(vec![
            MetricSpec::new("aht", MetricType::Mean),
            MetricSpec::new("fcr", MetricType::Proportion),
        ])
    }

    #[test]
    fn validation_names_the_option_at_fault() {
        let option_of = |s: AbSpec| s.validate().unwrap_err().option();
        let mut s = spec();
        s.srm_alpha = 2.0;
        assert_eq!(option_of(s), Some(AbOption::SrmAlpha));
        let mut s = spec();
        s.alpha = f64::NAN;
        assert_eq!(option_of(s), Some(AbOption::Alpha));
        let mut s = spec();
        s.split = vec![1.0, -1.0];
        assert_eq!(option_of(s), Some(AbOption::Split));
        let mut s = spec();
        s.primary = Some("ahtt".into());
        assert_eq!(option_of(s), Some(AbOption::Primary));
        let mut s = spec();
        s.guardrails.push(Guardrail {
            metric: "fcr".into(),
            margin: -0.1,
        });
        assert_eq!(option_of(s), Some(AbOption::Guardrail));
        let mut s = spec();
        s.sequential = Some(SequentialMethod::Msprt { tau: 0.0 });
        assert_eq!(option_of(s), Some(AbOption::Tau));
        let mut s = spec();
        s.sequential = Some(SequentialMethod::Eppo { n_tune: f64::NAN });
        assert_eq!(option_of(s), Some(AbOption::NTune));
        let mut s = spec();
        s.cumulative_sequence = Some(SequentialMethod::Msprt { tau: 0.05 });
        assert_eq!(option_of(s), Some(AbOption::CumulativeSequence));
        let mut s = spec();
        s.cumulative_sequence = Some(SequentialMethod::ConfidenceSequence { n_plan: -1.0 });
        assert_eq!(option_of(s), Some(AbOption::NPlan));
        let mut s = spec();
        let e = s.set_lower_is_better(&["aht", "x", "y"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "lower_is_better names no metric called `x`, `y`; metrics are `aht`, `fcr`"
        );
        // Nothing was changed by the refused call.
        assert_eq!(s.metrics[0].direction, crate::Direction::HigherIsBetter);
    }
}
