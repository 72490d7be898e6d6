//! End-to-end tests: every chart writes a valid SVG with its text and a non-blank PNG, and bad
//! input gives typed errors rather than panics.
//!
//! Set `CAUSALKIT_KEEP_PLOTS=1` to keep the written files (their directory is printed).

use std::fs::File;
use std::path::{Path, PathBuf};

use causalkit_report::{
    bar_chart, forest_plot, heat_map, line_chart, BarChart, Effect, ForestPlot, HeatMap,
    ImageFormat, LineChart, Matrix, Output, ReportError, Series,
};

/// A fresh directory under the system temp dir, removed on drop unless `CAUSALKIT_KEEP_PLOTS`
/// is set.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "causalkit-report-{name}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        if std::env::var_os("CAUSALKIT_KEEP_PLOTS").is_some() {
            eprintln!("plots kept in {}", dir.display());
        }
        TempDir(dir)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("CAUSALKIT_KEEP_PLOTS").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn effect(label: &str, estimate: f64, ci: Option<(f64, f64)>) -> Effect {
    Effect {
        key: Default::default(),
        label: label.into(),
        estimate,
        std_error: ci.map(|(lo, hi)| (hi - lo) / 3.92),
        ci_low: ci.map(|c| c.0),
        ci_high: ci.map(|c| c.1),
        p_value: None,
    }
}

fn sample_effects() -> Vec<Effect> {
    vec![
        effect("conversion", 0.021, Some((0.004, 0.038))),
        effect("revenue per user", -0.012, Some((-0.035, 0.011))),
        effect("sessions", 0.003, None),
        effect("retention d7", 0.015, Some((-0.002, 0.032))),
    ]
}

/// Reads an SVG file, checks it is an SVG document and returns its text.
fn read_svg(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.contains("<svg"),
        "not an SVG: {}",
        &text[..text.len().min(200)]
    );
    assert!(text.trim_end().ends_with("</svg>"), "SVG not closed");
    text
}

/// The contents of all `<text>` elements of an SVG, trimmed and unescaped.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|chunk| {
            let start = chunk.find('>')? + 1;
            let end = chunk.find("</text>")?;
            let raw = chunk[start..end].trim();
            Some(
                raw.replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&quot;", "\"")
                    .replace("&apos;", "'")
                    .replace("&amp;", "&"),
            )
        })
        .collect()
}

/// Asserts that `text` is the content of an SVG `<text>` element.
fn assert_svg_text(svg: &str, text: &str) {
    let texts = svg_texts(svg);
    assert!(
        texts.iter().any(|t| t == text),
        "SVG has no text element `{text}`; texts: {texts:?}"
    );
}

/// A decoded RGB(A) PNG.
struct Png {
    width: usize,
    height: usize,
    channels: usize,
    data: Vec<u8>,
}

impl Png {
    fn read(path: &Path) -> Png {
        let decoder = png::Decoder::new(File::open(path).unwrap());
        let mut reader = decoder.read_info().unwrap();
        let mut data = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut data).unwrap();
        let channels = match info.color_type {
            png::ColorType::Rgb => 3,
            png::ColorType::Rgba => 4,
            other => panic!("unexpected colour type {other:?}"),
        };
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        data.truncate(info.buffer_size());
        Png {
            width: info.width as usize,
            height: info.height as usize,
            channels,
            data,
        }
    }

    fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * self.channels;
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }

    /// Number of dark (text-like) pixels in the rectangle `[x0, x1) × [y0, y1)`, given as
    /// fractions of the image size.
    fn dark_pixels(&self, x0: f64, x1: f64, y0: f64, y1: f64) -> usize {
        let (w, h) = (self.width as f64, self.height as f64);
        let mut n = 0;
        for y in (y0 * h) as usize..(y1 * h) as usize {
            for x in (x0 * w) as usize..(x1 * w) as usize {
                let [r, g, b] = self.pixel(x, y);
                if (r as u32 + g as u32 + b as u32) < 3 * 110 {
                    n += 1;
                }
            }
        }
        n
    }

    /// Checks the image is not one flat colour and that the title band (top 50 pixels) holds
    /// text.
    fn assert_drawn(&self) {
        let first = self.pixel(0, 0);
        let distinct = (0..self.height)
            .flat_map(|y| (0..self.width).map(move |x| (x, y)))
            .any(|(x, y)| self.pixel(x, y) != first);
        assert!(distinct, "PNG is a single colour");
        assert!(
            self.dark_pixels(0.2, 0.8, 0.0, 50.0 / self.height as f64) > 50,
            "title area is blank (text not rendered?)"
        );
    }
}

