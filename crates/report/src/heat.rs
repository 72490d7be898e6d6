//! Heat maps of labelled matrices on a diverging colour scale centred on 0.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::common::{
    category_axis, draw_err, emit, finite, fit_text, fmt_sig, fmt_tick, font, header,
    max_text_width, row_at, row_axis, row_y, Emitted, Figure, Target, DESC_SIZE, INK, TICK_SIZE,
    TITLE_SIZE,
};
use crate::{subtitle_text, Chart, ImageFormat, Interval, Output, ReportError};

/// A matrix with row and column labels; `cells[r][c]` is the value in row `r`, column `c`, and
/// `None` marks a cell without a value (drawn light grey, e.g. an ATT(g,t) that is not
/// identified).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Matrix {
    /// One label per row, top to bottom (e.g. cohorts `g`).
    pub row_labels: Vec<String>,
    /// One label per column, left to right (e.g. periods `t`).
    pub col_labels: Vec<String>,
    /// Row-major values: `row_labels.len()` rows of `col_labels.len()` cells each.
    pub cells: Vec<Vec<Option<f64>>>,
}

impl Matrix {
    /// A matrix from labels and possibly missing cells.
    pub fn new(
        row_labels: Vec<String>,
        col_labels: Vec<String>,
        cells: Vec<Vec<Option<f64>>>,
    ) -> Self {
        Matrix {
            row_labels,
            col_labels,
            cells,
        }
    }

    /// A matrix from labels and a complete table of values.
    pub fn from_values(
        row_labels: Vec<String>,
        col_labels: Vec<String>,
        values: Vec<Vec<f64>>,
    ) -> Self {
        let cells = values
            .into_iter()
            .map(|row| row.into_iter().map(Some).collect())
            .collect();
        Matrix::new(row_labels, col_labels, cells)
    }
}

/// Draws `matrix` as a heat map with default settings and writes it to `path`.
///
/// Shorthand for `HeatMap::new(title).save(matrix, &Output::new(path, format))`; see
/// [`HeatMap`] for the drawing rules and errors.
pub fn heat_map(
    matrix: &Matrix,
    title: &str,
    path: impl AsRef<Path>,
    format: ImageFormat,
) -> Result<(), ReportError> {
    HeatMap::new(title).save(matrix, &Output::new(path.as_ref(), format))
}

/// A heat map: one coloured cell per matrix entry, with the value printed in it.
///
/// Colours follow a diverging blue–white–red scale centred on 0 (blue negative, red positive),
/// symmetric up to the largest absolute value unless [`HeatMap::limit`] fixes it; a colour bar
/// on the right shows the scale. Row labels go on the left, column labels below (turned
/// vertical when they do not fit the cell width). Values are printed with
/// [`HeatMap::digits`] significant digits, in white on dark cells; text is left out only
/// when cells are too small to hold it. Made for ATT(g,t) tables.
///
/// ```no_run
/// # use causalkit_report::{HeatMap, Matrix, ImageFormat, Output};
/// let att = Matrix::new(
///     vec!["2004".into(), "2006".into()],
///     vec!["2004".into(), "2005".into(), "2006".into()],
///     vec![vec![Some(-0.01), Some(-0.04), Some(-0.03)], vec![None, None, Some(-0.05)]],
/// );
/// HeatMap::new("ATT(g,t)")
///     .x_label("period t")
///     .y_label("cohort g")
///     .save(&att, &Output::new("att_gt.png", ImageFormat::Png))?;
/// # Ok::<(), causalkit_report::ReportError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct HeatMap {
    title: String,
    subtitle: Option<String>,
    interval: Option<Interval>,
    x_label: String,
    y_label: String,
    digits: usize,
    limit: Option<f64>,
}

