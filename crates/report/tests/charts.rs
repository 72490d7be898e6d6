//! In-memory rendering ([`Chart`], `save_all`), interval statements in subtitles, forest plots
//! with one panel per metric, and explicit legends for lines and bands.

use std::path::PathBuf;

use causalkit_report::{
    save_all, BarChart, Chart, Effect, ForestPlot, HeatMap, ImageFormat, Interval, LineChart,
    Matrix, Output, PanelBy, ReportError, Series,
};
use causalkit_stats::{EffectKey, EffectKind};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        TempDir(std::env::temp_dir().join(format!(
            "causalkit-charts-{name}-{}-{nanos}",
            std::process::id()
        )))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The contents of all `<text>` elements of an SVG, trimmed and unescaped.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|chunk| {
            let start = chunk.find('>')? + 1;
            let end = chunk.find("</text>")?;
            Some(
                chunk[start..end]
                    .trim()
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&quot;", "\"")
                    .replace("&apos;", "'")
                    .replace("&amp;", "&"),
            )
        })
        .collect()
}

fn count_text(svg: &str, text: &str) -> usize {
    svg_texts(svg).iter().filter(|t| *t == text).count()
}

fn is_png(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a])
}

fn metric_effect(metric: &str, label: &str, est: f64, lo: f64, hi: f64) -> Effect {
    Effect {
        label: label.into(),
        estimate: est,
        std_error: Some((hi - lo) / 3.92),
        ci_low: Some(lo),
        ci_high: Some(hi),
        p_value: None,
        key: EffectKey::kind(EffectKind::Absolute).metric(metric),
    }
}

fn effects() -> Vec<Effect> {
    vec![
        metric_effect("aht_seconds", "aht: treatment", -28.3, -33.4, -23.2),
        metric_effect("fcr", "fcr: treatment", 0.04, 0.027, 0.053),
        metric_effect("aht_seconds", "aht: treatment B", -12.0, -18.0, -6.0),
    ]
}

#[test]
fn chart_renders_in_memory_and_matches_the_written_file() {
    let plot = ForestPlot::new("Lifts").x_label("lift");
    let chart = plot.chart("lifts", &effects()).unwrap();
    assert_eq!(chart.name, "lifts");
    assert!(chart.svg.starts_with("<svg") && chart.svg.trim_end().ends_with("</svg>"));
    assert_eq!(count_text(&chart.svg, "Lifts"), 1);
    assert!(is_png(&chart.png));
    // The in-memory SVG is byte for byte what `save` writes.
    let dir = TempDir::new("same");
    std::fs::create_dir_all(&dir.0).unwrap();
    let path = dir.0.join("lifts.svg");
    plot.save(&effects(), &Output::new(&path, ImageFormat::Svg))
        .unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), chart.svg);
}

#[test]
fn save_all_writes_svg_and_png_per_chart_and_creates_the_directory() {
    let dir = TempDir::new("save-all");
    let target = dir.0.join("nested").join("plots");
    let charts = vec![
        ForestPlot::new("a").chart("forest", &effects()).unwrap(),
        BarChart::new("b")
            .chart("bars", &[("x", 1.0), ("y", 2.0)])
            .unwrap(),
    ];
    let written = save_all(&target, &charts).unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["forest.svg", "forest.png", "bars.svg", "bars.png"]);
    for (p, c) in written.chunks(2).zip(&charts) {
        assert_eq!(std::fs::read_to_string(&p[0]).unwrap(), c.svg);
        assert_eq!(std::fs::read(&p[1]).unwrap(), c.png);
    }
    // Duplicate or path-like names are refused before anything is written.
    let dup = vec![charts[0].clone(), charts[0].clone()];
    assert!(matches!(
        save_all(dir.0.join("dup"), &dup),
        Err(ReportError::Invalid(_))
    ));
    assert!(!dir.0.join("dup").exists());
    let bad = vec![Chart {
        name: "../escape".into(),
        ..charts[1].clone()
    }];
    assert!(matches!(
        save_all(&target, &bad),
        Err(ReportError::Invalid(_))
    ));
}

#[test]
fn save_all_reports_an_unwritable_directory_as_io() {
    let dir = TempDir::new("io");
    std::fs::create_dir_all(&dir.0).unwrap();
    let file = dir.0.join("a-file");
    std::fs::write(&file, "x").unwrap();
    let charts = vec![BarChart::new("b").chart("bars", &[("x", 1.0)]).unwrap()];
    let err = save_all(file.join("sub"), &charts).unwrap_err();
    assert!(matches!(err, ReportError::Io { .. }), "{err:?}");
}

