//! Plots for causalkit results, written as SVG or PNG.
//!
//! Four chart types cover the usual causal-inference figures:
//!
//! | chart | use it for |
//! |---|---|
//! | [`forest_plot`] / [`ForestPlot`] | lifts per metric or segment, event-study coefficients, any list of [`Effect`]s |
//! | [`line_chart`] / [`LineChart`] | event-study paths, cumulative effects with a confidence band, treated vs synthetic control, placebo gaps |
//! | [`heat_map`] / [`HeatMap`] | ATT(g,t) tables and other labelled matrices, on a diverging scale centred on 0 |
//! | [`bar_chart`] / [`BarChart`] | labelled values such as RMSPE-ratio rankings, with one bar highlighted |
//!
//! Each free function draws with default settings; the builder of the same name gives full
//! control and is finished with `save(data, &Output)`. Every drawing function writes one file and
//! returns `Result<(), ReportError>`; nothing panics on bad input.
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

#![warn(missing_docs)]

mod bar;
mod bitmap;
mod common;
mod forest;
mod heat;
mod line;

use std::path::{Path, PathBuf};

pub use bar::{bar_chart, BarChart};
pub use causalkit_stats::Effect;
pub use forest::{forest_plot, ForestPlot};
pub use heat::{heat_map, HeatMap, Matrix};
pub use line::{line_chart, LineChart, Series};

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