#[test]
fn forest_plot_svg_has_title_and_labels() {
    let dir = TempDir::new("forest-svg");
    let path = dir.file("forest.svg");
    forest_plot(
        &sample_effects(),
        "Lift by metric",
        "relative lift",
        &path,
        ImageFormat::Svg,
    )
    .unwrap();
    let svg = read_svg(&path);
    assert_svg_text(&svg, "Lift by metric");
    assert_svg_text(&svg, "relative lift");
    for e in sample_effects() {
        assert_svg_text(&svg, &e.label);
    }
}

#[test]
fn forest_plot_png_is_drawn_with_text() {
    let dir = TempDir::new("forest-png");
    let path = dir.file("forest.png");
    forest_plot(
        &sample_effects(),
        "Lift by metric",
        "relative lift",
        &path,
        ImageFormat::Png,
    )
    .unwrap();
    let png = Png::read(&path);
    png.assert_drawn();
    assert_eq!(png.width, 900);
    assert!(
        png.dark_pixels(0.0, 0.15, 0.1, 0.8) > 100,
        "y-axis labels are blank"
    );
}

#[test]
fn forest_plot_builder_handles_event_study_and_custom_reference() {
    let dir = TempDir::new("forest-builder");
    let effects: Vec<Effect> = (-4..=4)
        .filter(|k| *k != -1)
        .map(|k| {
            let b = if k >= 0 {
                0.5 + 0.1 * k as f64
            } else {
                0.05 * k as f64
            };
            effect(&format!("t{k:+}"), b, Some((b - 0.3, b + 0.3)))
        })
        .collect();
    for format in [ImageFormat::Svg, ImageFormat::Png] {
        let ext = if format == ImageFormat::Svg {
            "svg"
        } else {
            "png"
        };
        let out = Output::new(dir.file(&format!("event.{ext}")), format).with_size(700, 500);
        ForestPlot::new("Event study")
            .x_label("coefficient")
            .reference(Some(1.0))
            .save(&effects, &out)
            .unwrap();
    }
    assert_svg_text(&read_svg(&dir.file("event.svg")), "t+3");
    let png = Png::read(&dir.file("event.png"));
    assert_eq!((png.width, png.height), (700, 500));
    png.assert_drawn();

    // No reference line and a single point without a CI.
    ForestPlot::new("One")
        .reference(None)
        .save(
            &[Effect::point("only", 2.0)],
            &Output::new(dir.file("one.svg"), ImageFormat::Svg),
        )
        .unwrap();
}

fn sample_series() -> Vec<Series> {
    let x: Vec<f64> = (0..20).map(f64::from).collect();
    let treated: Vec<f64> = x
        .iter()
        .map(|t| 10.0 + 0.5 * t - if *t >= 12.0 { 3.0 } else { 0.0 })
        .collect();
    let synthetic: Vec<f64> = x.iter().map(|t| 10.2 + 0.5 * t).collect();
    let lower = synthetic.iter().map(|y| y - 1.0).collect();
    let upper = synthetic.iter().map(|y| y + 1.0).collect();
    vec![
        Series::new("treated", x.clone(), treated),
        Series::new("synthetic control", x, synthetic).with_band(lower, upper),
    ]
}

#[test]
fn line_chart_svg_has_title_axes_and_legend() {
    let dir = TempDir::new("line-svg");
    let path = dir.file("paths.svg");
    line_chart(
        &sample_series(),
        "Treated vs synthetic",
        "period",
        "outcome",
        &path,
        ImageFormat::Svg,
    )
    .unwrap();
    let svg = read_svg(&path);
    for text in [
        "Treated vs synthetic",
        "period",
        "outcome",
        "treated",
        "synthetic control",
    ] {
        assert_svg_text(&svg, text);
    }
}