#[test]
fn every_chart_states_its_interval_in_the_subtitle() {
    let pointwise = "95% pointwise confidence intervals";
    let uniform = "90% uniform (simultaneous) confidence band";
    let f = ForestPlot::new("F")
        .interval(Interval::pointwise(0.95))
        .chart("f", &effects())
        .unwrap();
    assert_eq!(count_text(&f.svg, pointwise), 1, "{:?}", svg_texts(&f.svg));
    assert_eq!(count_text(&f.svg, "F"), 1);
    let x = vec![-2.0, -1.0, 0.0, 1.0];
    let l = LineChart::new("L")
        .subtitle("event study")
        .interval(Interval::uniform(0.9))
        .chart(
            "l",
            &[Series::new("effect", x.clone(), vec![0.1, 0.0, 1.0, 1.2])
                .with_band(vec![-0.2, -0.3, 0.6, 0.8], vec![0.4, 0.3, 1.4, 1.6])],
        )
        .unwrap();
    assert_eq!(
        count_text(&l.svg, &format!("event study; {uniform}")),
        1,
        "{:?}",
        svg_texts(&l.svg)
    );
    let b = BarChart::new("B")
        .interval(Interval::anytime_valid(0.95))
        .chart("b", &[("x", 1.0)])
        .unwrap();
    assert_eq!(
        count_text(&b.svg, "95% confidence sequence (anytime-valid)"),
        1
    );
    let m = Matrix::new(
        vec!["g=1".into()],
        vec!["1".into(), "2".into()],
        vec![vec![Some(0.5), None]],
    );
    let h = HeatMap::new("H")
        .interval(Interval::pointwise(0.99))
        .chart("h", &m)
        .unwrap();
    assert_eq!(count_text(&h.svg, "99% pointwise confidence intervals"), 1);
    // Without an interval or subtitle there is no subtitle text.
    let plain = ForestPlot::new("F").chart("f", &effects()).unwrap();
    assert_eq!(count_text(&plain.svg, pointwise), 0);
    // A level outside (0, 1) is refused.
    let err = ForestPlot::new("F")
        .interval(Interval::pointwise(95.0))
        .chart("f", &effects())
        .unwrap_err();
    assert!(matches!(err, ReportError::Invalid(_)), "{err:?}");
}

#[test]
fn forest_plot_draws_one_panel_per_metric() {
    let one = ForestPlot::new("Lifts").chart("one", &effects()).unwrap();
    let panels = ForestPlot::new("Lifts")
        .x_label("treatment - control")
        .panel_by(PanelBy::Metric)
        .chart("panels", &effects())
        .unwrap();
    let texts = svg_texts(&panels.svg);
    // One heading per metric, in order of first appearance, and the x-axis label per panel.
    let heading_pos = |h: &str| texts.iter().position(|t| t == h);
    let (a, f) = (heading_pos("aht_seconds"), heading_pos("fcr"));
    assert!(a.is_some() && f.is_some() && a < f, "{texts:?}");
    assert_eq!(
        count_text(&panels.svg, "treatment - control"),
        2,
        "{texts:?}"
    );
    // The proportion panel has its own axis: its ticks are fractions (e.g. "0.05"), which a
    // shared axis running to -33 s would never show; the single-panel plot has none.
    let has_fraction_tick = |svg: &str| {
        svg_texts(svg)
            .iter()
            .any(|t| t.starts_with("0.0") && t.parse::<f64>().is_ok())
    };
    assert!(has_fraction_tick(&panels.svg), "{texts:?}");
    assert!(!has_fraction_tick(&one.svg), "{:?}", svg_texts(&one.svg));
    assert!(is_png(&panels.png));
}

