//! Forest plots: one row per effect, point estimate with a horizontal confidence whisker.

use std::path::Path;

use causalkit_stats::Effect;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use crate::common::{
    draw_err, emit, finite, font, header, padded, row_chart, row_y, Emitted, Figure, Target,
    ACCENT, DESC_SIZE, REFERENCE, TITLE_SIZE,
};
use crate::{subtitle_text, Chart, ImageFormat, Interval, Output, ReportError};

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
    subtitle: Option<String>,
    interval: Option<Interval>,
    x_label: String,
    reference: Option<f64>,
    panel_by: Option<PanelBy>,
}

/// Which typed key of an [`Effect`] (see `causalkit_stats::EffectKey`) splits a
/// [`ForestPlot`] into panels, one per value, each with its own x axis — so effects in
/// different units (seconds, proportions) are never drawn on one axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PanelBy {
    /// One panel per metric (`key.metric`).
    Metric,
    /// One panel per segment (`key.segment`).
    Segment,
    /// One panel per treatment arm or treated unit (`key.arm`).
    Arm,
    /// One panel per kind (`key.kind`: absolute, relative, ...).
    Kind,
    /// One panel per variant (`key.variant`).
    Variant,
}

impl PanelBy {
    /// The panel an effect belongs to; effects without the key share an unnamed panel.
    fn of(self, e: &Effect) -> String {
        let k = &e.key;
        match self {
            PanelBy::Metric => k.metric.clone(),
            PanelBy::Segment => k.segment.clone(),
            PanelBy::Arm => k.arm.clone(),
            PanelBy::Kind => k.kind.map(serde_kind),
            PanelBy::Variant => k.variant.clone(),
        }
        .unwrap_or_default()
    }
}

/// The snake_case name of an effect kind, as in the JSON.
fn serde_kind(k: causalkit_stats::EffectKind) -> String {
    format!("{k:?}")
        .chars()
        .enumerate()
        .flat_map(|(i, c)| {
            let lower = c.to_ascii_lowercase();
            if c.is_ascii_uppercase() && i > 0 {
                vec!['_', lower]
            } else {
                vec![lower]
            }
        })
        .collect()
}

impl ForestPlot {
    /// A forest plot with the given title, no x-axis label and a reference line at 0.
    pub fn new(title: impl Into<String>) -> Self {
        ForestPlot {
            title: title.into(),
            subtitle: None,
            interval: None,
            x_label: String::new(),
            reference: Some(0.0),
            panel_by: None,
        }
    }

    /// Draws one panel per value of a typed key (e.g. [`PanelBy::Metric`]), stacked top to
    /// bottom in order of first appearance, each with its own x axis and the value as its
    /// heading. Default: one panel for all effects.
    pub fn panel_by(mut self, by: PanelBy) -> Self {
        self.panel_by = Some(by);
        self
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

    /// Prints `text` as a subtitle under the title (before the interval statement, if any).
    pub fn subtitle(mut self, text: impl Into<String>) -> Self {
        self.subtitle = Some(text.into());
        self
    }

    /// States the interval drawn — level and pointwise / uniform / anytime-valid coverage —
    /// in the subtitle, e.g. "95% pointwise confidence intervals".
    pub fn interval(mut self, interval: Interval) -> Self {
        self.interval = Some(interval);
        self
    }

    /// Renders the chart in memory, as SVG and PNG at the default size, named `name` (the file
    /// stem [`crate::save_all`] uses). Same checks and errors as `save`, except that nothing is
    /// written.
    pub fn chart(&self, name: impl Into<String>, effects: &[Effect]) -> Result<Chart, ReportError> {
        self.emit_to(
            effects,
            Target::Memory {
                name: name.into(),
                size: None,
            },
        )?
        .into_chart()
    }

    /// Draws `effects` and writes the plot to `out`.
    ///
    /// # Errors
    /// [`ReportError::Empty`] if `effects` is empty; [`ReportError::NonFinite`] naming the
    /// effect's label if an estimate or CI bound is NaN or infinite; [`ReportError::Invalid`] if
    /// the reference value is not finite; [`ReportError::Io`] if the file cannot be written.
    pub fn save(&self, effects: &[Effect], out: &Output) -> Result<(), ReportError> {
        self.emit_to(effects, Target::File(out)).map(|_| ())
    }

    fn emit_to(&self, effects: &[Effect], target: Target<'_>) -> Result<Emitted, ReportError> {
        if let Some(i) = &self.interval {
            i.check()?;
        }
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
                Ok((
                    self.panel_by.map(|by| by.of(e)).unwrap_or_default(),
                    Row {
                        label: e.label.clone(),
                        estimate,
                        whisker,
                    },
                ))
            })
            .collect::<Result<Vec<_>, ReportError>>()?;
        let mut panels: Vec<(String, Vec<Row>)> = Vec::new();
        for (name, row) in rows {
            match panels.iter_mut().find(|(n, _)| *n == name) {
                Some((_, rs)) => rs.push(row),
                None => panels.push((name, vec![row])),
            }
        }
        emit(&ForestFigure { plot: self, panels }, target)
    }
}