#[test]
fn line_chart_png_is_drawn_with_text() {
    let dir = TempDir::new("line-png");
    let path = dir.file("paths.png");
    LineChart::new("Treated vs synthetic")
        .x_label("period")
        .y_label("outcome")
        .vline(12.0)
        .markers(true)
        .save(&sample_series(), &Output::new(&path, ImageFormat::Png))
        .unwrap();
    let png = Png::read(&path);
    png.assert_drawn();
    assert!(
        png.dark_pixels(0.3, 0.7, 0.9, 1.0) > 30,
        "x-axis label area is blank"
    );
}

#[test]
fn line_chart_highlights_one_series_among_placebos() {
    let dir = TempDir::new("line-placebo");
    let x: Vec<f64> = (1970..2001).map(f64::from).collect();
    let mut series: Vec<Series> = (0..25)
        .map(|k| {
            let y = x
                .iter()
                .map(|t| ((t + k as f64) * 0.7).sin() * (2.0 + k as f64 * 0.2))
                .collect();
            Series::new(format!("state {k}"), x.clone(), y)
        })
        .collect();
    let treated = x
        .iter()
        .map(|t| {
            if *t < 1988.0 {
                0.5 * (t * 0.9).sin()
            } else {
                -(t - 1988.0) * 2.0
            }
        })
        .collect();
    series.push(Series::new("California", x.clone(), treated));
    let chart = LineChart::new("Placebo gaps")
        .x_label("year")
        .y_label("gap")
        .vline(1988.0)
        .hline(0.0)
        .highlight("California")
        .others_label("placebo states");
    for (name, format) in [
        ("gaps.svg", ImageFormat::Svg),
        ("gaps.png", ImageFormat::Png),
    ] {
        chart
            .save(&series, &Output::new(dir.file(name), format))
            .unwrap();
    }
    let svg = read_svg(&dir.file("gaps.svg"));
    assert_svg_text(&svg, "California");
    assert_svg_text(&svg, "placebo states");
    assert!(
        !svg.contains(">state 3</text>"),
        "grey series must not get legend entries"
    );
    Png::read(&dir.file("gaps.png")).assert_drawn();

    let err = LineChart::new("x")
        .highlight("Nowhere")
        .save(&series, &Output::new(dir.file("bad.svg"), ImageFormat::Svg))
        .unwrap_err();
    assert!(matches!(err, ReportError::Invalid(_)), "{err:?}");
}

#[test]
fn cumulative_effect_with_confidence_sequence() {
    let dir = TempDir::new("line-cumulative");
    let x: Vec<f64> = (1..=30).map(f64::from).collect();
    let y: Vec<f64> = x.iter().map(|t| 0.02 + 0.01 / t.sqrt()).collect();
    let lower = x.iter().zip(&y).map(|(t, y)| y - 0.08 / t.sqrt()).collect();
    let upper = x.iter().zip(&y).map(|(t, y)| y + 0.08 / t.sqrt()).collect();
    let s = [Series::new("cumulative lift", x, y).with_band(lower, upper)];
    let path = dir.file("cumulative.png");
    LineChart::new("Cumulative lift")
        .x_label("day")
        .hline(0.0)
        .save(&s, &Output::new(&path, ImageFormat::Png))
        .unwrap();
    Png::read(&path).assert_drawn();
}

fn att_matrix() -> Matrix {
    Matrix::new(
        vec!["2004".into(), "2006".into(), "2007".into()],
        vec![
            "2003".into(),
            "2004".into(),
            "2005".into(),
            "2006".into(),
            "2007".into(),
        ],
        vec![
            vec![
                Some(0.0031),
                Some(-0.0105),
                Some(-0.0704),
                Some(-0.1373),
                Some(-0.1008),
            ],
            vec![
                Some(-0.0075),
                Some(0.0029),
                Some(0.0216),
                Some(-0.0046),
                Some(-0.0412),
            ],
            vec![
                Some(0.0305),
                Some(-0.0027),
                Some(-0.0123),
                None,
                Some(-0.0261),
            ],
        ],
    )
}

