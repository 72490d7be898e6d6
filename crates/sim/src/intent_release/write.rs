//! Files of the intent-model release: three contact logs, four release specs, `truth.json`.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::config::IntentReleaseConfig;
use super::model::{simulate_design, IntentContact, IntentCustomers, IntentDesign, IntentWorld};
use super::truth::intent_truth_from;
use crate::error::SimError;
use crate::record::site_label;

/// Columns of every intent-release contact log, in file order.
pub const INTENT_COMMON_COLUMNS: [&str; 15] = [
    "contact_id",
    "day",
    "site",
    "queue",
    "customer_id",
    "customer_tier",
    "true_intent",
    "predicted_intent",
    "misrouted",
    "pre_aht",
    "handle_seconds",
    "fcr",
    "csat",
    "repeat_contact",
    "model",
];

/// `randomised.csv`.
pub const RANDOMISED_FILE: &str = "randomised.csv";
/// `rollout.csv`.
pub const ROLLOUT_FILE: &str = "rollout.csv";
/// `single_site.csv`.
pub const SINGLE_SITE_INTENT_FILE: &str = "single_site.csv";
/// `truth.json`.
pub const INTENT_TRUTH_FILE: &str = "truth.json";
/// `errors.toml`.
pub const ERRORS_SPEC_FILE: &str = "errors.toml";

impl IntentDesign {
    /// Columns after [`INTENT_COMMON_COLUMNS`]: `arm` (randomised), `cohort, model_live`
    /// (rollout), `model_live` (single site).
    pub fn extra_columns(self) -> &'static [&'static str] {
        match self {
            IntentDesign::Randomised => &["arm"],
            IntentDesign::Rollout => &["cohort", "model_live"],
            IntentDesign::SingleSite => &["model_live"],
        }
    }

    /// The contact log's file name.
    pub fn data_file(self) -> &'static str {
        match self {
            IntentDesign::Randomised => RANDOMISED_FILE,
            IntentDesign::Rollout => ROLLOUT_FILE,
            IntentDesign::SingleSite => SINGLE_SITE_INTENT_FILE,
        }
    }

    /// The release spec's file name (`randomised.toml`, ...).
    pub fn spec_file(self) -> String {
        format!("{}.toml", self.stem())
    }
}

/// Paths written by [`write_intent_release`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntentWritten {
    /// The three contact logs, in [`IntentDesign::ALL`] order.
    pub data: Vec<PathBuf>,
    /// The three release specs, in the same order.
    pub specs: Vec<PathBuf>,
    /// `errors.toml`.
    pub errors_spec: PathBuf,
    /// `truth.json`.
    pub truth: PathBuf,
}

/// Writes `contacts` of `design` as CSV (header, then one row per contact). Seconds have one
/// decimal; booleans are `0`/`1`; `csat` is empty when not surveyed; `model` is
/// `old`/`new`; `arm` is `control`/`treatment`; `cohort` is the site's adoption day (0 =
/// never).
pub fn write_intent_csv<W: Write>(
    config: &IntentReleaseConfig,
    design: IntentDesign,
    contacts: &[IntentContact],
    w: W,
) -> io::Result<()> {
    let mut w = BufWriter::new(w);
    let mut header: Vec<&str> = INTENT_COMMON_COLUMNS.to_vec();
    header.extend_from_slice(design.extra_columns());
    writeln!(w, "{}", header.join(","))?;
    for c in contacts {
        write!(
            w,
            "{},{},site_{:02},{},cust_{:06},{},{},{},{},{:.1},{:.1},{},",
            c.contact_id,
            c.day,
            c.site,
            config.queues[c.queue].name,
            c.customer_id,
            config.tiers[c.tier].name,
            config.intents[c.true_intent].name,
            config.intents[c.predicted_intent].name,
            u8::from(c.misrouted()),
            c.pre_aht,
            c.handle_seconds,
            u8::from(c.fcr),
        )?;
        if let Some(s) = c.csat {
            write!(w, "{s}")?;
        }
        write!(
            w,
            ",{},{}",
            u8::from(c.repeat_contact),
            if c.new_model { "new" } else { "old" }
        )?;
        match design {
            IntentDesign::Randomised => {
                writeln!(w, ",{}", if c.group == 1 { "treatment" } else { "control" })?
            }
            IntentDesign::Rollout => writeln!(w, ",{},{}", c.group, u8::from(c.new_model))?,
            IntentDesign::SingleSite => writeln!(w, ",{}", u8::from(c.new_model))?,
        }
    }
    w.flush()
}

