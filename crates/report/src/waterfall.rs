//! Waterfall charts: parts that add up to a total, each with its interval.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::common::{
    draw_err, emit, finite, fmt_sig, font, header, padded, row_chart, row_y, Emitted, Figure,
    Target, ACCENT, INK, PALETTE, REFERENCE, TICK_SIZE, TITLE_SIZE,
};
use crate::{subtitle_text, Chart, Interval, ReportError};

/// One bar of a waterfall: a part's contribution (or the total) with its interval.
#[derive(Debug, Clone, PartialEq)]
pub struct WaterfallStep {
    /// The bar's label.
    pub label: String,
    /// The contribution (for the total: the total).
    pub value: f64,
    /// Lower end of the contribution's interval, if known.
    pub ci_low: Option<f64>,
    /// Upper end of the contribution's interval, if known.
    pub ci_high: Option<f64>,
}

impl WaterfallStep {
    /// A step with its interval.
    pub fn new(label: impl Into<String>, value: f64, ci: Option<(f64, f64)>) -> Self {
        WaterfallStep {
            label: label.into(),
            value,
            ci_low: ci.map(|c| c.0),
            ci_high: ci.map(|c| c.1),
        }
    }
}

/// A horizontal waterfall: the parts top to bottom, each bar floating from the running sum
/// before it to the running sum after it (increases and decreases in two colours), then the
/// total as a bar from zero. Each bar carries a whisker for its own interval, drawn around the
/// bar's end (`running sum before + [ci_low, ci_high]` for a part, `[ci_low, ci_high]` for the
/// total); the parts' intervals are marginal, so they do not add up to the total's.
///
/// The parts must add up to the total (within 1e-9 of the largest magnitude); a waterfall
/// whose parts do not is refused rather than drawn misleadingly.
///
/// ```no_run
/// # use causalkit_report::{WaterfallChart, WaterfallStep};
/// let parts = [
///     WaterfallStep::new("handle_cost", -750_000.0, Some((-900_000.0, -600_000.0))),
///     WaterfallStep::new("followup_cost", -720_000.0, Some((-950_000.0, -490_000.0))),
/// ];
/// let total = WaterfallStep::new("total_cost", -1_470_000.0, Some((-1_750_000.0, -1_190_000.0)));
/// let chart = WaterfallChart::new("Money by node").chart("waterfall", &parts, &total)?;
/// # Ok::<(), causalkit_report::ReportError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct WaterfallChart {
    title: String,
    subtitle: Option<String>,
    interval: Option<Interval>,
    x_label: String,
    digits: usize,
}

impl WaterfallChart {
    /// A waterfall with the given title, no axis label, values printed with 3 significant
    /// digits.
    pub fn new(title: impl Into<String>) -> Self {
        WaterfallChart {
            title: title.into(),
            subtitle: None,
            interval: None,
            x_label: String::new(),
            digits: 3,
        }
    }

    /// Sets the value-axis label.
    pub fn x_label(mut self, label: impl Into<String>) -> Self {
        self.x_label = label.into();
        self
    }

    /// Prints `text` as a subtitle under the title (before the interval statement, if any).
    pub fn subtitle(mut self, text: impl Into<String>) -> Self {
        self.subtitle = Some(text.into());
        self
    }

    /// States the interval drawn (level and coverage) in the subtitle.
    pub fn interval(mut self, interval: Interval) -> Self {
        self.interval = Some(interval);
        self
    }

    /// Significant digits of the printed values (at least 1). Default 3.
    pub fn digits(mut self, digits: usize) -> Self {
        self.digits = digits.max(1);
        self
    }