impl HeatMap {
    /// A heat map with the given title, no axis labels, 3 significant digits and an automatic
    /// colour limit.
    pub fn new(title: impl Into<String>) -> Self {
        HeatMap {
            title: title.into(),
            subtitle: None,
            interval: None,
            x_label: String::new(),
            y_label: String::new(),
            digits: 3,
            limit: None,
        }
    }

    /// Sets the label under the column labels (e.g. `"period t"`).
    pub fn x_label(mut self, label: impl Into<String>) -> Self {
        self.x_label = label.into();
        self
    }

    /// Sets the label beside the row labels (e.g. `"cohort g"`).
    pub fn y_label(mut self, label: impl Into<String>) -> Self {
        self.y_label = label.into();
        self
    }

    /// Significant digits of the printed cell values (at least 1). Default 3.
    pub fn digits(mut self, digits: usize) -> Self {
        self.digits = digits.max(1);
        self
    }

    /// Fixes the colour scale to `-limit..=limit` (values beyond it get the end colours), e.g.
    /// to compare several heat maps. Default: the largest absolute cell value.
    pub fn limit(mut self, limit: f64) -> Self {
        self.limit = Some(limit);
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
    pub fn chart(&self, name: impl Into<String>, matrix: &Matrix) -> Result<Chart, ReportError> {
        self.emit_to(
            matrix,
            Target::Memory {
                name: name.into(),
                size: None,
            },
        )?
        .into_chart()
    }

    /// Draws `matrix` and writes the heat map to `out`.
    ///
    /// # Errors
    /// [`ReportError::Empty`] if the matrix has no rows or no columns;
    /// [`ReportError::Invalid`] if the number of rows or of cells in a row does not match the
    /// labels, or the limit is not a positive finite number; [`ReportError::NonFinite`] naming
    /// `"row, column"` if a cell is NaN or infinite; [`ReportError::Io`] if the file cannot be
    /// written.
    pub fn save(&self, matrix: &Matrix, out: &Output) -> Result<(), ReportError> {
        self.emit_to(matrix, Target::File(out)).map(|_| ())
    }

    fn emit_to(&self, matrix: &Matrix, target: Target<'_>) -> Result<Emitted, ReportError> {
        if let Some(i) = &self.interval {
            i.check()?;
        }
        let (nr, nc) = (matrix.row_labels.len(), matrix.col_labels.len());
        if nr == 0 || nc == 0 {
            return Err(ReportError::Empty(
                "the matrix has no rows or no columns".into(),
            ));
        }
        if matrix.cells.len() != nr {
            return Err(ReportError::Invalid(format!(
                "{} rows of cells for {nr} row labels",
                matrix.cells.len()
            )));
        }
        for (r, row) in matrix.cells.iter().enumerate() {
            if row.len() != nc {
                return Err(ReportError::Invalid(format!(
                    "row `{}` has {} cells for {nc} column labels",
                    matrix.row_labels[r],
                    row.len()
                )));
            }
            for (c, v) in row.iter().enumerate() {
                if let Some(v) = v {
                    let label = format!("{}, {}", matrix.row_labels[r], matrix.col_labels[c]);
                    finite(*v, &label, "cell value")?;
                }
            }
        }
        let limit = match self.limit {
            Some(l) if l.is_finite() && l > 0.0 => l,
            Some(_) => {
                return Err(ReportError::Invalid(
                    "the colour limit must be a positive finite number".into(),
                ))
            }
            None => {
                let m = matrix
                    .cells
                    .iter()
                    .flatten()
                    .flatten()
                    .fold(0.0f64, |m, v| m.max(v.abs()));
                if m > 0.0 {
                    m
                } else {
                    1.0
                }
            }
        };
        let texts = matrix
            .cells
            .iter()
            .map(|row| {
                row.iter()
                    .map(|v| v.map(|v| fmt_sig(v, self.digits)))
                    .collect()
            })
            .collect();
        emit(
            &HeatFigure {
                map: self,
                matrix,
                limit,
                texts,
            },
            target,
        )
    }
}

/// Blue (-1) – near white (0) – red (+1), the ColorBrewer RdBu scheme.
fn diverging(t: f64) -> RGBColor {
    const STOPS: [(f64, (f64, f64, f64)); 5] = [
        (-1.0, (33.0, 102.0, 172.0)),
        (-0.5, (103.0, 169.0, 207.0)),
        (0.0, (247.0, 247.0, 247.0)),
        (0.5, (239.0, 138.0, 98.0)),
        (1.0, (178.0, 24.0, 43.0)),
    ];
    let t = t.clamp(-1.0, 1.0);
    let k = STOPS
        .windows(2)
        .position(|w| t <= w[1].0)
        .unwrap_or(STOPS.len() - 2);
    let ((t0, a), (t1, b)) = (STOPS[k], STOPS[k + 1]);
    let u = (t - t0) / (t1 - t0);
    let lerp = |p: f64, q: f64| (p + (q - p) * u).round() as u8;
    RGBColor(lerp(a.0, b.0), lerp(a.1, b.1), lerp(a.2, b.2))
}

const MISSING: RGBColor = RGBColor(232, 232, 232);
/// Gap between the cells and the colour bar, bar width, and gap before the bar's labels.
const BAR_GAP: i32 = 24;
const BAR_WIDTH: i32 = 18;
const BAR_LABEL_GAP: i32 = 8;

/// Round tick values in `-limit..=limit`, symmetric around (and including) 0.
fn bar_ticks(limit: f64) -> Vec<f64> {
    let raw = limit / 3.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = mag
        * match raw / mag {
            r if r <= 1.0 => 1.0,
            r if r <= 2.0 => 2.0,
            r if r <= 2.5 => 2.5,
            r if r <= 5.0 => 5.0,
            _ => 10.0,
        };
    let k = (limit * (1.0 + 1e-9) / step).floor() as i64;
    (-k..=k).rev().map(|i| i as f64 * step).collect()
}

struct HeatFigure<'a> {
    map: &'a HeatMap,
    matrix: &'a Matrix,
    limit: f64,
    texts: Vec<Vec<Option<String>>>,
}

