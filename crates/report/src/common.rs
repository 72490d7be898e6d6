//! Shared machinery: font registration, rendering to SVG/PNG, number formatting, colours.

use std::ops::Range;
use std::sync::OnceLock;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

use crate::bitmap::TextFixBackend;
use crate::{Chart, ImageFormat, Output, ReportError};

/// The font family every chart uses; the bundled DejaVu Sans is registered under this name.
pub(crate) const FONT: &str = "sans-serif";
pub(crate) const TITLE_SIZE: f64 = 24.0;
pub(crate) const DESC_SIZE: f64 = 17.0;
pub(crate) const TICK_SIZE: f64 = 15.0;

pub(crate) static DEJAVU_SANS: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static FONT_READY: OnceLock<bool> = OnceLock::new();

/// Registers the bundled font once per process.
pub(crate) fn ensure_font() -> Result<(), ReportError> {
    let ok =
        *FONT_READY.get_or_init(|| register_font(FONT, FontStyle::Normal, DEJAVU_SANS).is_ok());
    if ok {
        Ok(())
    } else {
        Err(ReportError::Font)
    }
}

/// A chart that has been validated and can be drawn on any backend.
pub(crate) trait Figure {
    /// Size in pixels when the caller does not give one.
    fn default_size(&self) -> (u32, u32);
    /// Draws the whole figure on `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError>;
}

/// Maps any plotters drawing error to [`ReportError::Draw`].
pub(crate) fn draw_err<E: std::error::Error + Send + Sync>(
    e: DrawingAreaErrorKind<E>,
) -> ReportError {
    ReportError::Draw(e.to_string())
}

/// Where a validated figure goes: a file, or memory (both SVG and PNG).
pub(crate) enum Target<'a> {
    /// Render in the output's format and write the file.
    File(&'a Output),
    /// Render SVG and PNG in memory under this name, at this size (or the figure's default).
    Memory {
        name: String,
        size: Option<(u32, u32)>,
    },
}

/// What [`emit`] produced.
pub(crate) enum Emitted {
    /// The file was written.
    Written,
    /// The chart, in memory.
    Chart(Chart),
}

impl Emitted {
    /// The in-memory chart (a [`Target::Memory`] always yields one).
    pub(crate) fn into_chart(self) -> Result<Chart, ReportError> {
        match self {
            Emitted::Chart(c) => Ok(c),
            Emitted::Written => Err(ReportError::Draw("expected an in-memory chart".into())),
        }
    }
}

/// Renders `fig` to `target`.
pub(crate) fn emit<F: Figure>(fig: &F, target: Target<'_>) -> Result<Emitted, ReportError> {
    match target {
        Target::File(out) => render(fig, out).map(|()| Emitted::Written),
        Target::Memory { name, size } => {
            let size = size.unwrap_or_else(|| fig.default_size());
            let svg = String::from_utf8(render_bytes(fig, ImageFormat::Svg, size)?)
                .map_err(|e| ReportError::Draw(format!("SVG is not UTF-8: {e}")))?;
            let png = render_bytes(fig, ImageFormat::Png, size)?;
            Ok(Emitted::Chart(Chart { name, svg, png }))
        }
    }
}

/// Renders `fig` in `format` at `(w, h)` pixels, in memory.
pub(crate) fn render_bytes<F: Figure>(
    fig: &F,
    format: ImageFormat,
    (w, h): (u32, u32),
) -> Result<Vec<u8>, ReportError> {
    ensure_font()?;
    if w == 0 || h == 0 {
        return Err(ReportError::Invalid(format!(
            "image size {w}x{h} has no pixels"
        )));
    }
    Ok(match format {
        ImageFormat::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
                root.fill(&WHITE).map_err(draw_err)?;
                fig.draw(&root)?;
                root.present().map_err(draw_err)?;
            }
            svg.into_bytes()
        }
        ImageFormat::Png => {
            let mut rgb = vec![255u8; w as usize * h as usize * 3];
            {
                let backend = TextFixBackend(BitMapBackend::with_buffer(&mut rgb, (w, h)));
                let root = backend.into_drawing_area();
                root.fill(&WHITE).map_err(draw_err)?;
                fig.draw(&root)?;
                root.present().map_err(draw_err)?;
            }
            encode_png(&rgb, w, h)?
        }
    })
}

/// Renders `fig` in memory and writes the file, so IO problems surface as [`ReportError::Io`].
pub(crate) fn render<F: Figure>(fig: &F, out: &Output) -> Result<(), ReportError> {
    let size = out.size.unwrap_or_else(|| fig.default_size());
    let bytes = render_bytes(fig, out.format, size)?;
    std::fs::write(&out.path, bytes).map_err(|source| ReportError::Io {
        path: out.path.clone(),
        source,
    })
}

