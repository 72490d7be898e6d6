//! `causalkit attribute errors --spec FILE`: model errors (confusion cells) ranked by the money
//! they cost (the library's `causalkit_attribution::errors::rank_file`); this module parses,
//! calls, prints and plots.

use crate::output::{CliError, Format, Rendered};
use causalkit_attribution::errors::{rank_file, ErrorsOptions};
use causalkit_report::{ForestPlot, Interval};
use causalkit_stats::Report;
use std::path::Path;

/// Runs `causalkit attribute errors` with the flags of `attribute`: the spec, the output
/// format, the interval level, the seed of the value tree's bootstrap cross-check and an
/// optional chart directory (a forest plot of the cells' savings and `fix_top_k`).
pub fn run(
    spec: Option<&Path>,
    format: Format,
    alpha: f64,
    seed: u64,
    plot: Option<&Path>,
) -> Result<Rendered, CliError> {
    let spec = spec.ok_or_else(|| CliError::bad("give the release spec: --spec FILE"))?;
    causalkit_stats::limits::check_alpha_level("--alpha", alpha)?;
    let options = ErrorsOptions {
        alpha,
        seed,
        ..ErrorsOptions::default()
    };
    let ranking = rank_file(spec, &options)?;
    if let Some(dir) = plot {
        let chart = ForestPlot::new("Model errors ranked by money")
            .x_label(format!(
                "saving in {} per {} if routed correctly",
                ranking.node, ranking.period
            ))
            .interval(Interval::pointwise(1.0 - alpha))
            .chart("error_ranking", &ranking.effects())?;
        causalkit_report::save_all(dir, &[chart])?;
    }
    let result = ranking.result();
    crate::report::capture(&result);
    if format != Format::Table {
        return Ok(crate::output::render(&result, format, None));
    }
    // Table: the summary, the effects and scalar diagnostics, then the detail tables (the
    // nested diagnostics are in the JSON).
    let mut short = result.clone();
    short
        .diagnostics
        .retain(|_, v| !v.is_object() && !v.is_array());
    let body = crate::output::render(&short, format, Some(&ranking.detail_tables()));
    Ok(Rendered {
        stdout: ranking.summary() + "\n" + &body.stdout,
        stderr: body.stderr,
    })
}
