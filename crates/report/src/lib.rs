//! Plots for causalkit results, written as SVG or PNG.
//!
//! Five chart types cover the usual causal-inference figures:
//!
//! | chart | use it for |
//! |---|---|
//! | [`forest_plot`] / [`ForestPlot`] | lifts per metric or segment, event-study coefficients, any list of [`Effect`]s |
//! | [`line_chart`] / [`LineChart`] | event-study paths, cumulative effects with a confidence band, treated vs synthetic control, placebo gaps |
//! | [`heat_map`] / [`HeatMap`] | ATT(g,t) tables and other labelled matrices, on a diverging scale centred on 0 |
//! | [`bar_chart`] / [`BarChart`] | labelled values such as RMSPE-ratio rankings, with one bar highlighted |
//! | [`WaterfallChart`] | parts adding up to a total (money by value node), each with its interval |
//!
//! Each free function draws with default settings; the builder of the same name gives full
//! control. Drawing and writing are separate steps: a builder's `chart(name, data)` renders
//! the figure in memory as a [`Chart`] (SVG text and PNG bytes), and [`save_all`] writes a list
//! of charts into a directory as `<name>.svg` and `<name>.png`. `save(data, &Output)` (and the
//! free functions) remain as the one-step "render one format and write one file" shorthand.
//! Nothing panics on bad input: every function returns a [`ReportError`].
//!
//! Every builder can state the interval it draws — its level and whether it is pointwise,
//! uniform over the plotted points, or an anytime-valid confidence sequence — with
//! `.interval(Interval::...)`; the statement is printed as a subtitle under the title.
//!
//! Text is rendered with a bundled copy of DejaVu Sans (see `fonts/LICENSE-DejaVu.txt`), so
//! plots look the same on every machine and no system fonts are needed.
//!
//! ```no_run
//! use causalkit_report::{forest_plot, ImageFormat};
//! use causalkit_stats::Effect;
//!
//! let effects = vec![Effect::point("conversion", 0.021), Effect::point("revenue", -0.004)];
//! forest_plot(&effects, "Relative lift", "lift", "lift.svg", ImageFormat::Svg)?;
//! # Ok::<(), causalkit_report::ReportError>(())
//! ```

#![deny(clippy::float_cmp)]
#![warn(missing_docs)]

mod bar;
mod bitmap;
mod common;
mod forest;
mod heat;
mod line;
mod waterfall;

use std::path::{Path, PathBuf};

pub use bar::{bar_chart, BarChart};
pub use causalkit_stats::Effect;
pub use forest::{forest_plot, ForestPlot, PanelBy};
pub use heat::{heat_map, HeatMap, Matrix};
pub use line::{line_chart, LineChart, Series};
pub use waterfall::{WaterfallChart, WaterfallStep};

/// A chart rendered in memory: the same figure as SVG text and as PNG bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    /// File stem used by [`save_all`] (`<name>.svg`, `<name>.png`).
    pub name: String,
    /// The figure as an SVG document.
    pub svg: String,
    /// The figure as a PNG image.
    pub png: Vec<u8>,
}

impl Chart {
    /// Writes `<dir>/<name>.svg` and `<dir>/<name>.png` (the directory must exist) and returns
    /// both paths.
    ///
    /// # Errors
    /// [`ReportError::Io`] naming the file that could not be written.
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<[PathBuf; 2], ReportError> {
        let dir = dir.as_ref();
        let svg = dir.join(format!("{}.svg", self.name));
        let png = dir.join(format!("{}.png", self.name));
        for (path, bytes) in [(&svg, self.svg.as_bytes()), (&png, self.png.as_slice())] {
            std::fs::write(path, bytes).map_err(|source| ReportError::Io {
                path: path.clone(),
                source,
            })?;
        }
        Ok([svg, png])
    }
}

/// Writes every chart into `dir` (created if needed) as `<name>.svg` and `<name>.png`, and
/// returns the paths written, in order (SVG then PNG for each chart).
///
/// # Errors
/// [`ReportError::Io`] naming the directory that could not be created or the file that could
/// not be written; [`ReportError::Invalid`] if two charts share a name or a name is empty or
/// contains a path separator.
pub fn save_all(dir: impl AsRef<Path>, charts: &[Chart]) -> Result<Vec<PathBuf>, ReportError> {
    let dir = dir.as_ref();
    let mut seen = std::collections::BTreeSet::new();
    for c in charts {
        if c.name.is_empty() || c.name.contains(['/', '\\']) {
            return Err(ReportError::Invalid(format!(
                "chart name `{}` is not a plain file stem",
                c.name
            )));
        }
        if !seen.insert(c.name.as_str()) {
            return Err(ReportError::Invalid(format!(
                "two charts are named `{}`",
                c.name
            )));
        }
    }
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::with_capacity(2 * charts.len());
    for c in charts {
        written.extend(c.save(dir)?);
    }
    Ok(written)
}

/// How an interval's coverage holds across the plotted points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Coverage {
    /// Each interval covers its own point with the stated probability (the usual CI).
    Pointwise,
    /// The band covers all plotted points at once (simultaneous / sup-t band).
    Uniform,
    /// A confidence sequence: valid at every look at once (anytime-valid).
    AnytimeValid,
}

