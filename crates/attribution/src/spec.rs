//! The release spec: a TOML file naming the data, the design, the KPIs and the value tree.
//!
//! The key names are fixed (scripts outside the code depend on them; see the README for a
//! complete example). Every table rejects unknown keys. Paths are relative to the spec file.

use serde::Deserialize;
use std::collections::BTreeMap;

/// A release spec as written in the TOML file (before validation against the data).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseSpec {
    /// `[release]`: what was released.
    pub release: ReleaseSection,
    /// `[data]`: where the raw rows are.
    pub data: DataSection,
    /// `[design]`: how the release was assigned (absent in an errors-only spec).
    #[serde(default)]
    pub design: Option<DesignSection>,
    /// `[[kpi]]`: the KPIs, in the data layer's KPI grammar.
    #[serde(default)]
    pub kpi: Vec<KpiSection>,
    /// `[value]`: the value tree that turns KPI levels into money.
    #[serde(default)]
    pub value: Option<ValueSection>,
    /// `[errors]`: the model-error ranking (`causalkit attribute errors`).
    #[serde(default)]
    pub errors: Option<ErrorsSection>,
}

/// `[release]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseSection {
    /// The release's name, printed in the output.
    pub name: String,
    /// Optional free text.
    #[serde(default)]
    pub description: Option<String>,
}

/// `[data]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    /// CSV or Parquet file, relative to the spec file.
    #[serde(default)]
    pub path: Option<String>,
    /// A query engine address (`sc://...`, `postgres://...`) instead of a file.
    #[serde(default)]
    pub engine: Option<String>,
    /// The table to read from `engine`.
    #[serde(default)]
    pub table: Option<String>,
}

/// The kind of design: how the release reached units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DesignKind {
    /// Units (contacts, customers) randomised to control or treatment.
    Randomised,
    /// Staggered rollout over units (sites) in cohorts; some never or not yet treated.
    Rollout,
    /// One treated unit from a start period, the others never treated.
    SingleUnit,
}

impl DesignKind {
    /// The name used in the spec (`randomised`, `rollout`, `single-unit`).
    pub fn name(self) -> &'static str {
        match self {
            DesignKind::Randomised => "randomised",
            DesignKind::Rollout => "rollout",
            DesignKind::SingleUnit => "single-unit",
        }
    }
}

/// `[design]`. Which keys apply depends on `kind`; validation refuses a key that does
/// not fit the kind, naming it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DesignSection {
    /// randomised | rollout | single-unit.
    pub kind: DesignKind,
    /// randomised: the arm column.
    #[serde(default)]
    pub arm: Option<String>,
    /// randomised: the control label.
    #[serde(default)]
    pub control: Option<String>,
    /// randomised: the treatment label.
    #[serde(default)]
    pub treatment: Option<String>,
    /// randomised: pre-period covariates for CUPED / regression adjustment.
    #[serde(default)]
    pub covariates: Vec<String>,
    /// The randomisation unit (randomised) or the panel unit (rollout, single-unit).
    #[serde(default)]
    pub unit: Option<String>,
    /// rollout, single-unit: the period column.
    #[serde(default)]
    pub time: Option<String>,
    /// rollout: the first treated period per unit (0 or empty = never treated).
    #[serde(default)]
    pub adoption: Option<String>,
    /// single-unit: the treated unit's label.
    #[serde(default)]
    pub treated: Option<toml::Value>,
    /// single-unit: the first treated period.
    #[serde(default)]
    pub start: Option<i64>,
    /// Optional row weight column.
    #[serde(default)]
    pub weight: Option<String>,
    /// Rows are events aggregated to unit x period by the data layer (as `did --events`).
    #[serde(default)]
    pub events: bool,
    /// KPIs the release cannot move: a placebo refuter runs on each.
    #[serde(default)]
    pub placebo_kpis: Vec<String>,
    /// A segment column the release cannot change, for the rate/mix decomposition.
    #[serde(default)]
    pub segment: Option<String>,
    /// rollout: `never` (default) or `not-yet` treated comparison units.
    #[serde(default)]
    pub control_group: Option<String>,
}

/// Which direction of a KPI is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    /// Higher is better (FCR, CSAT, conversion).
    Higher,
    /// Lower is better (AHT, cost).
    Lower,
}

/// `[[kpi]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpiSection {
    /// The KPI's name, used in value expressions and in the output labels.
    pub name: String,
    /// The KPI in the data layer's grammar (`mean(aht)`, `ratio(a, b)`, `proportion(fcr)`...).
    pub expr: String,
    /// Which direction is good.
    pub better: Better,
}

/// `[value]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueSection {
    /// The horizon the money is reported over (`year`, `quarter`, `month`, `week`, `day`).
    pub period: String,
    /// Whether the effect recurs every period of the horizon (default true); a one-off
    /// effect is not annualised.
    #[serde(default)]
    pub recurring: Option<bool>,
    /// Named constants (volumes, unit costs).
    #[serde(default)]
    pub constants: BTreeMap<String, f64>,
    /// The value nodes, each an arithmetic expression over constants, KPIs and other nodes.
    #[serde(default)]
    pub node: Vec<ValueNodeSection>,
}

/// `[[value.node]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueNodeSection {
    /// The node's name (`value:` + name in the output).
    pub name: String,
    /// An arithmetic expression (`+ - * /`, parentheses, numbers, names).
    pub expr: String,
}

/// `[errors]` (`causalkit attribute errors`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorsSection {
    /// The ground-truth label column (e.g. intent from the agent's disposition).
    #[serde(rename = "true")]
    pub truth: String,
    /// The model's output column.
    pub predicted: String,
    /// Covariates for the regression adjustment.
    #[serde(default)]
    pub covariates: Vec<String>,
    /// The value constant that counts units per period.
    pub volume: String,
    /// The value node to rank by.
    pub value: String,
    /// Minimum contacts in a confusion cell for it to be estimated (default 30).
    #[serde(default)]
    pub min_contacts: Option<usize>,
    /// How many `fix_top_k` entries to report (default 3).
    #[serde(default)]
    pub top_k: Option<usize>,
}
