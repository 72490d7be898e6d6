//! `causalkit simulate intent-release`: the intent-model release with known truth (issue 12).

use crate::output::{plain_table, CliError, Format, Rendered, SimSummary};
use causalkit_sim::intent_release::{intent_truth, write_intent_release, IntentReleaseConfig};
use clap::Args;
use std::path::PathBuf;

/// Flags of `simulate intent-release`.
#[derive(Debug, Args)]
pub struct IntentReleaseArgs {
    /// Random seed (the bundled dataset uses the default).
    #[arg(long, default_value_t = IntentReleaseConfig::default().seed)]
    seed: u64,
    /// Output directory (created if needed).
    #[arg(long)]
    out: PathBuf,
    /// Multiply the default volume (about 20,000 contacts per design) by this factor.
    #[arg(long, default_value_t = 1)]
    scale: u32,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// Writes the files and reports every file written with the true effects and money (table:
/// lists; JSON: `files` and `true_effects`; CSV: the true effects on stdout and one
/// `wrote <path>` line per file on stderr).
pub fn run(a: IntentReleaseArgs) -> Result<Rendered, CliError> {
    if a.scale == 0 {
        return Err(CliError::bad("--scale must be at least 1"));
    }
    let config = IntentReleaseConfig::default()
        .with_seed(a.seed)
        .scaled(a.scale);
    let written = write_intent_release(&config, &a.out)?;
    let truth = intent_truth(&config)?;
    let mut files: Vec<(String, &std::path::Path)> = Vec::new();
    for p in written.data.iter().chain(&written.specs) {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
        files.push((name.unwrap_or_default().replace('.', "_"), p));
    }
    files.push(("errors_toml".into(), &written.errors_spec));
    files.push(("truth_json".into(), &written.truth));
    let mut effects: Vec<(&str, &str, f64)> = Vec::new();
    for (design, d) in [
        ("randomised", &truth.randomised),
        ("rollout", &truth.rollout.overall),
        ("single_site", &truth.single_site.truth),
    ] {
        effects.push((design, "aht", d.effects.aht));
        effects.push((design, "fcr", d.effects.fcr));
        effects.push((design, "csat", d.effects.csat));
        effects.push((design, "value:total_cost", d.money.total_cost));
    }
    let summary = SimSummary {
        seed: a.seed,
        contacts_per_design: config.contacts_per_design(),
        files,
        effects,
    };
    Ok(match a.format {
        Format::Json => {
            let mut extra = serde_json::Map::new();
            extra.insert(
                "top_errors".into(),
                truth.errors.cells.iter().take(5).map(|c| serde_json::json!({"label": c.label, "money_per_period": c.money_per_period})).collect(),
            );
            summary.json(extra)?
        }
        Format::Csv => summary.csv(),
        Format::Table => {
            let mut s = format!(
                "Simulated intent-model release (seed {}, {} contacts per design)\n",
                a.seed, summary.contacts_per_design
            );
            for (_, p) in &summary.files {
                s += &format!("  {}\n", p.display());
            }
            s += &format!(
                "\nTrue effects of the release (KPI units; value nodes per {})\n",
                config.value.period
            );
            s += &summary.effects_table();
            s += "\nCostliest confusion cells (saving per period if routed correctly)\n";
            s += &plain_table(
                &["cell", "share", "money per period"],
                &truth
                    .errors
                    .cells
                    .iter()
                    .take(5)
                    .map(|c| {
                        vec![
                            c.label.clone(),
                            format!("{:.5}", c.share),
                            format!("{:.2}", c.money_per_period),
                        ]
                    })
                    .collect::<Vec<_>>(),
            );
            Rendered::from(s)
        }
    })
}
