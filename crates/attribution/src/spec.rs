//! The release spec: a TOML file naming the data, the design, the KPIs and the value tree.
//!
//! The key names are fixed (scripts outside the code depend on them; see the README for a
//! complete example). Every table rejects unknown keys. Paths are relative to the spec file.

use crate::error::{AttributionError, Result};
use causalkit_data::{Dataset, Kpi};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

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
    /// The spec file as given (set by [`ReleaseSpec::load`]; named in every error).
    #[serde(skip)]
    pub file: String,
    /// The directory relative paths are resolved against (the spec file's directory).
    #[serde(skip)]
    pub base_dir: PathBuf,
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
    /// Drop rows with a missing value in a column a KPI uses (per KPI, as `causalkit ab
    /// --drop-missing`; the counts are reported) instead of refusing them (default false).
    #[serde(default)]
    pub drop_missing: bool,
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
    /// rollout, single-unit: the period column; randomised (optional): the period column of
    /// the cumulative view.
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
    /// rollout, single-unit (with `events = true`): periods of the time column per analysis
    /// period (default 1). Blocks of this many periods are counted from the first period of
    /// the data, as `causalkit did --events --period-width`: block `k` (from 1) holds periods
    /// `first + (k-1)·width .. first + k·width − 1`; the adoption period (rollout) and `start`
    /// (single-unit) become the block holding them, with a warning when they do not start a
    /// block. E.g. 7 turns daily site cells into weekly ones.
    #[serde(default)]
    pub period_width: Option<i64>,
    /// How long one period of the time column is (`day`, `week`, `month`, `quarter`, `year`;
    /// default `day`): the cumulative view accrues money per elapsed period as that length
    /// (times `period_width`) over the `[value] period`.
    #[serde(default)]
    pub time_unit: Option<String>,
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
    /// Which direction of the node is good (`lower` for a cost, `higher` for a revenue);
    /// optional, used for the verdict's wording.
    #[serde(default)]
    pub better: Option<Better>,
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

/// The `[design]` keys each kind accepts (`kind` itself is always there).
fn allowed_keys(kind: DesignKind) -> &'static [&'static str] {
    match kind {
        DesignKind::Randomised => &[
            "arm",
            "control",
            "treatment",
            "covariates",
            "unit",
            "time",
            "time_unit",
            "weight",
            "events",
            "placebo_kpis",
            "segment",
        ],
        DesignKind::Rollout => &[
            "unit",
            "time",
            "adoption",
            "weight",
            "events",
            "placebo_kpis",
            "segment",
            "control_group",
            "period_width",
            "time_unit",
        ],
        DesignKind::SingleUnit => &[
            "unit",
            "time",
            "treated",
            "start",
            "weight",
            "events",
            "placebo_kpis",
            "segment",
            "period_width",
            "time_unit",
        ],
    }
}

/// The `[design]` keys each kind needs.
fn required_keys(kind: DesignKind) -> &'static [&'static str] {
    match kind {
        DesignKind::Randomised => &["arm", "control", "treatment"],
        DesignKind::Rollout => &["unit", "time", "adoption"],
        DesignKind::SingleUnit => &["unit", "time", "treated", "start"],
    }
}

impl DesignSection {
    /// The keys given in the spec (besides `kind`), in declaration order.
    pub fn given_keys(&self) -> Vec<&'static str> {
        let mut k = Vec::new();
        let mut add = |name: &'static str, present: bool| {
            if present {
                k.push(name);
            }
        };
        add("arm", self.arm.is_some());
        add("control", self.control.is_some());
        add("treatment", self.treatment.is_some());
        add("covariates", !self.covariates.is_empty());
        add("unit", self.unit.is_some());
        add("time", self.time.is_some());
        add("adoption", self.adoption.is_some());
        add("treated", self.treated.is_some());
        add("start", self.start.is_some());
        add("weight", self.weight.is_some());
        add("events", self.events);
        add("placebo_kpis", !self.placebo_kpis.is_empty());
        add("segment", self.segment.is_some());
        add("control_group", self.control_group.is_some());
        add("period_width", self.period_width.is_some());
        add("time_unit", self.time_unit.is_some());
        k
    }

    /// Periods of the time column per analysis period (`period_width`, default 1).
    pub fn width(&self) -> i64 {
        self.period_width.unwrap_or(1)
    }

    /// The length of one period of the time column (`time_unit`, default a day).
    pub fn time_period(&self) -> crate::value::Period {
        self.time_unit
            .as_deref()
            .and_then(crate::value::Period::parse)
            .unwrap_or(crate::value::Period::Day)
    }

    /// The single-unit design's treated unit as text (a TOML string or integer).
    pub fn treated_label(&self) -> Option<String> {
        match &self.treated {
            Some(toml::Value::String(s)) => Some(s.clone()),
            Some(toml::Value::Integer(i)) => Some(i.to_string()),
            Some(other) => Some(other.to_string()),
            None => None,
        }
    }
}