struct Row {
    label: String,
    estimate: f64,
    whisker: Option<(f64, f64)>,
}

struct ForestFigure<'a> {
    plot: &'a ForestPlot,
    /// (heading, rows) per panel; one unnamed panel unless `panel_by` is set.
    panels: Vec<(String, Vec<Row>)>,
}

/// Vertical pixels of a panel beyond its rows (axis, heading).
const PANEL_EXTRA: u32 = 80;
/// Vertical pixels per row.
const ROW_H: u32 = 34;

impl Figure for ForestFigure<'_> {
    fn default_size(&self) -> (u32, u32) {
        let n: u32 = self.panels.iter().map(|(_, r)| r.len() as u32).sum();
        let header = if self.plot.subtitle.is_some() || self.plot.interval.is_some() {
            80
        } else {
            50
        };
        let h = header + ROW_H * n + PANEL_EXTRA * self.panels.len() as u32;
        (900, h.clamp(280, 8000))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError> {
        let sub = subtitle_text(&self.plot.subtitle, &self.plot.interval);
        if self.panels.len() == 1 {
            let (area, caption) = header(root, &self.plot.title, sub.as_deref())?;
            return self.draw_panel(&area, &self.panels[0].1, caption.as_deref(), TITLE_SIZE);
        }
        let area = root
            .titled(&self.plot.title, font(TITLE_SIZE))
            .map_err(draw_err)?;
        let (mut rest, _) = header(&area, "", sub.as_deref())?;
        let (_, total_h) = rest.dim_in_pixel();
        let weight = |rows: usize| ROW_H as f64 * rows as f64 + PANEL_EXTRA as f64;
        let total_w: f64 = self.panels.iter().map(|(_, r)| weight(r.len())).sum();
        for (k, (name, rows)) in self.panels.iter().enumerate() {
            let heading = if name.is_empty() { "(other)" } else { name };
            if k + 1 == self.panels.len() {
                self.draw_panel(&rest, rows, Some(heading), DESC_SIZE)?;
            } else {
                let h = (total_h as f64 * weight(rows.len()) / total_w).round() as u32;
                let (top, bottom) = rest.split_vertically(h);
                self.draw_panel(&top, rows, Some(heading), DESC_SIZE)?;
                rest = bottom;
            }
        }
        Ok(())
    }
}

impl ForestFigure<'_> {
    /// Draws one panel of rows with its own x axis on `root`, with an optional caption.
    fn draw_panel<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        rows: &[Row],
        caption: Option<&str>,
        caption_size: f64,
    ) -> Result<(), ReportError> {
        let n = rows.len();
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for r in rows {
            let (a, b) = r.whisker.unwrap_or((r.estimate, r.estimate));
            lo = lo.min(a).min(r.estimate);
            hi = hi.max(b).max(r.estimate);
        }
        if let Some(r) = self.plot.reference {
            lo = lo.min(r);
            hi = hi.max(r);
        }
        let (x0, x1) = padded(lo, hi, 0.06);
        let labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
        let mut chart = row_chart(
            root,
            caption.map(|t| (t, caption_size)),
            &labels,
            (x0, x1),
            &self.plot.x_label,
            true,
        )?;

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
        for (i, r) in rows.iter().enumerate() {
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