/// Draws the title (and, when given, the subtitle below it) at the top of `root`.
///
/// Returns the area left for the chart and the caption the chart builder should still draw:
/// without a subtitle the title stays the builder's caption (as before), with one both lines
/// are drawn here and the builder draws none.
pub(crate) fn header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: Option<&str>,
) -> Result<(DrawingArea<DB, Shift>, Option<String>), ReportError> {
    match subtitle.filter(|s| !s.is_empty()) {
        None => Ok((root.clone(), Some(title.to_string()))),
        Some(sub) => {
            let area = if title.is_empty() {
                root.clone()
            } else {
                root.titled(title, font(TITLE_SIZE)).map_err(draw_err)?
            };
            let area = area
                .titled(sub, font(DESC_SIZE).color(&REFERENCE))
                .map_err(draw_err)?;
            Ok((area, None))
        }
    }
}

fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, ReportError> {
    let enc_err = |e: png::EncodingError| ReportError::Draw(format!("PNG encoding failed: {e}"));
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(enc_err)?;
        writer.write_image_data(rgb).map_err(enc_err)?;
        writer.finish().map_err(enc_err)?;
    }
    Ok(bytes)
}

/// Text style in the bundled font.
pub(crate) fn font(size: f64) -> FontDesc<'static> {
    (FONT, size).into_font()
}

/// Width in pixels of the widest of `texts` at `size`.
pub(crate) fn max_text_width<'a>(texts: impl IntoIterator<Item = &'a str>, size: f64) -> u32 {
    let f = font(size);
    texts
        .into_iter()
        .map(|t| f.box_size(t).map(|(w, _)| w).unwrap_or(0))
        .max()
        .unwrap_or(0)
}

/// Checks that `v` is finite.
pub(crate) fn finite(v: f64, label: &str, what: &str) -> Result<f64, ReportError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(ReportError::NonFinite {
            label: label.to_string(),
            what: what.to_string(),
        })
    }
}

/// `lo..hi` widened by `frac` of its span on both sides; a degenerate span is opened up.
pub(crate) fn padded(lo: f64, hi: f64, frac: f64) -> (f64, f64) {
    let span = hi - lo;
    if span <= 1e-12 * lo.abs().max(hi.abs()) {
        let d = (lo.abs() * 0.1).max(1.0);
        (lo - d, hi + d)
    } else {
        (lo - span * frac, hi + span * frac)
    }
}

/// Formats an axis tick for an axis spanning `span`: enough decimals, no trailing zeros.
pub(crate) fn fmt_tick(v: f64, span: f64) -> String {
    let span = span.abs();
    if span > 0.0 && !(1e-4..1e7).contains(&span) {
        return format!("{v:.2e}");
    }
    let decimals = if span > 0.0 {
        (3.0 - span.log10().floor()).clamp(0.0, 10.0) as usize
    } else {
        3
    };
    trim_zeros(format!("{v:.decimals$}"))
}

/// Formats `v` with at most `digits` significant digits, without trailing zeros (plain
/// notation for ordinary magnitudes).
pub(crate) fn fmt_sig(v: f64, digits: usize) -> String {
    let digits = digits.max(1);
    let a = v.abs();
    if a == 0.0 {
        return "0".into();
    }
    if !(1e-4..1e7).contains(&a) {
        return format!("{:.*e}", digits - 1, v);
    }
    let mag = a.log10().floor() as i32;
    let decimals = (digits as i32 - 1 - mag).max(0) as usize;
    trim_zeros(format!("{v:.decimals$}"))
}

fn trim_zeros(s: String) -> String {
    let t = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if t == "-0" {
        "0".into()
    } else {
        t
    }
}

/// An axis of `n` categories at `0.0, 1.0, ..., n - 1` spanning `-0.5..n - 0.5`, whose key
/// points (tick labels and grid lines) are exactly the category centres.
///
/// (plotters' `WithKeyPoints<RangedCoordf64>` cannot be used with a mesh in 0.3.7, because it
/// has no value formatter.)
pub(crate) struct CategoryAxis {
    n: usize,
}

impl Ranged for CategoryAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let t = (value + 0.5) / self.n as f64;
        limit.0 + ((limit.1 - limit.0) as f64 * t).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            (0..self.n).map(|k| k as f64).collect()
        }
    }

    fn range(&self) -> Range<f64> {
        -0.5..self.n as f64 - 0.5
    }
}

/// An axis of `n` categories (see [`CategoryAxis`]).
pub(crate) fn category_axis(n: usize) -> CategoryAxis {
    CategoryAxis { n: n.max(1) }
}

/// A y axis of `n` categorical rows: row `i` (counted from the top) sits at `n - 1 - i`.
pub(crate) fn row_axis(n: usize) -> CategoryAxis {
    category_axis(n)
}

/// y coordinate of row `i` (from the top) on a [`row_axis`] of `n` rows.
pub(crate) fn row_y(i: usize, n: usize) -> f64 {
    (n - 1 - i) as f64
}