#[test]
fn heat_map_svg_has_labels_and_values() {
    let dir = TempDir::new("heat-svg");
    let path = dir.file("att.svg");
    HeatMap::new("ATT(g,t)")
        .x_label("period t")
        .y_label("cohort g")
        .save(&att_matrix(), &Output::new(&path, ImageFormat::Svg))
        .unwrap();
    let svg = read_svg(&path);
    for text in [
        "ATT(g,t)", "period t", "cohort g", "2004", "2006", "2003", "-0.137", "0.0305", "-0.0123",
    ] {
        assert_svg_text(&svg, text);
    }
}

#[test]
fn heat_map_png_is_drawn_with_text() {
    let dir = TempDir::new("heat-png");
    let path = dir.file("att.png");
    heat_map(&att_matrix(), "ATT(g,t)", &path, ImageFormat::Png).unwrap();
    let png = Png::read(&path);
    png.assert_drawn();
    assert!(
        png.dark_pixels(0.0, 0.12, 0.15, 0.8) > 50,
        "row labels are blank"
    );
    // Diverging scale: the strongest negative cell is blue, a positive one reddish.
    let has_blue = (0..png.height).any(|y| {
        (0..png.width).any(|x| {
            let [r, _, b] = png.pixel(x, y);
            b > 150 && r < 80
        })
    });
    assert!(has_blue, "no blue cell for negative values");
}

#[test]
fn heat_map_with_many_long_column_labels() {
    let dir = TempDir::new("heat-long");
    let cols: Vec<String> = (0..14).map(|k| format!("period {}", 2000 + k)).collect();
    let rows: Vec<String> = (0..6).map(|k| format!("cohort {}", 2002 + 2 * k)).collect();
    let values = (0..6)
        .map(|r| {
            (0..14)
                .map(|c| ((r * 14 + c) as f64 * 0.37).sin() * 12.5)
                .collect()
        })
        .collect();
    let m = Matrix::from_values(rows, cols, values);
    let path = dir.file("long.png");
    HeatMap::new("Wide table")
        .digits(2)
        .save(&m, &Output::new(&path, ImageFormat::Png))
        .unwrap();
    Png::read(&path).assert_drawn();
    // Too narrow for horizontal column labels: they turn vertical.
    let small = dir.file("long-small.png");
    HeatMap::new("Wide table, small image")
        .x_label("period")
        .y_label("cohort")
        .save(
            &m,
            &Output::new(&small, ImageFormat::Png).with_size(760, 520),
        )
        .unwrap();
    Png::read(&small).assert_drawn();
    let svg_path = dir.file("long.svg");
    HeatMap::new("Wide table")
        .save(&m, &Output::new(&svg_path, ImageFormat::Svg))
        .unwrap();
    assert_svg_text(&read_svg(&svg_path), "period 2013");
}

fn rmspe() -> Vec<(&'static str, f64)> {
    vec![
        ("Georgia", 6.1),
        ("California", 13.2),
        ("Indiana", 4.0),
        ("Virginia", 2.2),
        ("New Hampshire", 3.7),
    ]
}

#[test]
fn bar_chart_svg_has_labels_and_values() {
    let dir = TempDir::new("bar-svg");
    let path = dir.file("rmspe.svg");
    BarChart::new("Post/pre RMSPE ratio")
        .x_label("ratio")
        .highlight("California")
        .sort_descending(true)
        .save(&rmspe(), &Output::new(&path, ImageFormat::Svg))
        .unwrap();
    BarChart::new("Post/pre RMSPE ratio")
        .x_label("ratio")
        .highlight("California")
        .sort_descending(true)
        .save(
            &rmspe(),
            &Output::new(dir.file("rmspe-sorted.png"), ImageFormat::Png),
        )
        .unwrap();
    Png::read(&dir.file("rmspe-sorted.png")).assert_drawn();
    let svg = read_svg(&path);
    for text in [
        "Post/pre RMSPE ratio",
        "ratio",
        "California",
        "New Hampshire",
        "13.2",
        "2.2",
    ] {
        assert_svg_text(&svg, text);
    }
    // Sorted: California (largest) is the first bar, i.e. at the top.
    let texts = svg_texts(&svg);
    let at = |label: &str| texts.iter().position(|t| t == label).unwrap();
    assert!(
        at("13.2") < at("2.2"),
        "bars are drawn top to bottom, largest first"
    );
}

