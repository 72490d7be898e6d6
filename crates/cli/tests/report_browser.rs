//! The HTML reports in a real browser: headless Chromium (Debian package `chromium`) opens
//! each estimator's report from a `file://` URL with the network disabled, and the test
//! asserts that there is no console error, no request leaves the page, every SVG has a
//! non-empty bounding box, the page does not scroll sideways on a phone's width, and a
//! screenshot is not blank. Screenshots are kept under `target/report-screenshots/`.
//!
//! Chromium is driven over the DevTools protocol by the `headless_chrome` crate (built with
//! its `offline` feature: protocol bindings from the JSON shipped in the crate). When no
//! Chromium is installed the test prints a SKIPPED line on the terminal and returns; with
//! `CI=true` it fails instead (`.ci/run` installs chromium).

mod common;
mod report_cases;
use common::*;

use headless_chrome::protocol::cdp::types::Event;
use headless_chrome::protocol::cdp::{Emulation, Network, Page, Runtime};
use headless_chrome::{Browser, LaunchOptions};
use std::ffi::OsStr;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The Chromium binary: `$CHROME`, else the first of chromium, chromium-browser,
/// google-chrome on the PATH.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROME").map(PathBuf::from) {
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Writes the reports of every estimator with `--report` (and the multi-result report).
fn write_reports() -> Vec<(String, PathBuf)> {
    let dir = root().join("target/report-browser");
    std::fs::create_dir_all(&dir).unwrap();
    let mut out = Vec::new();
    for (name, args) in report_cases::commands() {
        let path = dir.join(format!("{name}.html"));
        let mut a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        a.extend(["--report".into(), path.display().to_string()]);
        ok(&a);
        out.push((name.to_string(), path));
    }
    out
}

#[derive(Default)]
struct Seen {
    errors: Vec<String>,
    requests: Vec<String>,
}

/// Share of pixels that differ from the most common colour of the PNG.
fn non_background_share(png_bytes: &[u8]) -> f64 {
    let decoder = png::Decoder::new(png_bytes);
    let mut reader = decoder.read_info().expect("screenshot is a PNG");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("PNG frame");
    let channels = info.color_type.samples();
    let px: Vec<&[u8]> = buf[..info.buffer_size()].chunks(channels).collect();
    let mut counts = std::collections::HashMap::new();
    for p in &px {
        *counts.entry(*p).or_insert(0usize) += 1;
    }
    let background = counts.values().copied().max().unwrap_or(0);
    1.0 - background as f64 / px.len() as f64
}