#[test]
fn legend_names_each_line_and_band() {
    let x: Vec<f64> = (1..=20).map(f64::from).collect();
    let y: Vec<f64> = x.iter().map(|t| 1.0 + 1.0 / t).collect();
    let band = |w: f64| -> (Vec<f64>, Vec<f64>) {
        (
            x.iter().zip(&y).map(|(t, y)| y - w / t.sqrt()).collect(),
            x.iter().zip(&y).map(|(t, y)| y + w / t.sqrt()).collect(),
        )
    };
    let (cs_lo, cs_hi) = band(3.0);
    let (ci_lo, ci_hi) = band(2.0);
    let series = [
        Series::new("cumulative estimate", x.clone(), y.clone()),
        Series::band("95% confidence sequence", x.clone(), cs_lo, cs_hi),
        Series::band("95% fixed-horizon CI", x.clone(), ci_lo, ci_hi),
    ];
    let c = LineChart::new("Cumulative effect")
        .chart("cum", &series)
        .unwrap();
    for label in [
        "cumulative estimate",
        "95% confidence sequence",
        "95% fixed-horizon CI",
    ] {
        assert_eq!(count_text(&c.svg, label), 1, "{:?}", svg_texts(&c.svg));
    }
    // Drawing the same bands as lines with bands adds polylines: band-only series draw none.
    let as_lines = [
        series[0].clone(),
        Series {
            name: "cs".into(),
            band_only: false,
            band_label: None,
            ..series[1].clone()
        },
        Series {
            name: "ci".into(),
            band_only: false,
            band_label: None,
            ..series[2].clone()
        },
    ];
    let l = LineChart::new("Cumulative effect")
        .chart("cum", &as_lines)
        .unwrap();
    assert!(
        l.svg.matches("<polyline").count() > c.svg.matches("<polyline").count(),
        "band-only series drew lines"
    );
}

#[test]
fn highlighted_chart_can_label_every_other_series() {
    let x = vec![1.0, 2.0, 3.0];
    let series = [
        Series::new("never treated", x.clone(), vec![1.0, 1.1, 1.2]),
        Series::new("cohort 2", x.clone(), vec![1.5, 1.0, 0.9]),
        Series::new("cohort 3", x.clone(), vec![1.4, 1.5, 1.0]),
    ];
    let grouped = LineChart::new("Trends")
        .highlight("never treated")
        .chart("t", &series)
        .unwrap();
    assert_eq!(count_text(&grouped.svg, "others"), 1);
    assert_eq!(count_text(&grouped.svg, "cohort 2"), 0);
    let labelled = LineChart::new("Trends")
        .highlight("never treated")
        .label_others(true)
        .chart("t", &series)
        .unwrap();
    for name in ["never treated", "cohort 2", "cohort 3"] {
        assert_eq!(count_text(&labelled.svg, name), 1, "{name}");
    }
    assert_eq!(count_text(&labelled.svg, "others"), 0);
}

/// The reward charts read the JSON shapes of `reward evaluate --weights` (a two-weight grid,
/// first range slowest) and `reward choose --pareto`: a grid with one range or the wrong
/// number of points, and a frontier with one point, give no chart rather than a wrong one;
/// the heat map's axes name the signals and the frontier's axes the KPI.
#[test]
fn reward_sensitivity_and_pareto_charts_from_json() {
    use causalkit_report::html::reward::{pareto_chart, sensitivity_chart};
    use serde_json::json;
    let range = |s: &str| json!({"signal": s, "low": 0.0, "high": 1.0});
    let pts: Vec<_> = (0..9)
        .map(|i| json!({"estimate": i as f64 - 4.0}))
        .collect();
    let grid = json!({"ranges": [range("click"), range("return")], "steps": 3, "points": pts});
    let c = sensitivity_chart(&grid, "s").unwrap().expect("a 3x3 grid");
    assert!(c.svg.contains("weight of click") && c.svg.contains("weight of return"));
    let one = json!({"ranges": [range("click")], "steps": 3, "points": pts[..3]});
    assert!(sensitivity_chart(&one, "s").unwrap().is_none());
    let short =
        json!({"ranges": [range("click"), range("return")], "steps": 3, "points": pts[..8]});
    assert!(sensitivity_chart(&short, "s").unwrap().is_none());
    let front = json!({"kpi": "nps", "points": [
        {"kpi_change": 0.01, "value_change": 2.0},
        {"kpi_change": 0.02, "value_change": 1.5}
    ]});
    let c = pareto_chart(&front, "p").unwrap().expect("two points");
    assert_eq!(c.name, "p");
    assert!(c.svg.contains("predicted change of nps"));
    let lone = json!({"kpi": "nps", "points": [{"kpi_change": 0.01, "value_change": 2.0}]});
    assert!(pareto_chart(&lone, "p").unwrap().is_none());
}
