//! Line charts of series over time, with optional confidence bands and reference lines.

use std::path::Path;

use plotters::chart::SeriesLabelPosition;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use crate::common::{
    draw_err, emit, finite, fmt_tick, font, header, padded, Emitted, Figure, Target, ACCENT,
    DESC_SIZE, GRID, INK, MUTED, PALETTE, REFERENCE, TICK_SIZE, TITLE_SIZE,
};
use crate::{subtitle_text, Chart, ImageFormat, Interval, Output, ReportError};

/// One line of a [`LineChart`]: points `(x[i], y[i])` joined in the given order, with an
/// optional band from `lower[i]` to `upper[i]` (e.g. a confidence interval or confidence
/// sequence) shaded behind it.
///
/// The legend names what is drawn, explicitly: the line gets an entry labelled `name` (none
/// when `name` is empty), and the band gets its own entry (a shaded swatch) labelled
/// `band_label` when that is set. A band can also stand alone ([`Series::band`]: no line), so a
/// chart of one estimate with two different intervals reads
/// `[Series::new("estimate", ..), Series::band("95% confidence sequence", ..),
/// Series::band("95% fixed-horizon CI", ..)]` and each legend entry says what it is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// Legend text of the line (and the name [`LineChart::highlight`] matches); empty: no entry.
    pub name: String,
    /// x values, e.g. periods relative to treatment or calendar time.
    pub x: Vec<f64>,
    /// y values; same length as `x`.
    pub y: Vec<f64>,
    /// Lower edge of the shaded band; same length as `x`, given together with `upper`.
    pub lower: Option<Vec<f64>>,
    /// Upper edge of the shaded band; same length as `x`, given together with `lower`.
    pub upper: Option<Vec<f64>>,
    /// Legend text of the band; `None`: the band has no legend entry of its own.
    pub band_label: Option<String>,
    /// Draw only the band, no line (set by [`Series::band`]).
    pub band_only: bool,
}

impl Series {
    /// A series without a band.
    pub fn new(name: impl Into<String>, x: Vec<f64>, y: Vec<f64>) -> Self {
        Series {
            name: name.into(),
            x,
            y,
            ..Default::default()
        }
    }

    /// A band on its own (no line), with a legend entry `label`, e.g. "95% confidence
    /// sequence".
    pub fn band(label: impl Into<String>, x: Vec<f64>, lower: Vec<f64>, upper: Vec<f64>) -> Self {
        Series {
            name: String::new(),
            y: lower.clone(),
            x,
            lower: Some(lower),
            upper: Some(upper),
            band_label: Some(label.into()),
            band_only: true,
        }
    }

    /// Adds a shaded band from `lower` to `upper` (builder style). The band has no legend
    /// entry of its own unless [`Series::band_label`] names it.
    pub fn with_band(mut self, lower: Vec<f64>, upper: Vec<f64>) -> Self {
        self.lower = Some(lower);
        self.upper = Some(upper);
        self
    }

    /// Gives the band its own legend entry (builder style), e.g. "95% pointwise CI".
    pub fn band_label(mut self, label: impl Into<String>) -> Self {
        self.band_label = Some(label.into());
        self
    }
}

/// Draws `series` as a line chart with default settings and writes it to `path`.
///
/// Shorthand for
/// `LineChart::new(title).x_label(x_label).y_label(y_label).save(series, &Output::new(path, format))`;
/// see [`LineChart`] for the drawing rules and errors.
pub fn line_chart(
    series: &[Series],
    title: &str,
    x_label: &str,
    y_label: &str,
    path: impl AsRef<Path>,
    format: ImageFormat,
) -> Result<(), ReportError> {
    LineChart::new(title)
        .x_label(x_label)
        .y_label(y_label)
        .save(series, &Output::new(path.as_ref(), format))
}

/// A line chart of one or more [`Series`] sharing numeric x and y axes.
///
/// Series get distinct colours and a legend entry each (series with an empty name get none); a
/// series' band is shaded in a light tint of its colour. Optional extras: a dashed vertical
/// marker (e.g. treatment start), a horizontal reference line (e.g. 0), dots at every data point
/// (handy for event studies), and highlighting one series — it is then drawn thick in colour and
/// all others thin and grey, with a single legend entry for them (for placebo-gap plots). The
/// legend goes in the corner with the fewest data points.
///
/// ```no_run
/// # use causalkit_report::{LineChart, Series, ImageFormat, Output};
/// let gaps = vec![
///     Series::new("California", vec![1980.0, 1990.0, 2000.0], vec![0.0, -10.0, -25.0]),
///     Series::new("Nevada", vec![1980.0, 1990.0, 2000.0], vec![1.0, 3.0, -2.0]),
/// ];
/// LineChart::new("Placebo gaps")
///     .y_label("gap in per-capita sales")
///     .vline(1988.0)
///     .hline(0.0)
///     .highlight("California")
///     .others_label("placebo states")
///     .save(&gaps, &Output::new("gaps.svg", ImageFormat::Svg))?;
/// # Ok::<(), causalkit_report::ReportError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LineChart {
    title: String,
    subtitle: Option<String>,
    interval: Option<Interval>,
    x_label: String,
    y_label: String,
    vline: Option<f64>,
    hline: Option<f64>,
    highlight: Option<String>,
    others_label: String,
    markers: bool,
    label_others: bool,
}

