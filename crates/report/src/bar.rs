//! Horizontal bar charts of labelled values.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::common::{
    draw_err, emit, finite, fmt_sig, font, header, max_text_width, padded, row_chart, row_y,
    Emitted, Figure, Target, ACCENT, INK, MUTED, PALETTE, REFERENCE, TICK_SIZE, TITLE_SIZE,
};
use crate::{subtitle_text, Chart, ImageFormat, Interval, Output, ReportError};

/// Draws `bars` (label, value) as a horizontal bar chart with default settings and writes it to
/// `path`.
///
/// Shorthand for `BarChart::new(title).x_label(x_label).save(bars, &Output::new(path, format))`;
/// see [`BarChart`] for the drawing rules and errors.
pub fn bar_chart<S: AsRef<str>>(
    bars: &[(S, f64)],
    title: &str,
    x_label: &str,
    path: impl AsRef<Path>,
    format: ImageFormat,
) -> Result<(), ReportError> {
    BarChart::new(title)
        .x_label(x_label)
        .save(bars, &Output::new(path.as_ref(), format))
}

/// A horizontal bar chart: one bar per `(label, value)`, top to bottom in the given order (or
/// sorted, see [`BarChart::sort_descending`]), labels on the y axis and each value printed at
/// the end of its bar. Bars start at 0, so negative values point left.
///
/// With [`BarChart::highlight`] the named bar is drawn in colour and all others in grey — e.g.
/// the treated unit in a ranking of post/pre RMSPE ratios.
///
/// ```no_run
/// # use causalkit_report::{BarChart, ImageFormat, Output};
/// let ratios = [("California", 13.2), ("Georgia", 6.1), ("Indiana", 4.0)];
/// BarChart::new("Post/pre RMSPE ratio")
///     .highlight("California")
///     .sort_descending(true)
///     .save(&ratios, &Output::new("rmspe.svg", ImageFormat::Svg))?;
/// # Ok::<(), causalkit_report::ReportError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    title: String,
    subtitle: Option<String>,
    interval: Option<Interval>,
    x_label: String,
    highlight: Option<String>,
    sort: bool,
    show_values: bool,
    digits: usize,
}

impl BarChart {
    /// A bar chart with the given title, no axis label, values printed with 3 significant
    /// digits, in the given order, nothing highlighted.
    pub fn new(title: impl Into<String>) -> Self {
        BarChart {
            title: title.into(),
            subtitle: None,
            interval: None,
            x_label: String::new(),
            highlight: None,
            sort: false,
            show_values: true,
            digits: 3,
        }
    }

    /// Sets the value-axis label.
    pub fn x_label(mut self, label: impl Into<String>) -> Self {
        self.x_label = label.into();
        self
    }

    /// Highlights the bar with this label; the others turn grey.
    pub fn highlight(mut self, label: impl Into<String>) -> Self {
        self.highlight = Some(label.into());
        self
    }

    /// Whether to sort bars by value, largest on top. Default `false` (given order).
    pub fn sort_descending(mut self, on: bool) -> Self {
        self.sort = on;
        self
    }

    /// Whether to print each value at the end of its bar. Default `true`.
    pub fn show_values(mut self, on: bool) -> Self {
        self.show_values = on;
        self
    }