#[test]
fn reports_render_offline_in_headless_chromium() {
    let Some(chrome) = chromium() else {
        if in_ci() {
            panic!("chromium is not installed but CI=true: .ci/run installs it (apt-get install chromium)");
        }
        // Written to the terminal directly: libtest does not capture it.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED reports_render_offline_in_headless_chromium: no chromium found (set CHROME or install the Debian package `chromium`)"
        );
        return;
    };
    let reports = write_reports();
    let shots = root().join("target/report-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let options = LaunchOptions {
        path: Some(chrome),
        headless: true,
        sandbox: false,
        window_size: Some((1100, 1400)),
        idle_browser_timeout: Duration::from_secs(120),
        // Belt and braces: every request would go to a dead proxy, and the page is offline.
        args: vec![
            OsStr::new("--proxy-server=127.0.0.1:9"),
            OsStr::new("--proxy-bypass-list=<-loopback>"),
            OsStr::new("--disable-background-networking"),
            OsStr::new("--no-first-run"),
            OsStr::new("--allow-file-access-from-files"),
        ],
        ..LaunchOptions::default()
    };
    let browser = Browser::new(options).expect("chromium starts");
    let mut failures = Vec::new();
    for (name, path) in &reports {
        let tab = browser.new_tab().unwrap();
        tab.set_default_timeout(Duration::from_secs(60));
        let seen = Arc::new(Mutex::new(Seen::default()));
        let sink = Arc::clone(&seen);
        tab.add_event_listener(Arc::new(move |event: &Event| {
            let mut s = sink.lock().unwrap();
            match event {
                Event::RuntimeConsoleAPICalled(e)
                    if matches!(
                        e.params.Type,
                        Runtime::ConsoleAPICalledEventTypeOption::Error
                            | Runtime::ConsoleAPICalledEventTypeOption::Assert
                    ) =>
                {
                    s.errors.push(format!("console: {:?}", e.params.args));
                }
                Event::RuntimeExceptionThrown(e) => {
                    s.errors
                        .push(format!("exception: {:?}", e.params.exception_details.text));
                }
                Event::LogEntryAdded(e)
                    if matches!(
                        e.params.entry.level,
                        headless_chrome::protocol::cdp::Log::LogEntryLevel::Error
                    ) =>
                {
                    s.errors.push(format!("log: {}", e.params.entry.text));
                }
                Event::NetworkRequestWillBeSent(e) => {
                    s.requests.push(e.params.request.url.clone());
                }
                _ => {}
            }
        }))
        .unwrap();
        tab.enable_log().unwrap().enable_runtime().unwrap();
        tab.call_method(Network::Enable {
            max_total_buffer_size: None,
            max_resource_buffer_size: None,
            max_post_data_size: None,
            report_direct_socket_traffic: None,
            enable_durable_messages: None,
        })
        .unwrap();
        tab.call_method(Network::EmulateNetworkConditions {
            offline: true,
            latency: 0.0,
            download_throughput: -1.0,
            upload_throughput: -1.0,
            connection_Type: None,
            packet_loss: None,
            packet_queue_length: None,
            packet_reordering: None,
        })
        .unwrap();
        let url = format!("file://{}", path.canonicalize().unwrap().display());
        tab.navigate_to(&url)
            .unwrap()
            .wait_until_navigated()
            .unwrap();
        // Every SVG's bounding box, as [width, height].
        let boxes = tab
            .evaluate(
                "JSON.stringify(Array.from(document.querySelectorAll('svg')).map(s => { const r = s.getBoundingClientRect(); return [r.width, r.height]; }))",
                false,
            )
            .unwrap();
        let boxes: Vec<[f64; 2]> =
            serde_json::from_str(boxes.value.as_ref().and_then(|v| v.as_str()).unwrap()).unwrap();
        if boxes.is_empty() {
            failures.push(format!("{name}: no SVG on the page"));
        }
        for (i, b) in boxes.iter().enumerate() {
            if !(b[0] > 1.0 && b[1] > 1.0) {
                failures.push(format!("{name}: SVG {i} has an empty bounding box {b:?}"));
            }
        }
        let shot = tab
            .capture_screenshot(Page::CaptureScreenshotFormatOption::Png, None, None, true)
            .unwrap();
        std::fs::write(shots.join(format!("{name}.png")), &shot).unwrap();
        let share = non_background_share(&shot);
        // A blank page is one colour; a report page has text, tables and charts.
        if share < 0.01 {
            failures.push(format!(
                "{name}: screenshot is blank ({share:.4} non-background)"
            ));
        }
        // Phone width: the page itself does not scroll sideways (wide tables scroll inside
        // their own box).
        tab.call_method(Emulation::SetDeviceMetricsOverride {
            width: 390,
            height: 844,
            device_scale_factor: 2.0,
            mobile: true,
            scale: None,
            screen_width: None,
            screen_height: None,
            position_x: None,
            position_y: None,
            dont_set_visible_size: None,
            screen_orientation: None,
            viewport: None,
            display_feature: None,
            device_posture: None,
        })
        .unwrap();
        let overflow = tab
            .evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth",
                false,
            )
            .unwrap();
        let overflow = overflow.value.as_ref().and_then(|v| v.as_f64()).unwrap();
        if overflow > 1.0 {
            failures.push(format!(
                "{name}: page overflows a 390 px phone width by {overflow} px"
            ));
        }
        let phone = tab
            .capture_screenshot(Page::CaptureScreenshotFormatOption::Png, None, None, true)
            .unwrap();
        std::fs::write(shots.join(format!("{name}-phone.png")), &phone).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        let s = seen.lock().unwrap();
        for e in &s.errors {
            failures.push(format!("{name}: {e}"));
        }
        for r in &s.requests {
            if !(r.starts_with("file://") || r.starts_with("data:")) {
                failures.push(format!("{name}: request left the page: {r}"));
            }
        }
        if !s.requests.iter().any(|r| r.starts_with("file://")) {
            failures.push(format!(
                "{name}: the request log saw no page load: {:?}",
                s.requests
            ));
        }
        let _ = tab.close(false);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