#[test]
fn bar_chart_png_is_drawn_with_text() {
    let dir = TempDir::new("bar-png");
    let path = dir.file("rmspe.png");
    bar_chart(
        &rmspe(),
        "Post/pre RMSPE ratio",
        "ratio",
        &path,
        ImageFormat::Png,
    )
    .unwrap();
    let png = Png::read(&path);
    png.assert_drawn();
    assert!(
        png.dark_pixels(0.0, 0.15, 0.1, 0.85) > 100,
        "bar labels are blank"
    );

    // Negative values and owned labels work too.
    let mixed = vec![("up".to_string(), 2.5), ("down".to_string(), -1.25)];
    bar_chart(&mixed, "Mixed", "", dir.file("mixed.svg"), ImageFormat::Svg).unwrap();
    bar_chart(&mixed, "Mixed", "", dir.file("mixed.png"), ImageFormat::Png).unwrap();
    Png::read(&dir.file("mixed.png")).assert_drawn();
    assert_svg_text(&read_svg(&dir.file("mixed.svg")), "-1.25");
}

#[test]
fn empty_inputs_are_errors() {
    let dir = TempDir::new("empty");
    let svg = |name: &str| Output::new(dir.file(name), ImageFormat::Svg);
    let e = forest_plot(&[], "t", "x", dir.file("a.svg"), ImageFormat::Svg).unwrap_err();
    assert!(matches!(e, ReportError::Empty(_)), "{e:?}");
    let e = LineChart::new("t").save(&[], &svg("b.svg")).unwrap_err();
    assert!(matches!(e, ReportError::Empty(_)), "{e:?}");
    let e = LineChart::new("t")
        .save(&[Series::new("s", vec![], vec![])], &svg("c.svg"))
        .unwrap_err();
    assert!(matches!(e, ReportError::Empty(_)), "{e:?}");
    let e = HeatMap::new("t")
        .save(&Matrix::default(), &svg("d.svg"))
        .unwrap_err();
    assert!(matches!(e, ReportError::Empty(_)), "{e:?}");
    let e = BarChart::new("t")
        .save::<&str>(&[], &svg("e.svg"))
        .unwrap_err();
    assert!(matches!(e, ReportError::Empty(_)), "{e:?}");
    assert!(!dir.file("a.svg").exists(), "no file is written on error");
}

#[test]
fn non_finite_values_name_the_label() {
    let dir = TempDir::new("nan");
    let svg = |name: &str| Output::new(dir.file(name), ImageFormat::Svg);

    let mut effects = sample_effects();
    effects.push(effect("broken metric", f64::NAN, None));
    let e = forest_plot(&effects, "t", "x", dir.file("a.svg"), ImageFormat::Svg).unwrap_err();
    match &e {
        ReportError::NonFinite { label, what } => {
            assert_eq!(label, "broken metric");
            assert_eq!(what, "estimate");
        }
        other => panic!("expected NonFinite, got {other:?}"),
    }
    assert!(e.to_string().contains("broken metric"), "{e}");

    let effects = [effect("wide", 1.0, Some((f64::NEG_INFINITY, 2.0)))];
    let e = ForestPlot::new("t")
        .save(&effects, &svg("b.svg"))
        .unwrap_err();
    assert!(
        matches!(&e, ReportError::NonFinite { label, what } if label == "wide" && what == "ci_low"),
        "{e:?}"
    );

    let s = [Series::new("path", vec![0.0, 1.0], vec![1.0, f64::NAN])];
    let e = LineChart::new("t").save(&s, &svg("c.svg")).unwrap_err();
    assert!(
        matches!(&e, ReportError::NonFinite { label, what } if label == "path" && what == "y[1]"),
        "{e:?}"
    );

    let mut m = att_matrix();
    m.cells[1][2] = Some(f64::INFINITY);
    let e = HeatMap::new("t").save(&m, &svg("d.svg")).unwrap_err();
    assert!(e.to_string().contains("2006, 2005"), "{e}");

    let e = bar_chart(
        &[("ok", 1.0), ("bad bar", f64::NAN)],
        "t",
        "",
        dir.file("e.svg"),
        ImageFormat::Svg,
    )
    .unwrap_err();
    assert!(
        matches!(&e, ReportError::NonFinite { label, .. } if label == "bad bar"),
        "{e:?}"
    );
}