    /// Significant digits of the printed values (at least 1). Default 3.
    pub fn digits(mut self, digits: usize) -> Self {
        self.digits = digits.max(1);
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
    pub fn chart<S: AsRef<str>>(
        &self,
        name: impl Into<String>,
        bars: &[(S, f64)],
    ) -> Result<Chart, ReportError> {
        self.emit_to(
            bars,
            Target::Memory {
                name: name.into(),
                size: None,
            },
        )?
        .into_chart()
    }

    /// Draws `bars` and writes the chart to `out`.
    ///
    /// # Errors
    /// [`ReportError::Empty`] if `bars` is empty; [`ReportError::NonFinite`] naming the label if
    /// a value is NaN or infinite; [`ReportError::Invalid`] if the highlighted label matches no
    /// bar; [`ReportError::Io`] if the file cannot be written.
    pub fn save<S: AsRef<str>>(&self, bars: &[(S, f64)], out: &Output) -> Result<(), ReportError> {
        self.emit_to(bars, Target::File(out)).map(|_| ())
    }

    fn emit_to<S: AsRef<str>>(
        &self,
        bars: &[(S, f64)],
        target: Target<'_>,
    ) -> Result<Emitted, ReportError> {
        if let Some(i) = &self.interval {
            i.check()?;
        }
        if bars.is_empty() {
            return Err(ReportError::Empty("no bars to draw".into()));
        }
        let mut rows = bars
            .iter()
            .map(|(label, v)| {
                let label = label.as_ref();
                Ok((label.to_string(), finite(*v, label, "value")?))
            })
            .collect::<Result<Vec<_>, ReportError>>()?;
        if let Some(h) = &self.highlight {
            if !rows.iter().any(|(l, _)| l == h) {
                return Err(ReportError::Invalid(format!(
                    "no bar labelled `{h}` to highlight"
                )));
            }
        }
        if self.sort {
            rows.sort_by(|a, b| b.1.total_cmp(&a.1));
        }
        emit(&BarFigure { chart: self, rows }, target)
    }
}

struct BarFigure<'a> {
    chart: &'a BarChart,
    rows: Vec<(String, f64)>,
}

impl Figure for BarFigure<'_> {
    fn default_size(&self) -> (u32, u32) {
        let h = 130 + 30 * self.rows.len() as u32;
        (900, h.clamp(260, 8000))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError> {
        let c = self.chart;
        let n = self.rows.len();
        let (width, _) = root.dim_in_pixel();
        let lo = self.rows.iter().fold(0.0f64, |m, r| m.min(r.1));
        let hi = self.rows.iter().fold(0.0f64, |m, r| m.max(r.1));
        let values: Vec<String> = self.rows.iter().map(|r| fmt_sig(r.1, c.digits)).collect();

        // Leave room beyond the bar ends for the printed values (lo <= 0 <= hi, so `hi <= lo`
        // means every bar is zero).
        let (x0, x1) = if hi <= lo {
            padded(lo, hi, 0.0)
        } else {
            let plot_w = width as f64 * 0.6;
            let text_w = if c.show_values {
                max_text_width(values.iter().map(String::as_str), TICK_SIZE) as f64 + 12.0
            } else {
                0.0
            };
            let frac = (text_w / plot_w).min(0.4) + 0.02;
            let span = hi - lo;
            let extra = span * frac / (1.0 - 2.0 * frac).max(0.2);
            (
                if lo < 0.0 { lo - extra } else { 0.0 },
                if hi > 0.0 { hi + extra } else { 0.0 },
            )
        };

        let labels: Vec<&str> = self.rows.iter().map(|r| r.0.as_str()).collect();
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

        let half = 0.36;
        for (i, ((label, v), text)) in self.rows.iter().zip(&values).enumerate() {
            let y = row_y(i, n);
            let color = match &c.highlight {
                Some(h) if h == label => PALETTE[1],
                Some(_) => MUTED,
                None => ACCENT,
            };
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(0.0, y - half), (*v, y + half)],
                    color.filled(),
                )))
                .map_err(draw_err)?;
            if c.show_values {
                let (anchor, dx) = if *v < 0.0 {
                    (HPos::Right, -6)
                } else {
                    (HPos::Left, 6)
                };
                let style = TextStyle::from(font(TICK_SIZE))
                    .color(&INK)
                    .pos(Pos::new(anchor, VPos::Center));
                chart
                    .draw_series(std::iter::once(
                        EmptyElement::at((*v, y)) + Text::new(text.clone(), (dx, 0), style),
                    ))
                    .map_err(draw_err)?;
            }
        }
        if lo < 0.0 {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(0.0, -0.5), (0.0, n as f64 - 0.5)],
                    REFERENCE.stroke_width(1),
                )))
                .map_err(draw_err)?;
        }
        Ok(())
    }
}