/// Index (from the top) of the row at axis value `y` on a [`row_axis`] of `n` rows.
pub(crate) fn row_at(y: f64, n: usize) -> Option<usize> {
    let k = y.round();
    if k < 0.0 || k >= n as f64 {
        None
    } else {
        Some(n - 1 - k as usize)
    }
}

/// The axes of a chart with one row per label (top to bottom, on a [`row_axis`]) and a value
/// axis `x0..x1` titled `x_label`, on `area`: the caption (text and size) if any, margins,
/// labels shortened to 2/5 of the area's width, vertical grid lines (horizontal ones too when
/// `y_mesh`) and tick labels. Returns the chart to draw the rows into. Shared by the bar,
/// waterfall and forest charts.
pub(crate) fn row_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    caption: Option<(&str, f64)>,
    labels: &[&str],
    (x0, x1): (f64, f64),
    x_label: &str,
    y_mesh: bool,
) -> Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, CategoryAxis>>, ReportError> {
    let n = labels.len();
    let (width, _) = area.dim_in_pixel();
    let labels: Vec<String> = labels
        .iter()
        .map(|l| fit_text(l, width * 2 / 5, TICK_SIZE))
        .collect();
    let label_area = max_text_width(labels.iter().map(String::as_str), TICK_SIZE) + 16;
    let mut builder = ChartBuilder::on(area);
    if let Some((t, size)) = caption {
        builder.caption(t, font(size));
    }
    let mut chart = builder
        .margin(12)
        .margin_right(28)
        .x_label_area_size(if x_label.is_empty() { 32 } else { 56 })
        .y_label_area_size(label_area.max(30))
        .build_cartesian_2d(x0..x1, row_axis(n))
        .map_err(draw_err)?;
    let span = x1 - x0;
    let x_fmt = |v: &f64| fmt_tick(*v, span);
    let y_fmt = |v: &f64| row_at(*v, n).map(|i| labels[i].clone()).unwrap_or_default();
    let mut mesh = chart.configure_mesh();
    if !y_mesh {
        mesh.disable_y_mesh();
    }
    mesh.bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .x_labels(8)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .x_desc(x_label)
        .label_style(font(TICK_SIZE))
        .axis_desc_style(font(DESC_SIZE))
        .draw()
        .map_err(draw_err)?;
    Ok(chart)
}

/// Shortens `text` with an ellipsis so it is at most `max_w` pixels wide at `size`.
pub(crate) fn fit_text(text: &str, max_w: u32, size: f64) -> String {
    let f = font(size);
    let width = |t: &str| f.box_size(t).map(|(w, _)| w).unwrap_or(0);
    if width(text) <= max_w {
        return text.to_string();
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let t: String = chars.iter().collect::<String>() + "…";
        if width(&t) <= max_w {
            return t;
        }
    }
    "…".into()
}

/// Categorical palette (Tableau 10).
pub(crate) const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
/// Colour of the highlighted element when others are greyed out.
pub(crate) const ACCENT: RGBColor = RGBColor(31, 119, 180);
/// Colour of de-emphasised elements.
pub(crate) const MUTED: RGBColor = RGBColor(170, 170, 170);
/// Colour of reference lines.
pub(crate) const REFERENCE: RGBColor = RGBColor(90, 90, 90);
/// Mesh grid line colour.
pub(crate) const GRID: RGBColor = RGBColor(225, 225, 225);
/// Dark text colour.
pub(crate) const INK: RGBColor = RGBColor(30, 30, 30);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_short_and_exact() {
        assert_eq!(fmt_tick(0.25, 1.0), "0.25");
        assert_eq!(fmt_tick(2.0, 10.0), "2");
        assert_eq!(fmt_tick(-0.0, 10.0), "0");
        assert_eq!(fmt_tick(0.30000000000000004, 1.0), "0.3");
        assert_eq!(fmt_tick(1500.0, 5000.0), "1500");
    }

    #[test]
    fn significant_digits() {
        assert_eq!(fmt_sig(0.012345, 3), "0.0123");
        assert_eq!(fmt_sig(12.345, 3), "12.3");
        assert_eq!(fmt_sig(-1234.6, 3), "-1235");
        assert_eq!(fmt_sig(0.0, 3), "0");
        assert_eq!(fmt_sig(2.2, 3), "2.2");
        assert_eq!(fmt_sig(-0.00001234, 3), "-1.23e-5");
    }

    #[test]
    fn padding_opens_degenerate_ranges() {
        assert_eq!(padded(0.0, 0.0, 0.1), (-1.0, 1.0));
        let (lo, hi) = padded(0.0, 10.0, 0.1);
        assert!((lo + 1.0).abs() < 1e-12 && (hi - 11.0).abs() < 1e-12);
    }
}