#[test]
fn inconsistent_shapes_are_invalid() {
    let dir = TempDir::new("invalid");
    let svg = Output::new(dir.file("x.svg"), ImageFormat::Svg);
    let s = [Series::new("short", vec![0.0, 1.0, 2.0], vec![1.0, 2.0])];
    assert!(matches!(
        LineChart::new("t").save(&s, &svg),
        Err(ReportError::Invalid(_))
    ));
    let mut one_edge = Series::new("band", vec![0.0, 1.0], vec![1.0, 2.0]);
    one_edge.lower = Some(vec![0.0, 1.0]);
    assert!(matches!(
        LineChart::new("t").save(&[one_edge], &svg),
        Err(ReportError::Invalid(_))
    ));
    let mut m = att_matrix();
    m.cells[0].pop();
    assert!(matches!(
        HeatMap::new("t").save(&m, &svg),
        Err(ReportError::Invalid(_))
    ));
    assert!(matches!(
        BarChart::new("t").highlight("nope").save(&rmspe(), &svg),
        Err(ReportError::Invalid(_))
    ));
}

#[test]
fn missing_directory_is_an_io_error() {
    let dir = TempDir::new("missing");
    for format in [ImageFormat::Svg, ImageFormat::Png] {
        let path = dir.file("no/such/dir/plot.out");
        let e = forest_plot(&sample_effects(), "t", "x", &path, format).unwrap_err();
        match &e {
            ReportError::Io { path: p, source } => {
                assert_eq!(p, &path);
                assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
            }
            other => panic!("expected Io, got {other:?}"),
        }
        assert!(e.to_string().contains("plot.out"), "{e}");
    }
    let out = Output::new(dir.file("nowhere/x.png"), ImageFormat::Png);
    assert!(matches!(
        BarChart::new("t").save(&rmspe(), &out),
        Err(ReportError::Io { .. })
    ));
    assert!(matches!(
        heat_map(
            &att_matrix(),
            "t",
            dir.file("nowhere/h.svg"),
            ImageFormat::Svg
        ),
        Err(ReportError::Io { .. })
    ));
    assert!(matches!(
        line_chart(
            &sample_series(),
            "t",
            "",
            "",
            dir.file("nowhere/l.png"),
            ImageFormat::Png
        ),
        Err(ReportError::Io { .. })
    ));
}

#[test]
fn tiny_and_degenerate_sizes_do_not_panic() {
    let dir = TempDir::new("tiny");
    for (w, h) in [(100, 100), (120, 2000), (2000, 100)] {
        for format in [ImageFormat::Svg, ImageFormat::Png] {
            let out = |name: &str| Output::new(dir.file(name), format).with_size(w, h);
            let _ = ForestPlot::new("Tiny")
                .x_label("x")
                .save(&sample_effects(), &out("f"));
            let _ = LineChart::new("Tiny")
                .x_label("x")
                .y_label("y")
                .save(&sample_series(), &out("l"));
            let _ = HeatMap::new("Tiny")
                .x_label("x")
                .y_label("y")
                .save(&att_matrix(), &out("h"));
            let _ = BarChart::new("Tiny").x_label("x").save(&rmspe(), &out("b"));
        }
    }
    let zero = Output {
        size: Some((0, 0)),
        ..Output::new(dir.file("zero.png"), ImageFormat::Png)
    };
    let e = BarChart::new("t").save(&rmspe(), &zero).unwrap_err();
    assert!(matches!(e, ReportError::Invalid(_)), "{e:?}");
}

#[test]
fn output_format_from_extension() {
    assert_eq!(
        Output::from_path("a/b.SVG").unwrap().format,
        ImageFormat::Svg
    );
    assert_eq!(
        Output::from_path("plot.png").unwrap().format,
        ImageFormat::Png
    );
    assert!(matches!(
        Output::from_path("plot.pdf"),
        Err(ReportError::Invalid(_))
    ));
    assert_eq!(ImageFormat::from_path("noext"), None);
}