/// The release spec of `design` (or, with `None`, the errors spec `errors.toml`) in the TOML
/// format of issue 12, with paths relative to the spec file (the specs sit next to the data).
pub fn intent_spec_toml(config: &IntentReleaseConfig, design: Option<IntentDesign>) -> String {
    let mut s =
        String::from("# Written by `causalkit simulate intent-release` (simulated data).\n");
    s += "[release]\nname = \"intent-model-v2\"\n";
    s += "description = \"New intent-classification model routing contact-centre contacts\"\n\n";
    s += &format!(
        "[data]\npath = \"{}\"\n\n",
        design.map_or(RANDOMISED_FILE, |d| d.data_file())
    );
    match design {
        Some(IntentDesign::Randomised) => {
            s += "[design]\nkind = \"randomised\"\narm = \"arm\"\ncontrol = \"control\"\n";
            s += "treatment = \"treatment\"\ncovariates = [\"pre_aht\"]\n\n";
        }
        Some(IntentDesign::Rollout) => {
            s += "[design]\nkind = \"rollout\"\nunit = \"site\"\ntime = \"day\"\n";
            s += "adoption = \"cohort\"\nevents = true\n\n";
        }
        Some(IntentDesign::SingleSite) => {
            s += &format!(
                "[design]\nkind = \"single-unit\"\nunit = \"site\"\ntime = \"day\"\n\
                 treated = \"{}\"\nstart = {}\nevents = true\n\n",
                site_label(config.single_site),
                config.single_site_start
            );
        }
        None => {}
    }
    for (name, expr, better) in [
        ("aht", "mean(handle_seconds)", "lower"),
        ("fcr", "proportion(fcr)", "higher"),
        ("csat", "mean(csat)", "higher"),
    ] {
        s += &format!("[[kpi]]\nname = \"{name}\"\nexpr = \"{expr}\"\nbetter = \"{better}\"\n\n");
    }
    let v = &config.value;
    s += &format!("[value]\nperiod = \"{}\"\n[value.constants]\n", v.period);
    s += &format!(
        "contacts = {}\ncost_per_second = {:?}\ncost_per_unresolved = {:?}\n\n",
        toml_number(v.contacts),
        v.cost_per_second,
        v.cost_per_unresolved
    );
    for (name, expr) in VALUE_NODES {
        s += &format!("[[value.node]]\nname = \"{name}\"\nexpr = \"{expr}\"\n");
    }
    if design.is_none() {
        s += "\n[errors]\ntrue = \"true_intent\"\npredicted = \"predicted_intent\"\n";
        s += "covariates = [\"queue\", \"customer_tier\"]\nvolume = \"contacts\"\n";
        s += "value = \"total_cost\"\n";
    }
    s
}

/// The contacts constant as in issue 12: a whole count as an integer (`2400000`), otherwise
/// the shortest float that reads back exactly.
fn toml_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:?}")
    }
}

/// The value nodes of every spec (name, expression), as the truth evaluates them.
pub const VALUE_NODES: [(&str, &str); 3] = [
    ("handle_cost", "contacts * aht * cost_per_second"),
    (
        "followup_cost",
        "contacts * (1 - fcr) * cost_per_unresolved",
    ),
    ("total_cost", "handle_cost + followup_cost"),
];

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> SimError + '_ {
    move |source| SimError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Validates `config`, simulates the three designs and writes into `out_dir` (created if
/// missing): `randomised.csv`, `rollout.csv`, `single_site.csv`, the specs
/// `randomised.toml`, `rollout.toml`, `single_site.toml`, `errors.toml`, and `truth.json`.
/// The same config always gives byte-identical files.
pub fn write_intent_release(
    config: &IntentReleaseConfig,
    out_dir: &Path,
) -> Result<IntentWritten, SimError> {
    config.validate()?;
    std::fs::create_dir_all(out_dir).map_err(io_err(out_dir))?;
    let world = IntentWorld::new(config);
    let customers = IntentCustomers::new(config);
    let mut data = Vec::new();
    let mut specs = Vec::new();
    for design in IntentDesign::ALL {
        let contacts = simulate_design(config, &world, &customers, design);
        let path = out_dir.join(design.data_file());
        let file = File::create(&path).map_err(io_err(&path))?;
        write_intent_csv(config, design, &contacts, file).map_err(io_err(&path))?;
        data.push(path);
        let path = out_dir.join(design.spec_file());
        std::fs::write(&path, intent_spec_toml(config, Some(design))).map_err(io_err(&path))?;
        specs.push(path);
    }
    let errors_spec = out_dir.join(ERRORS_SPEC_FILE);
    std::fs::write(&errors_spec, intent_spec_toml(config, None)).map_err(io_err(&errors_spec))?;
    let truth = intent_truth_from(config, &world, &customers);
    let path = out_dir.join(INTENT_TRUTH_FILE);
    let file = File::create(&path).map_err(io_err(&path))?;
    let mut w = BufWriter::new(file);
    serde_json::to_writer_pretty(&mut w, &truth)?;
    writeln!(w).map_err(io_err(&path))?;
    w.flush().map_err(io_err(&path))?;
    Ok(IntentWritten {
        data,
        specs,
        errors_spec,
        truth: path,
    })
}