    /// Renders the waterfall in memory (SVG and PNG), named `name`.
    ///
    /// # Errors
    /// [`ReportError::Empty`] without parts; [`ReportError::NonFinite`] naming the bar whose
    /// value or interval end is not finite; [`ReportError::Invalid`] when the parts do not add
    /// up to the total or an interval is reversed.
    pub fn chart(
        &self,
        name: impl Into<String>,
        parts: &[WaterfallStep],
        total: &WaterfallStep,
    ) -> Result<Chart, ReportError> {
        if let Some(i) = &self.interval {
            i.check()?;
        }
        if parts.is_empty() {
            return Err(ReportError::Empty(
                "a waterfall needs at least one part".into(),
            ));
        }
        let mut rows = Vec::with_capacity(parts.len() + 1);
        let mut running = 0.0;
        let mut scale = total.value.abs();
        for p in parts.iter().chain(std::iter::once(total)) {
            finite(p.value, &p.label, "value")?;
            let ci = match (p.ci_low, p.ci_high) {
                (Some(l), Some(h)) => {
                    finite(l, &p.label, "ci_low")?;
                    finite(h, &p.label, "ci_high")?;
                    if l > h {
                        return Err(ReportError::Invalid(format!(
                            "`{}`: interval [{l}, {h}] is reversed",
                            p.label
                        )));
                    }
                    Some((l, h))
                }
                _ => None,
            };
            scale = scale.max(p.value.abs());
            let is_total = std::ptr::eq(p, total);
            let start = if is_total { 0.0 } else { running };
            let end = if is_total { p.value } else { running + p.value };
            let whisker = ci.map(|(l, h)| (start + l, start + h));
            rows.push(Row {
                label: p.label.clone(),
                value: p.value,
                start,
                end,
                whisker,
                total: is_total,
            });
            if !is_total {
                running += p.value;
            }
        }
        if (running - total.value).abs() > 1e-9 * scale.max(f64::MIN_POSITIVE) {
            return Err(ReportError::Invalid(format!(
                "the parts add up to {running}, not to the total `{}` = {}",
                total.label, total.value
            )));
        }
        let target = Target::Memory {
            name: name.into(),
            size: None,
        };
        let emitted: Emitted = emit(&WaterfallFigure { chart: self, rows }, target)?;
        emitted.into_chart()
    }
}

struct Row {
    label: String,
    value: f64,
    start: f64,
    end: f64,
    whisker: Option<(f64, f64)>,
    total: bool,
}

struct WaterfallFigure<'a> {
    chart: &'a WaterfallChart,
    rows: Vec<Row>,
}

impl Figure for WaterfallFigure<'_> {
    fn default_size(&self) -> (u32, u32) {
        let h = 150 + 40 * self.rows.len() as u32;
        (900, h.clamp(280, 8000))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError> {
        let c = self.chart;
        let n = self.rows.len();
        let mut lo = 0.0f64;
        let mut hi = 0.0f64;
        for r in &self.rows {
            for v in [r.start, r.end] {
                lo = lo.min(v);
                hi = hi.max(v);
            }
            if let Some((a, b)) = r.whisker {
                lo = lo.min(a);
                hi = hi.max(b);
            }
        }
        let (x0, x1) = padded(lo, hi, 0.08);
        let labels: Vec<&str> = self.rows.iter().map(|r| r.label.as_str()).collect();
        let sub = subtitle_text(&c.subtitle, &c.interval);
        let (area, caption) = header(root, &c.title, sub.as_deref())?;
        let mut chart = row_chart(
            &area,
            caption.as_deref().map(|t| (t, TITLE_SIZE)),
            &labels,
            (x0, x1),
            &c.x_label,
            false,
        )?;
        // Zero line.
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, -0.5), (0.0, n as f64 - 0.5)],
                REFERENCE.stroke_width(1),
            )))
            .map_err(draw_err)?;
        let half = 0.3;
        let cap = 0.14;
        for (i, r) in self.rows.iter().enumerate() {
            let y = row_y(i, n);
            let color = if r.total {
                ACCENT
            } else if r.value < 0.0 {
                PALETTE[3]
            } else {
                PALETTE[2]
            };
            let (a, b) = (r.start.min(r.end), r.start.max(r.end));
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(a, y - half), (b, y + half)],
                    color.filled(),
                )))
                .map_err(draw_err)?;
            // Connector from this part's end to the next bar's start.
            if !r.total && i + 1 < n {
                let next = row_y(i + 1, n);
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(r.end, y - half), (r.end, next + half)],
                        REFERENCE.stroke_width(1),
                    )))
                    .map_err(draw_err)?;
            }
            if let Some((wl, wh)) = r.whisker {
                let line = INK.stroke_width(2);
                chart
                    .draw_series([
                        PathElement::new(vec![(wl, y), (wh, y)], line),
                        PathElement::new(vec![(wl, y - cap), (wl, y + cap)], line),
                        PathElement::new(vec![(wh, y - cap), (wh, y + cap)], line),
                    ])
                    .map_err(draw_err)?;
            }
            let text = fmt_sig(r.value, c.digits);
            let style = TextStyle::from(font(TICK_SIZE))
                .color(&INK)
                .pos(Pos::new(HPos::Left, VPos::Bottom));
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((r.end, y + half)) + Text::new(text, (6, 0), style),
                ))
                .map_err(draw_err)?;
        }
        Ok(())
    }
}