/// The `[[kpi]]` entries parsed with the data layer's KPI grammar, in spec order.
#[derive(Debug, Clone)]
pub struct ParsedKpi {
    /// The spec entry.
    pub spec: KpiSection,
    /// The data layer's KPI (named as the entry).
    pub kpi: Kpi,
}

impl ReleaseSpec {
    /// Reads, parses and validates a spec file (see [`ReleaseSpec::validate`]); relative paths
    /// in it are resolved against the file's directory. Every error names the file; TOML
    /// errors (unknown key, wrong type, missing key) name the key path, e.g. `design.colour`
    /// or `kpi[2].better` (1-based position of the `[[kpi]]` entry).
    pub fn load(path: &Path) -> Result<ReleaseSpec> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| AttributionError::Spec {
            file: file.clone(),
            key: "-".into(),
            message: format!("cannot read the spec file: {e}"),
        })?;
        let base = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        ReleaseSpec::from_toml(&text, &file, &base)
    }

    /// Parses and validates spec text; `file` is the name used in errors and `base_dir` the
    /// directory relative paths are resolved against.
    pub fn from_toml(text: &str, file: &str, base_dir: &Path) -> Result<ReleaseSpec> {
        let mut spec: ReleaseSpec = toml::from_str(text).map_err(|e| toml_error(text, file, &e))?;
        spec.file = file.to_string();
        spec.base_dir = base_dir.to_path_buf();
        spec.validate()?;
        Ok(spec)
    }

    fn err(&self, key: impl Into<String>, message: impl Into<String>) -> AttributionError {
        AttributionError::Spec {
            file: self.file.clone(),
            key: key.into(),
            message: message.into(),
        }
    }

    /// Checks what can be checked without the data: the design's keys fit its kind (a key
    /// that does not is refused naming `design.<key>`; a needed key that is missing too), the
    /// KPIs parse in the data layer's grammar and have distinct names, `placebo_kpis` names
    /// KPIs, and the value tree is well formed (names defined, no cycle). `[data]` needs a
    /// `path`.
    pub fn validate(&self) -> Result<()> {
        match (&self.data.path, &self.data.engine, &self.data.table) {
            (Some(_), None, None) => {}
            (None, Some(engine), Some(table)) => {
                causalkit_warehouse::connect::Scheme::of(engine)
                    .map_err(|e| self.err("data.engine", e.to_string()))?;
                causalkit_warehouse::TableName::parse(table)
                    .map_err(|e| self.err("data.table", e.to_string()))?;
            }
            (None, Some(_), None) => {
                return Err(self.err(
                    "data.table",
                    "`engine` needs `table`, the table holding the rows (NAME, SCHEMA.NAME or CATALOG.SCHEMA.NAME)",
                ))
            }
            (Some(_), Some(_), _) => {
                return Err(self.err(
                    "data.engine",
                    "give either `path` (a file) or `engine` and `table` (a query engine), not both",
                ))
            }
            (_, None, Some(_)) => {
                return Err(self.err(
                    "data.table",
                    "`table` goes with `engine` (the query engine's address); for a file give `path`",
                ))
            }
            (None, None, None) => {
                return Err(self.err(
                    "data.path",
                    "give the data file (CSV or Parquet), or `engine` and `table`",
                ))
            }
        }
        if let Some(d) = &self.design {
            let allowed = allowed_keys(d.kind);
            for key in d.given_keys() {
                if !allowed.contains(&key) {
                    return Err(self.err(
                        format!("design.{key}"),
                        format!(
                            "`{key}` does not apply to a {} design (its keys: {})",
                            d.kind.name(),
                            allowed.join(", ")
                        ),
                    ));
                }
            }
            let given = d.given_keys();
            for key in required_keys(d.kind) {
                if !given.contains(key) {
                    return Err(self.err(
                        format!("design.{key}"),
                        format!("a {} design needs `{key}`", d.kind.name()),
                    ));
                }
            }
            if d.events && d.unit.is_none() {
                return Err(self.err(
                    "design.events",
                    "events = true aggregates rows to units: give `unit` too",
                ));
            }
            if let Some(cg) = &d.control_group {
                if cg != "never" && cg != "not-yet" {
                    return Err(self.err(
                        "design.control_group",
                        format!("expected `never` or `not-yet`, got `{cg}`"),
                    ));
                }
            }
            if let Some(w) = d.period_width {
                if w < 1 {
                    return Err(self.err(
                        "design.period_width",
                        format!("must be a whole number of periods of at least 1, got {w}"),
                    ));
                }
                if w > 1 && !d.events {
                    return Err(self.err(
                        "design.period_width",
                        "blocks of periods are formed from event rows: set `events = true` (rows already one per unit x period cannot be regrouped)",
                    ));
                }
            }
            if let Some(u) = &d.time_unit {
                if crate::value::Period::parse(u).is_none() {
                    return Err(self.err(
                        "design.time_unit",
                        format!("expected day, week, month, quarter or year, got `{u}`"),
                    ));
                }
            }
            if d.kind == DesignKind::Randomised && d.control == d.treatment {
                return Err(self.err(
                    "design.treatment",
                    "the treatment label equals the control label",
                ));
            }
            if self.kpi.is_empty() {
                return Err(self.err("kpi", "give at least one [[kpi]]"));
            }
        }
        self.parsed_kpis()?;
        if let Some(d) = &self.design {
            for p in &d.placebo_kpis {
                if !self.kpi.iter().any(|k| &k.name == p) {
                    return Err(self.err(
                        "design.placebo_kpis",
                        format!(
                            "`{p}` is not a KPI (the [[kpi]] names are {})",
                            self.kpi_names().join(", ")
                        ),
                    ));
                }
            }
        }
        if let Some(v) = &self.value {
            crate::value::ValueTree::from_spec(v, &self.kpi_names())
                .map_err(|e| e.with_file(&self.file))?;
        }
        Ok(())
    }

    /// The KPI names in spec order.
    pub fn kpi_names(&self) -> Vec<String> {
        self.kpi.iter().map(|k| k.name.clone()).collect()
    }

    /// The KPIs in the data layer's grammar, in spec order; a KPI that does not parse is an
    /// error naming `kpi.<name>.expr`, two KPIs with one name `kpi.<name>.name`.
    pub fn parsed_kpis(&self) -> Result<Vec<ParsedKpi>> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::with_capacity(self.kpi.len());
        for k in &self.kpi {
            if k.name.trim().is_empty() {
                return Err(self.err("kpi.name", "a KPI name is empty"));
            }
            if !seen.insert(k.name.as_str()) {
                return Err(self.err(
                    format!("kpi.{}.name", k.name),
                    format!("two [[kpi]] entries are named `{}`", k.name),
                ));
            }
            let mut kpi: Kpi = k.expr.parse().map_err(|e: causalkit_data::DataError| {
                self.err(format!("kpi.{}.expr", k.name), e.to_string())
            })?;
            kpi.name = k.name.clone();
            out.push(ParsedKpi {
                spec: k.clone(),
                kpi,
            });
        }
        Ok(out)
    }

    /// The data file, resolved against the spec file's directory.
    pub fn data_path(&self) -> Option<PathBuf> {
        self.data.path.as_ref().map(|p| self.base_dir.join(p))
    }

    /// Checks that every column the spec names is in the data: the design's columns (arm,
    /// covariates, unit, time, adoption, weight, segment) and every KPI's columns. The error
    /// names the key (`design.arm`, `design.covariates`, `kpi.<name>.expr`), the column and
    /// the data file.
    pub fn check_columns(&self, data: &Dataset) -> Result<()> {
        let cols = data.column_names();
        let has = |c: &str| cols.iter().any(|x| x == c);
        let missing = |key: String, c: &str| {
            self.err(
                key,
                format!(
                    "column `{c}` is not in {} (columns: {})",
                    data.source(),
                    cols.join(", ")
                ),
            )
        };
        if let Some(d) = &self.design {
            let singles = [
                ("arm", &d.arm),
                ("unit", &d.unit),
                ("time", &d.time),
                ("adoption", &d.adoption),
                ("weight", &d.weight),
                ("segment", &d.segment),
            ];
            for (key, c) in singles {
                if let Some(c) = c {
                    if !has(c) {
                        return Err(missing(format!("design.{key}"), c));
                    }
                }
            }
            for c in &d.covariates {
                if !has(c) {
                    return Err(missing("design.covariates".into(), c));
                }
            }
        }
        for pk in self.parsed_kpis()? {
            for c in pk.kpi.columns() {
                if !has(c) {
                    return Err(missing(format!("kpi.{}.expr", pk.spec.name), c));
                }
            }
        }
        Ok(())
    }

    /// The spec reading its rows from table `table` of the query engine at `engine` instead
    /// of its `[data]` file or engine (e.g. `causalkit attribute --engine URL --table T`);
    /// checked as `[data] engine` and `table` are.
    pub fn with_engine(mut self, engine: &str, table: &str) -> Result<ReleaseSpec> {
        self.data.path = None;
        self.data.engine = Some(engine.to_string());
        self.data.table = Some(table.to_string());
        self.validate()?;
        Ok(self)
    }

    /// Opens the spec's data: the rows of `data.path` ([`ReleaseSpec::load_data`]), or a
    /// connection to `data.engine` with `data.table` (the aggregation then runs there; see
    /// [`crate::source`]).
    pub fn open(&self) -> Result<crate::source::Input> {
        match (&self.data.engine, &self.data.table) {
            (Some(engine), Some(table)) => Ok(crate::source::Input::Engine(
                crate::source::EngineTable::connect(engine, table)?,
            )),
            _ => Ok(crate::source::Input::Rows(self.load_data()?)),
        }
    }

    /// Reads the data file (CSV or Parquet) and checks the spec's columns against it.
    pub fn load_data(&self) -> Result<Dataset> {
        if self.data.engine.is_some() {
            return Err(self.err(
                "data.engine",
                "this part reads the rows one by one (e.g. `attribute errors`); give `data.path` (a CSV or Parquet export of the table)",
            ));
        }
        let path = self
            .data_path()
            .ok_or_else(|| self.err("data.path", "give the data file (CSV or Parquet)"))?;
        let data = Dataset::read(&path)?;
        self.check_columns(&data)?;
        Ok(data)
    }
}