impl HeatFigure<'_> {
    /// Colour-bar ticks with their labels, and the width the colour bar needs on the right.
    fn color_bar(&self) -> (Vec<(f64, String)>, u32) {
        let ticks: Vec<(f64, String)> = bar_ticks(self.limit)
            .into_iter()
            .map(|t| (t, fmt_tick(t, 2.0 * self.limit)))
            .collect();
        let label_w = max_text_width(ticks.iter().map(|t| t.1.as_str()), TICK_SIZE);
        let area = (BAR_GAP + BAR_WIDTH + 4 + BAR_LABEL_GAP) as u32 + label_w + 10;
        (ticks, area)
    }

    fn row_label_width(&self) -> u32 {
        max_text_width(self.matrix.row_labels.iter().map(String::as_str), TICK_SIZE)
    }

    fn value_width(&self) -> u32 {
        max_text_width(
            self.texts.iter().flatten().flatten().map(String::as_str),
            TICK_SIZE,
        )
    }
}

impl Figure for HeatFigure<'_> {
    fn default_size(&self) -> (u32, u32) {
        let (nr, nc) = (
            self.matrix.row_labels.len() as u32,
            self.matrix.col_labels.len() as u32,
        );
        let col_w = max_text_width(self.matrix.col_labels.iter().map(String::as_str), TICK_SIZE);
        let cell_w = (self.value_width() + 18).max(col_w + 10).clamp(56, 140);
        let y_area =
            self.row_label_width().min(300) + if self.map.y_label.is_empty() { 20 } else { 48 };
        let w = y_area + nc * cell_w + 40 + self.color_bar().1;
        let h = 60 + nr * 42 + 80;
        (w.clamp(480, 5000), h.clamp(300, 5000))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError> {
        let (nr, nc) = (self.matrix.row_labels.len(), self.matrix.col_labels.len());
        let (width, _) = root.dim_in_pixel();
        let (ticks, bar_area) = self.color_bar();
        let area = root
            .margin(8, 8, 8, 8)
            .titled(&self.map.title, font(TITLE_SIZE))
            .map_err(draw_err)?;
        let area = match subtitle_text(&self.map.subtitle, &self.map.interval) {
            Some(sub) => {
                let (area, _) = header(&area, "", Some(&sub))?;
                area
            }
            None => area,
        };

        let row_labels: Vec<String> = self
            .matrix
            .row_labels
            .iter()
            .map(|l| fit_text(l, width / 3, TICK_SIZE))
            .collect();
        let y_area = max_text_width(row_labels.iter().map(String::as_str), TICK_SIZE)
            + if self.map.y_label.is_empty() { 16 } else { 46 };

        // Column labels turn vertical when the widest does not fit a cell.
        let plot_w = width.saturating_sub(y_area + 30 + bar_area).max(10);
        let cell_w = plot_w / nc as u32;
        let col_w = max_text_width(self.matrix.col_labels.iter().map(String::as_str), TICK_SIZE);
        let vertical = col_w + 8 > cell_w;
        let col_labels: Vec<String> = self
            .matrix
            .col_labels
            .iter()
            .map(|l| {
                if vertical {
                    fit_text(l, 160, TICK_SIZE)
                } else {
                    l.clone()
                }
            })
            .collect();
        let tick_area = if vertical {
            max_text_width(col_labels.iter().map(String::as_str), TICK_SIZE) + 14
        } else {
            28
        };
        let x_area = tick_area + if self.map.x_label.is_empty() { 6 } else { 30 };

        let col_axis = category_axis(nc);
        let mut chart = ChartBuilder::on(&area)
            .margin(6)
            .margin_right(bar_area)
            .x_label_area_size(x_area)
            .y_label_area_size(y_area)
            .build_cartesian_2d(col_axis, row_axis(nr))
            .map_err(draw_err)?;

        let x_fmt = |v: &f64| {
            let c = v.round();
            if !vertical && c >= 0.0 && (c as usize) < nc {
                col_labels[c as usize].clone()
            } else {
                String::new()
            }
        };
        let y_fmt = |v: &f64| {
            row_at(*v, nr)
                .map(|r| row_labels[r].clone())
                .unwrap_or_default()
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .disable_y_mesh()
            .axis_style(TRANSPARENT)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .label_style(font(TICK_SIZE))
            .x_desc(self.map.x_label.as_str())
            .y_desc(self.map.y_label.as_str())
            .axis_desc_style(font(DESC_SIZE))
            .draw()
            .map_err(draw_err)?;

        // Cells, with a white grid between them.
        let (px, py) = chart.plotting_area().get_pixel_range();
        let cell_px_w = (px.end - px.start) as f64 / nc as f64;
        let cell_px_h = (py.end - py.start) as f64 / nr as f64;
        let widest = self.value_width().max(1) as f64;
        let text_size = (TICK_SIZE * ((cell_px_w - 6.0) / widest).min(1.0))
            .min(cell_px_h * 0.45)
            .min(TICK_SIZE);
        for (r, row) in self.matrix.cells.iter().enumerate() {
            let y = row_y(r, nr);
            for (c, v) in row.iter().enumerate() {
                let x = c as f64;
                let fill = v.map_or(MISSING, |v| diverging(v / self.limit));
                let corners = [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)];
                chart
                    .draw_series([
                        Rectangle::new(corners, fill.filled()),
                        Rectangle::new(corners, WHITE.stroke_width(2)),
                    ])
                    .map_err(draw_err)?;
                if let (Some(v), Some(text)) = (v, &self.texts[r][c]) {
                    if text_size >= 7.0 {
                        let ink = if (v / self.limit).abs() > 0.55 {
                            WHITE
                        } else {
                            INK
                        };
                        let style = TextStyle::from(font(text_size))
                            .color(&ink)
                            .pos(Pos::new(HPos::Center, VPos::Center));
                        chart
                            .draw_series(std::iter::once(Text::new(text.clone(), (x, y), style)))
                            .map_err(draw_err)?;
                    }
                }
            }
        }

        // Area pixel coordinates from here on.
        let (ax, ay) = area.get_pixel_range();

        // Vertical column labels, read bottom to top and ending just below the cells (plotters
        // overrides the anchor of rotated mesh labels, so they are drawn here).
        if vertical {
            let style = TextStyle::from(font(TICK_SIZE).transform(FontTransform::Rotate270))
                .pos(Pos::new(HPos::Right, VPos::Center));
            for (c, label) in col_labels.iter().enumerate() {
                let x = px.start - ax.start + ((c as f64 + 0.5) * cell_px_w).round() as i32;
                let y = py.end - ay.start + 7;
                area.draw(&Text::new(label.clone(), (x, y), style.clone()))
                    .map_err(draw_err)?;
            }
        }

        // Colour bar to the right of the cells.
        let bar_x = px.end - ax.start + BAR_GAP;
        let (top, bottom) = (py.start - ay.start, py.end - ay.start);
        let steps = 120;
        let h = (bottom - top).max(1) as f64;
        for k in 0..steps {
            let y_a = top + (h * k as f64 / steps as f64).round() as i32;
            let y_b = top + (h * (k + 1) as f64 / steps as f64).round() as i32;
            let t = 1.0 - 2.0 * (k as f64 + 0.5) / steps as f64;
            area.draw(&Rectangle::new(
                [(bar_x, y_a), (bar_x + BAR_WIDTH, y_b)],
                diverging(t).filled(),
            ))
            .map_err(draw_err)?;
        }
        area.draw(&Rectangle::new(
            [(bar_x, top), (bar_x + BAR_WIDTH, bottom)],
            INK.mix(0.5).stroke_width(1),
        ))
        .map_err(draw_err)?;
        let label_style = TextStyle::from(font(TICK_SIZE)).pos(Pos::new(HPos::Left, VPos::Center));
        for (t, text) in ticks {
            let y = top + (h * (1.0 - t / self.limit) / 2.0).round() as i32;
            let x = bar_x + BAR_WIDTH;
            area.draw(&PathElement::new(
                vec![(x, y), (x + 4, y)],
                INK.stroke_width(1),
            ))
            .map_err(draw_err)?;
            area.draw(&Text::new(
                text,
                (x + 4 + BAR_LABEL_GAP, y),
                label_style.clone(),
            ))
            .map_err(draw_err)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{bar_ticks, diverging};
    use plotters::style::RGBColor;

    #[test]
    fn scale_is_centred_on_zero() {
        assert_eq!(diverging(0.0), RGBColor(247, 247, 247));
        assert_eq!(diverging(-1.0), RGBColor(33, 102, 172));
        assert_eq!(diverging(1.0), RGBColor(178, 24, 43));
        assert_eq!(diverging(5.0), diverging(1.0));
        let (neg, pos) = (diverging(-0.3), diverging(0.3));
        assert!(
            neg.2 > neg.0 && pos.0 > pos.2,
            "negative is blue, positive is red"
        );
    }

    #[test]
    fn colour_bar_ticks_are_round_and_symmetric() {
        let t = bar_ticks(0.1373);
        assert_eq!(t.len(), 5);
        assert!((t[0] - 0.1).abs() < 1e-12 && (t[4] + 0.1).abs() < 1e-12 && t[2] == 0.0);
        assert_eq!(bar_ticks(12.47), vec![10.0, 5.0, 0.0, -5.0, -10.0]);
        assert_eq!(bar_ticks(1.0), vec![1.0, 0.5, 0.0, -0.5, -1.0]);
    }
}