impl LineChart {
    /// A line chart with the given title, no axis labels and no reference lines.
    pub fn new(title: impl Into<String>) -> Self {
        LineChart {
            title: title.into(),
            subtitle: None,
            interval: None,
            x_label: String::new(),
            y_label: String::new(),
            vline: None,
            hline: None,
            highlight: None,
            others_label: "others".into(),
            markers: false,
            label_others: false,
        }
    }

    /// Sets the x-axis label.
    pub fn x_label(mut self, label: impl Into<String>) -> Self {
        self.x_label = label.into();
        self
    }

    /// Sets the y-axis label.
    pub fn y_label(mut self, label: impl Into<String>) -> Self {
        self.y_label = label.into();
        self
    }

    /// Draws a dashed vertical marker line at `x` (e.g. the first treated period).
    pub fn vline(mut self, x: f64) -> Self {
        self.vline = Some(x);
        self
    }

    /// Draws a horizontal reference line at `y` (e.g. 0 for "no effect").
    pub fn hline(mut self, y: f64) -> Self {
        self.hline = Some(y);
        self
    }

    /// Highlights the series with this name; all other series are drawn thin and grey and share
    /// one legend entry (see [`LineChart::others_label`]).
    pub fn highlight(mut self, name: impl Into<String>) -> Self {
        self.highlight = Some(name.into());
        self
    }

    /// Legend text for the grey series when one series is highlighted. Default `"others"`.
    pub fn others_label(mut self, label: impl Into<String>) -> Self {
        self.others_label = label.into();
        self
    }

    /// With a highlighted series: give every other series its own colour, thin line and
    /// legend entry (e.g. cohort trends next to the never-treated mean) instead of one grey
    /// "others" entry. Default `false`.
    pub fn label_others(mut self, on: bool) -> Self {
        self.label_others = on;
        self
    }

    /// Whether to mark every data point of the coloured series with a dot. Default `false`.
    pub fn markers(mut self, on: bool) -> Self {
        self.markers = on;
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
    pub fn chart(&self, name: impl Into<String>, series: &[Series]) -> Result<Chart, ReportError> {
        self.emit_to(
            series,
            Target::Memory {
                name: name.into(),
                size: None,
            },
        )?
        .into_chart()
    }

    /// Draws `series` and writes the chart to `out`.
    ///
    /// # Errors
    /// [`ReportError::Empty`] if there are no series or no points at all;
    /// [`ReportError::Invalid`] if a series' columns differ in length, only one band edge is
    /// given, the highlighted name matches no series, or a reference line is not finite;
    /// [`ReportError::NonFinite`] naming the series if any value is NaN or infinite;
    /// [`ReportError::Io`] if the file cannot be written.
    pub fn save(&self, series: &[Series], out: &Output) -> Result<(), ReportError> {
        self.emit_to(series, Target::File(out)).map(|_| ())
    }

    fn emit_to(&self, series: &[Series], target: Target<'_>) -> Result<Emitted, ReportError> {
        if let Some(i) = &self.interval {
            i.check()?;
        }
        if series.is_empty() {
            return Err(ReportError::Empty("no series to draw".into()));
        }
        if series.iter().all(|s| s.x.is_empty()) {
            return Err(ReportError::Empty("every series has no points".into()));
        }
        for (what, v) in [("vline", self.vline), ("hline", self.hline)] {
            if v.is_some_and(|v| !v.is_finite()) {
                return Err(ReportError::Invalid(format!(
                    "the {what} position must be finite"
                )));
            }
        }
        for s in series {
            validate(s)?;
        }
        if let Some(h) = &self.highlight {
            if !series.iter().any(|s| &s.name == h) {
                return Err(ReportError::Invalid(format!(
                    "no series named `{h}` to highlight"
                )));
            }
        }
        emit(
            &LineFigure {
                chart: self,
                series,
            },
            target,
        )
    }
}

fn validate(s: &Series) -> Result<(), ReportError> {
    let n = s.x.len();
    let check_len = |what: &str, len: usize| {
        if len == n {
            Ok(())
        } else {
            Err(ReportError::Invalid(format!(
                "series `{}`: {what} has {len} values but x has {n}",
                s.name
            )))
        }
    };
    check_len("y", s.y.len())?;
    match (&s.lower, &s.upper) {
        (Some(lo), Some(hi)) => {
            check_len("lower", lo.len())?;
            check_len("upper", hi.len())?;
        }
        (None, None) => {}
        _ => {
            return Err(ReportError::Invalid(format!(
                "series `{}`: lower and upper must be given together",
                s.name
            )))
        }
    }
    let columns = [
        ("x", Some(&s.x)),
        ("y", Some(&s.y)),
        ("lower", s.lower.as_ref()),
        ("upper", s.upper.as_ref()),
    ];
    for (what, col) in columns {
        for (i, v) in col.into_iter().flatten().enumerate() {
            finite(*v, &s.name, &format!("{what}[{i}]"))?;
        }
    }
    Ok(())
}

struct LineFigure<'a> {
    chart: &'a LineChart,
    series: &'a [Series],
}

