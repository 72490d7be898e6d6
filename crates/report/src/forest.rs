//! Forest plots: one row per effect, point estimate with a horizontal confidence whisker.

use std::path::Path;

use causalkit_stats::Effect;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use crate::common::{
    draw_err, finite, fit_text, fmt_tick, font, max_text_width, padded, render, row_at, row_axis,
    row_y, Figure, ACCENT, DESC_SIZE, GRID, REFERENCE, TICK_SIZE, TITLE_SIZE,
};
use crate::{ImageFormat, Output, ReportError};

/// Draws a forest plot of `effects` with default settings (reference line at 0) and writes it
/// to `path`.
///
/// Shorthand for `ForestPlot::new(title).x_label(x_label).save(effects, &Output::new(path, format))`;
/// see [`ForestPlot`] for the drawing rules and errors.
pub fn forest_plot(
    effects: &[Effect],
    title: &str,
    x_label: &str,
    path: impl AsRef<Path>,
    format: ImageFormat,
) -> Result<(), ReportError> {
    ForestPlot::new(title)
        .x_label(x_label)
        .save(effects, &Output::new(path.as_ref(), format))
}

/// A forest plot: one row per [`Effect`], in the given order from top to bottom.
///
/// Each row shows the point estimate as a dot and, when the effect has a confidence interval,
/// a horizontal whisker from `ci_low` to `ci_high` (if only one bound is known the whisker runs
/// from the estimate to that bound; effects without a CI are drawn as dots only). Effect labels
/// go on the y axis (very long labels are shortened with an ellipsis) and a dashed vertical
/// reference line marks "no effect" (0 by default). Suits lifts per metric or segment as well
/// as event-study coefficients.
///
/// ```no_run
/// # use causalkit_report::{ForestPlot, ImageFormat, Output};
/// # let effects: Vec<causalkit_stats::Effect> = vec![];
/// ForestPlot::new("Relative lift by segment")
///     .x_label("lift vs control")
///     .reference(Some(0.0))
///     .save(&effects, &Output::new("segments.png", ImageFormat::Png))?;
/// # Ok::<(), causalkit_report::ReportError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ForestPlot {
    title: String,
    x_label: String,
    reference: Option<f64>,
}

impl ForestPlot {
    /// A forest plot with the given title, no x-axis label and a reference line at 0.
    pub fn new(title: impl Into<String>) -> Self {
        ForestPlot {
            title: title.into(),
            x_label: String::new(),
            reference: Some(0.0),
        }
    }

    /// Sets the x-axis label (e.g. `"lift"` or `"coefficient"`).
    pub fn x_label(mut self, label: impl Into<String>) -> Self {
        self.x_label = label.into();
        self
    }

    /// Sets where the vertical reference line is drawn; `None` draws none. Default `Some(0.0)`.
    pub fn reference(mut self, at: Option<f64>) -> Self {
        self.reference = at;
        self
    }

    /// Draws `effects` and writes the plot to `out`.
    ///
    /// # Errors
    /// [`ReportError::Empty`] if `effects` is empty; [`ReportError::NonFinite`] naming the
    /// effect's label if an estimate or CI bound is NaN or infinite; [`ReportError::Invalid`] if
    /// the reference value is not finite; [`ReportError::Io`] if the file cannot be written.
    pub fn save(&self, effects: &[Effect], out: &Output) -> Result<(), ReportError> {
        if effects.is_empty() {
            return Err(ReportError::Empty("no effects to draw".into()));
        }
        if let Some(r) = self.reference {
            if !r.is_finite() {
                return Err(ReportError::Invalid(
                    "the reference line position must be finite".into(),
                ));
            }
        }
        let rows = effects
            .iter()
            .map(|e| {
                let estimate = finite(e.estimate, &e.label, "estimate")?;
                let lo = e
                    .ci_low
                    .map(|v| finite(v, &e.label, "ci_low"))
                    .transpose()?;
                let hi = e
                    .ci_high
                    .map(|v| finite(v, &e.label, "ci_high"))
                    .transpose()?;
                let whisker = match (lo, hi) {
                    (None, None) => None,
                    (lo, hi) => {
                        let (a, b) = (lo.unwrap_or(estimate), hi.unwrap_or(estimate));
                        Some((a.min(b), a.max(b)))
                    }
                };
                Ok(Row {
                    label: e.label.clone(),
                    estimate,
                    whisker,
                })
            })
            .collect::<Result<Vec<_>, ReportError>>()?;
        render(&ForestFigure { plot: self, rows }, out)
    }
}

struct Row {
    label: String,
    estimate: f64,
    whisker: Option<(f64, f64)>,
}

struct ForestFigure<'a> {
    plot: &'a ForestPlot,
    rows: Vec<Row>,
}

impl Figure for ForestFigure<'_> {
    fn default_size(&self) -> (u32, u32) {
        let h = 130 + 34 * self.rows.len() as u32;
        (900, h.clamp(280, 8000))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError> {
        let n = self.rows.len();
        let (width, _) = root.dim_in_pixel();
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for r in &self.rows {
            let (a, b) = r.whisker.unwrap_or((r.estimate, r.estimate));
            lo = lo.min(a).min(r.estimate);
            hi = hi.max(b).max(r.estimate);
        }
        if let Some(r) = self.plot.reference {
            lo = lo.min(r);
            hi = hi.max(r);
        }
        let (x0, x1) = padded(lo, hi, 0.06);
        let span = x1 - x0;

        let max_label = width * 2 / 5;
        let labels: Vec<String> = self
            .rows
            .iter()
            .map(|r| fit_text(&r.label, max_label, TICK_SIZE))
            .collect();
        let label_area = max_text_width(labels.iter().map(String::as_str), TICK_SIZE) + 16;

        let mut chart = ChartBuilder::on(root)
            .caption(&self.plot.title, font(TITLE_SIZE))
            .margin(12)
            .margin_right(28)
            .x_label_area_size(if self.plot.x_label.is_empty() { 32 } else { 56 })
            .y_label_area_size(label_area.max(30))
            .build_cartesian_2d(x0..x1, row_axis(n))
            .map_err(draw_err)?;

        let x_fmt = |v: &f64| fmt_tick(*v, span);
        let y_fmt = |v: &f64| row_at(*v, n).map(|i| labels[i].clone()).unwrap_or_default();
        chart
            .configure_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .x_labels(8)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .x_desc(self.plot.x_label.as_str())
            .label_style(font(TICK_SIZE))
            .axis_desc_style(font(DESC_SIZE))
            .draw()
            .map_err(draw_err)?;

        if let Some(r) = self.plot.reference {
            chart
                .draw_series(std::iter::once(DashedPathElement::new(
                    vec![(r, -0.5), (r, n as f64 - 0.5)],
                    6,
                    4,
                    REFERENCE.stroke_width(1),
                )))
                .map_err(draw_err)?;
        }

        let line = ACCENT.stroke_width(2);
        let cap = 0.16;
        for (i, r) in self.rows.iter().enumerate() {
            let y = row_y(i, n);
            if let Some((a, b)) = r.whisker {
                chart
                    .draw_series([
                        PathElement::new(vec![(a, y), (b, y)], line),
                        PathElement::new(vec![(a, y - cap), (a, y + cap)], line),
                        PathElement::new(vec![(b, y - cap), (b, y + cap)], line),
                    ])
                    .map_err(draw_err)?;
            }
            chart
                .draw_series(std::iter::once(Circle::new(
                    (r.estimate, y),
                    5,
                    ACCENT.filled(),
                )))
                .map_err(draw_err)?;
        }
        Ok(())
    }
}