/// Maps a TOML error to a spec error naming the key path: the table header in force at the
/// error's position (`[design]` → `design`, the i-th `[[kpi]]` → `kpi[i]`, 1-based) and the
/// key on the error's line (or, for a missing key, the key the message names).
fn toml_error(text: &str, file: &str, e: &toml::de::Error) -> AttributionError {
    let message = e.message().trim().to_string();
    let Some(span) = e.span() else {
        return AttributionError::Spec {
            file: file.into(),
            key: "-".into(),
            message,
        };
    };
    let at = span.start.min(text.len());
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let line = text[line_start..line_end].trim();
    // Table headers before the error (and array-of-tables counts).
    let mut header = String::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let upto = if line.starts_with('[') {
        line_end
    } else {
        line_start
    };
    for l in text[..upto].lines() {
        let l = l.trim();
        if let Some(h) = l.strip_prefix("[[").and_then(|r| r.split("]]").next()) {
            let h = h.trim().to_string();
            let c = counts.entry(h.clone()).or_insert(0);
            *c += 1;
            header = format!("{h}[{c}]");
        } else if let Some(h) = l.strip_prefix('[').and_then(|r| r.split(']').next()) {
            header = h.trim().to_string();
        }
    }
    let key = if line.starts_with('[') {
        // An error about a whole table (e.g. a missing key): name the key if the message does.
        match missing_field(&message) {
            Some(f) => join_key(&header, &f),
            None => header.clone(),
        }
    } else if let Some((k, _)) = line.split_once('=') {
        join_key(&header, k.trim().trim_matches('"'))
    } else {
        match missing_field(&message) {
            Some(f) => join_key(&header, &f),
            None => header.clone(),
        }
    };
    let key = if key.is_empty() { "-".to_string() } else { key };
    AttributionError::Spec {
        file: file.into(),
        key,
        message: format!("{message} (line {})", text[..at].matches('\n').count() + 1),
    }
}

fn join_key(header: &str, key: &str) -> String {
    if header.is_empty() {
        key.to_string()
    } else {
        format!("{header}.{key}")
    }
}

fn missing_field(message: &str) -> Option<String> {
    let rest = message.split("missing field `").nth(1)?;
    Some(rest.split('`').next()?.to_string())
}