struct Look {
    color: RGBColor,
    width: u32,
    band_alpha: f64,
    muted: bool,
}

impl LineFigure<'_> {
    fn look(&self, i: usize, s: &Series) -> Look {
        match &self.chart.highlight {
            Some(h) if *h == s.name => Look {
                color: ACCENT,
                width: 3,
                band_alpha: 0.2,
                muted: false,
            },
            Some(_) if self.chart.label_others => Look {
                color: PALETTE[1 + i % (PALETTE.len() - 1)],
                width: 1,
                band_alpha: 0.1,
                muted: false,
            },
            Some(_) => Look {
                color: MUTED,
                width: 1,
                band_alpha: 0.1,
                muted: true,
            },
            None => Look {
                color: PALETTE[i % PALETTE.len()],
                width: 2,
                band_alpha: 0.2,
                muted: false,
            },
        }
    }

    /// The legend corner whose quarter of the plot holds the fewest data points.
    fn legend_corner(&self, xr: (f64, f64), yr: (f64, f64)) -> SeriesLabelPosition {
        let mut counts = [0usize; 4]; // UL, UR, LL, LR
        let mut count = |x: f64, y: f64| {
            let u = (x - xr.0) / (xr.1 - xr.0);
            let v = (y - yr.0) / (yr.1 - yr.0);
            let left = u < 0.4;
            let right = u > 0.6;
            let top = v > 0.65;
            let bottom = v < 0.35;
            if top && left {
                counts[0] += 1;
            }
            if top && right {
                counts[1] += 1;
            }
            if bottom && left {
                counts[2] += 1;
            }
            if bottom && right {
                counts[3] += 1;
            }
        };
        for s in self.series {
            let cols = [Some(&s.y), s.lower.as_ref(), s.upper.as_ref()];
            for ys in cols.into_iter().flatten() {
                for (i, (&x, &y)) in s.x.iter().zip(ys).enumerate() {
                    count(x, y);
                    if let (Some(&x2), Some(&y2)) = (s.x.get(i + 1), ys.get(i + 1)) {
                        count((x + x2) / 2.0, (y + y2) / 2.0);
                    }
                }
            }
        }
        let positions = [
            SeriesLabelPosition::UpperLeft,
            SeriesLabelPosition::UpperRight,
            SeriesLabelPosition::LowerLeft,
            SeriesLabelPosition::LowerRight,
        ];
        let best = (0..4).min_by_key(|&k| counts[k]).unwrap_or(0);
        positions[best].clone()
    }
}