/// The interval a chart draws: its level and coverage. Printed as the chart's subtitle, e.g.
/// "95% pointwise confidence intervals".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Coverage probability in (0, 1), e.g. 0.95.
    pub level: f64,
    /// Pointwise, uniform or anytime-valid.
    pub coverage: Coverage,
}

impl Interval {
    /// Pointwise intervals at `level` (e.g. 0.95).
    pub fn pointwise(level: f64) -> Self {
        Interval {
            level,
            coverage: Coverage::Pointwise,
        }
    }

    /// A uniform (simultaneous) band at `level`.
    pub fn uniform(level: f64) -> Self {
        Interval {
            level,
            coverage: Coverage::Uniform,
        }
    }

    /// An anytime-valid confidence sequence at `level`.
    pub fn anytime_valid(level: f64) -> Self {
        Interval {
            level,
            coverage: Coverage::AnytimeValid,
        }
    }

    /// The interval in words, e.g. "95% pointwise confidence intervals".
    pub fn describe(&self) -> String {
        let pct = common::fmt_sig(self.level * 100.0, 6);
        match self.coverage {
            Coverage::Pointwise => format!("{pct}% pointwise confidence intervals"),
            Coverage::Uniform => format!("{pct}% uniform (simultaneous) confidence band"),
            Coverage::AnytimeValid => {
                format!("{pct}% confidence sequence (anytime-valid)")
            }
        }
    }

    pub(crate) fn check(&self) -> Result<(), ReportError> {
        if self.level > 0.0 && self.level < 1.0 {
            Ok(())
        } else {
            Err(ReportError::Invalid(format!(
                "interval level must lie in (0, 1), got {}",
                self.level
            )))
        }
    }
}

/// The subtitle a chart prints: the caller's text and the interval statement, joined by "; ".
pub(crate) fn subtitle_text(text: &Option<String>, interval: &Option<Interval>) -> Option<String> {
    let parts: Vec<String> = text
        .iter()
        .filter(|t| !t.is_empty())
        .cloned()
        .chain(interval.iter().map(Interval::describe))
        .collect();
    if parts.is_empty() {
        None
    } else {
        Some(parts.join("; "))
    }
}

/// Everything that can go wrong while drawing a plot.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The plot file could not be written (missing directory, permissions, full disk, ...).
    #[error("cannot write plot to {}: {source}", path.display())]
    Io {
        /// The file that could not be written.
        path: PathBuf,
        /// The underlying IO error.
        #[source]
        source: std::io::Error,
    },
    /// The drawing backend or the PNG encoder failed.
    #[error("drawing failed: {0}")]
    Draw(String),
    /// There is nothing to plot; the message says what was empty.
    #[error("nothing to plot: {0}")]
    Empty(String),
    /// A value that must be finite is NaN or infinite.
    #[error("non-finite {what} for `{label}`")]
    NonFinite {
        /// The label of the effect, series, bar or cell at fault.
        label: String,
        /// Which value is not finite, e.g. `"estimate"`, `"ci_low"`, `"y[3]"`.
        what: String,
    },
    /// The input is inconsistent, e.g. series columns of different lengths or a ragged matrix.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// The bundled font could not be registered with the text renderer.
    #[error("the bundled font could not be loaded")]
    Font,
}

/// File format of a plot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    /// Scalable vector graphics (text stays selectable and searchable).
    Svg,
    /// Portable network graphics (an RGB bitmap).
    Png,
}

impl ImageFormat {
    /// The format implied by a file extension (`.svg` or `.png`, any case), if any.
    pub fn from_path(path: impl AsRef<Path>) -> Option<Self> {
        let ext = path.as_ref().extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "svg" => Some(ImageFormat::Svg),
            "png" => Some(ImageFormat::Png),
            _ => None,
        }
    }
}

/// Where and how to write a plot: file path, format and optional size in pixels.
///
/// Without an explicit size each chart picks one that fits its content (forest plots and bar
/// charts grow with the number of rows, heat maps with the number of cells).
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// The file to write. Its directory must exist.
    pub path: PathBuf,
    /// The file format.
    pub format: ImageFormat,
    /// Width and height in pixels; `None` lets the chart choose.
    pub size: Option<(u32, u32)>,
}

impl Output {
    /// Writes `format` to `path`, at the chart's default size.
    pub fn new(path: impl Into<PathBuf>, format: ImageFormat) -> Self {
        Output {
            path: path.into(),
            format,
            size: None,
        }
    }

    /// Writes to `path` in the format given by its extension (`.svg` or `.png`).
    ///
    /// # Errors
    /// [`ReportError::Invalid`] if the extension is neither.
    pub fn from_path(path: impl Into<PathBuf>) -> Result<Self, ReportError> {
        let path = path.into();
        let format = ImageFormat::from_path(&path).ok_or_else(|| {
            ReportError::Invalid(format!(
                "cannot tell the image format of {} (use .svg or .png)",
                path.display()
            ))
        })?;
        Ok(Output::new(path, format))
    }

    /// Sets the size in pixels (builder style). Both sides are raised to at least 100.
    pub fn with_size(mut self, width: u32, height: u32) -> Self {
        self.size = Some((width.max(100), height.max(100)));
        self
    }
}