impl Figure for LineFigure<'_> {
    fn default_size(&self) -> (u32, u32) {
        (960, 580)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError> {
        let c = self.chart;
        let (mut x_lo, mut x_hi) = (f64::INFINITY, f64::NEG_INFINITY);
        let (mut y_lo, mut y_hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for s in self.series {
            for &x in &s.x {
                x_lo = x_lo.min(x);
                x_hi = x_hi.max(x);
            }
            let cols = [Some(&s.y), s.lower.as_ref(), s.upper.as_ref()];
            for &y in cols.into_iter().flatten().flatten() {
                y_lo = y_lo.min(y);
                y_hi = y_hi.max(y);
            }
        }
        if let Some(v) = c.vline {
            x_lo = x_lo.min(v);
            x_hi = x_hi.max(v);
        }
        if let Some(h) = c.hline {
            y_lo = y_lo.min(h);
            y_hi = y_hi.max(h);
        }
        let (x0, x1) = padded(x_lo, x_hi, 0.02);
        let (y0, y1) = padded(y_lo, y_hi, 0.08);
        let (x_span, y_span) = (x1 - x0, y1 - y0);

        let y_tick_w = [y0, y1, (y0 + y1) / 2.0]
            .iter()
            .map(|v| crate::common::max_text_width([fmt_tick(*v, y_span).as_str()], TICK_SIZE))
            .max()
            .unwrap_or(30);
        let sub = subtitle_text(&c.subtitle, &c.interval);
        let (area, caption) = header(root, &c.title, sub.as_deref())?;
        let mut builder = ChartBuilder::on(&area);
        if let Some(t) = &caption {
            builder.caption(t, font(TITLE_SIZE));
        }
        let mut chart = builder
            .margin(12)
            .margin_right(28)
            .x_label_area_size(if c.x_label.is_empty() { 32 } else { 56 })
            .y_label_area_size(y_tick_w + if c.y_label.is_empty() { 18 } else { 44 })
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(draw_err)?;

        let x_fmt = |v: &f64| fmt_tick(*v, x_span);
        let y_fmt = |v: &f64| fmt_tick(*v, y_span);
        chart
            .configure_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .x_labels(10)
            .y_labels(8)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .x_desc(c.x_label.as_str())
            .y_desc(c.y_label.as_str())
            .label_style(font(TICK_SIZE))
            .axis_desc_style(font(DESC_SIZE))
            .draw()
            .map_err(draw_err)?;

        // Bands first, so lines stay on top of every band.
        for (i, s) in self.series.iter().enumerate() {
            if let (Some(lo), Some(hi)) = (&s.lower, &s.upper) {
                let look = self.look(i, s);
                let mut poly: Vec<(f64, f64)> =
                    s.x.iter().copied().zip(hi.iter().copied()).collect();
                poly.extend(s.x.iter().copied().zip(lo.iter().copied()).rev());
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        poly,
                        look.color.mix(look.band_alpha).filled(),
                    )))
                    .map_err(draw_err)?;
            }
        }

        if let Some(h) = c.hline {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x0, h), (x1, h)],
                    REFERENCE.stroke_width(1),
                )))
                .map_err(draw_err)?;
        }
        if let Some(v) = c.vline {
            chart
                .draw_series(std::iter::once(DashedPathElement::new(
                    vec![(v, y0), (v, y1)],
                    6,
                    4,
                    REFERENCE.stroke_width(2),
                )))
                .map_err(draw_err)?;
        }

        // Legend entries first, so their order is: each series' line then its band, as
        // given, then "others".
        let mut entries: Vec<(String, ShapeStyle, bool)> = Vec::new();
        let mut muted_style = None;
        for (i, s) in self.series.iter().enumerate() {
            let look = self.look(i, s);
            let style = look.color.stroke_width(look.width.max(2));
            if look.muted {
                muted_style = Some(style);
                continue;
            }
            if !s.band_only && !s.name.is_empty() {
                entries.push((s.name.clone(), style, false));
            }
            if let Some(b) = s.band_label.as_ref().filter(|b| !b.is_empty()) {
                let fill = look.color.mix(look.band_alpha.max(0.25)).filled();
                entries.push((b.clone(), fill, true));
            }
        }
        if let Some(style) = muted_style.filter(|_| !c.others_label.is_empty()) {
            entries.push((c.others_label.clone(), style, false));
        }
        for (text, style, swatch) in &entries {
            let style = *style;
            let drawn = chart
                .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())
                .map_err(draw_err)?
                .label(text.as_str());
            if *swatch {
                drawn.legend(move |(x, y)| Rectangle::new([(x, y - 7), (x + 24, y + 7)], style));
            } else {
                drawn.legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
            }
        }

        // Grey series below coloured ones.
        let mut order: Vec<usize> = (0..self.series.len()).collect();
        order.sort_by_key(|&i| !self.look(i, &self.series[i]).muted);
        for i in order {
            let s = &self.series[i];
            if s.band_only {
                continue;
            }
            let look = self.look(i, s);
            chart
                .draw_series(LineSeries::new(
                    s.x.iter().copied().zip(s.y.iter().copied()),
                    look.color.stroke_width(look.width),
                ))
                .map_err(draw_err)?;
            if c.markers && !look.muted {
                chart
                    .draw_series(
                        s.x.iter()
                            .zip(&s.y)
                            .map(|(&x, &y)| Circle::new((x, y), 4, look.color.filled())),
                    )
                    .map_err(draw_err)?;
            }
        }

        let has_legend = !entries.is_empty();
        if has_legend {
            chart
                .configure_series_labels()
                .position(self.legend_corner((x0, x1), (y0, y1)))
                .margin(12)
                .legend_area_size(32)
                .background_style(WHITE.mix(0.9))
                .border_style(INK.mix(0.4))
                .label_font(font(TICK_SIZE))
                .draw()
                .map_err(draw_err)?;
        }
        Ok(())
    }
}
