//! `--report FILE.html` and `causalkit report`: snapshot tests of each estimator's report on
//! the bundled data, and the check that every sentence about a number agrees with the table
//! and with the result JSON.
//!
//! Snapshots live in `tests/snapshots/report_<name>.html`, with the reproducibility block
//! (time, command line, paths, thread count) cut out and the embedded result JSON replaced by
//! the SHA-256 of its numbers rounded to 10 significant digits (the JSON is checked by the
//! estimators' own tests). After an intended change,
//! regenerate them with `UPDATE_SNAPSHOTS=1 cargo test -p causalkit-cli --test report` and
//! review the diff.

mod common;
mod report_cases;
use common::*;
use report_cases::commands;

use serde_json::Value;
use std::path::PathBuf;

fn out_dir() -> PathBuf {
    let d = root().join("target/report-tests");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs the estimator with `--report` and returns (report HTML, JSON output of the same run).
fn report_of(name: &str, args: &[&str]) -> (String, Value) {
    let path = out_dir().join(format!("{name}.html"));
    let mut a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    a.extend(["--format".into(), "json".into(), "--report".into()]);
    a.push(path.display().to_string());
    let out = run(&a);
    assert!(out.status.success(), "{name}: {}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("Report: {}", path.display())),
        "{}",
        stderr(&out)
    );
    let json: Value = serde_json::from_str(&stdout(&out)).expect("JSON on stdout");
    (std::fs::read_to_string(&path).unwrap(), json)
}

/// The text between `start` and `end` (exclusive), after `from`.
fn between<'a>(s: &'a str, start: &str, end: &str) -> &'a str {
    let i = s.find(start).unwrap_or_else(|| panic!("no `{start}`")) + start.len();
    let j = s[i..].find(end).unwrap_or_else(|| panic!("no `{end}`")) + i;
    &s[i..j]
}

const JSON_OPEN: &str = "<script type=\"application/json\" id=\"causalkit-results\">";

/// The embedded results.
fn embedded(html: &str) -> Value {
    let body = between(html, JSON_OPEN, "</script>");
    serde_json::from_str(body).expect("embedded JSON parses")
}

/// Every number of a JSON value rounded to 10 significant digits (written `{:.9e}`).
fn rounded(v: &Value) -> Value {
    match v {
        Value::Number(n) if n.is_f64() => {
            Value::String(format!("{:.9e}", n.as_f64().unwrap_or_default()))
        }
        Value::Array(a) => Value::Array(a.iter().map(rounded).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, x)| (k.clone(), rounded(x))).collect()),
        other => other.clone(),
    }
}

/// The snapshot form: the reproducibility block cut out, the JSON replaced by the SHA-256 of
/// its numbers rounded to 10 significant digits (the attribution's covariance sums are not
/// bit-reproducible run to run: the last bits of its floats vary; the page's numbers, at 4
/// significant digits or whole dollars, do not).
fn stable(html: &str) -> String {
    let (a, rest) = html.split_once("<!--repro:begin-->").expect("repro begin");
    let (_, b) = rest.split_once("<!--repro:end-->").expect("repro end");
    let html = format!("{a}<!--repro:begin--> (cut for the snapshot) <!--repro:end-->{b}");
    let body = between(&html, JSON_OPEN, "</script>").to_string();
    let canonical = rounded(&serde_json::from_str(&body).expect("embedded JSON parses"));
    let digest = sha256_hex(canonical.to_string().as_bytes());
    html.replace(&body, &format!("sha256:{digest}"))
}

/// SHA-256 through the binary's own reproducibility code path would need a file; this small
/// test-only FIPS 180-4 implementation keeps the test independent of the library it checks.
fn sha256_hex(data: &[u8]) -> String {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut msg = data.to_vec();
    let bits = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bits.to_be_bytes());
    for chunk in msg.chunks(64) {
        let mut w = [0u32; 64];
        for (i, c) in chunk.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let mut v = h;
        for i in 0..64 {
            let s1 = v[4].rotate_right(6) ^ v[4].rotate_right(11) ^ v[4].rotate_right(25);
            let ch = (v[4] & v[5]) ^ (!v[4] & v[6]);
            let t1 = v[7]
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = v[0].rotate_right(2) ^ v[0].rotate_right(13) ^ v[0].rotate_right(22);
            let maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
            let t2 = s0.wrapping_add(maj);
            v = [
                t1.wrapping_add(t2),
                v[0],
                v[1],
                v[2],
                v[3].wrapping_add(t1),
                v[4],
                v[5],
                v[6],
            ];
        }
        for (a, b) in h.iter_mut().zip(v) {
            *a = a.wrapping_add(b);
        }
    }
    h.iter().map(|x| format!("{x:08x}")).collect()
}

#[test]
fn sha256_matches_the_fips_test_vector() {
    // FIPS 180-4 example "abc" (NIST CSRC example values).
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

/// The value of `attr="..."` in `tag`.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("{name}=\"");
    let i = tag.find(&key)? + key.len();
    Some(&tag[i..i + tag[i..].find('"')?])
}

/// The main effects table's estimate cell of effect `k`, as printed.
fn table_estimate(html: &str, k: usize, result: usize) -> String {
    let block = between(html, "<section id=\"effects\">", "</section>");
    let div = block
        .split(&format!("<div data-result=\"{result}\">"))
        .nth(1)
        .expect("result block");
    let table = between(div, "<table class=\"effects\">", "</table>");
    let row = between(table, &format!("<tr data-effect=\"{k}\">"), "</tr>");
    between(row, "<td class=\"num est\">", "</td>").to_string()
}

/// Every prose sentence (headline and under the table) states the same number, with the
/// same sign, as the table row of its effect, and that cell is the JSON estimate formatted
/// by the report's one formatter (re-derived here: 4 significant digits).
fn check_prose(html: &str, json: &Value) -> usize {
    let mut checked = 0;
    for (pos, _) in html.match_indices("class=\"prose\"") {
        let start = html[..pos].rfind('<').unwrap();
        let tag = &html[start..pos + html[pos..].find('>').unwrap()];
        let k: usize = attr(tag, "data-effect").unwrap().parse().unwrap();
        let direction = attr(tag, "data-direction").unwrap();
        let magnitude = attr(tag, "data-magnitude").unwrap();
        let text_end = html[pos..].find("</").unwrap() + pos;
        let text = &html[pos + html[pos..].find('>').unwrap() + 1..text_end];
        let cell = table_estimate(html, k, 0);
        let estimate = json["effects"][k]["estimate"].as_f64().unwrap();
        // The table cell is the JSON value at 4 significant digits (percent for relative).
        let relative = json["effects"][k]["kind"] == "relative";
        let shown: f64 = cell.trim_end_matches('%').parse().unwrap();
        let value = if relative { estimate * 100.0 } else { estimate };
        let tol = value.abs() * 5e-4 + 1e-300;
        assert!(
            (shown - value).abs() <= tol,
            "effect {k}: table shows {cell}, JSON has {estimate}"
        );
        match direction {
            "Rose" => {
                assert!(!cell.starts_with('-') && estimate > 0.0, "{text} vs {cell}");
                assert_eq!(magnitude, cell, "{text}");
                assert!(text.contains(&format!("rose by {magnitude}")), "{text}");
            }
            "Fell" => {
                assert!(cell.starts_with('-') && estimate < 0.0, "{text} vs {cell}");
                assert_eq!(magnitude, &cell[1..], "{text}");
                assert!(text.contains(&format!("fell by {magnitude}")), "{text}");
            }
            "Level" => {
                assert_eq!(magnitude, cell, "{text}");
                assert!(text.contains(&format!("= {magnitude}")), "{text}");
            }
            "Unchanged" => assert!(shown.abs() < 1e-300 || cell.trim_end_matches('%') == "0"),
            other => panic!("unknown direction {other}"),
        }
        checked += 1;
    }
    checked
}

#[test]
fn each_estimator_writes_its_report_and_the_snapshot_matches() {
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let mut failures = Vec::new();
    for (name, args) in commands() {
        let (html, json) = report_of(name, &args);
        // Offline and script-free.
        assert!(html.contains(
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"
        ));
        assert!(!html.contains("<script>") && !html.contains("<script src"));
        // No external reference (the SVG namespace URI `xmlns="http://www.w3.org/2000/svg"`
        // names, it is never fetched).
        for bad in ["src=\"http", "href=\"http", "url(http", "@import", "<link"] {
            assert!(!html.contains(bad), "{name}: {bad}");
        }
        // The embedded JSON is the result the command printed.
        assert_eq!(embedded(&html), Value::Array(vec![json.clone()]), "{name}");
        // Sections in the order.
        let order = [
            "id=\"headline\"",
            "id=\"checks\"",
            "id=\"effects\"",
            "id=\"charts\"",
            "id=\"methods\"",
            "id=\"reproducibility\"",
            "id=\"causalkit-results\"",
        ];
        let pos: Vec<usize> = order.iter().map(|s| html.find(s).unwrap()).collect();
        assert!(pos.windows(2).all(|w| w[0] < w[1]), "{name}: {pos:?}");
        assert!(html.matches("<svg").count() >= 1, "{name}: no chart");
        let n = check_prose(&html, &json);
        assert!(n >= 2, "{name}: {n} sentences checked");
        let snap = root().join(format!("crates/cli/tests/snapshots/report_{name}.html"));
        let got = stable(&html);
        if update {
            std::fs::write(&snap, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&snap)
            .unwrap_or_else(|_| panic!("missing {}; run with UPDATE_SNAPSHOTS=1", snap.display()));
        if want != got {
            let at = want
                .bytes()
                .zip(got.bytes())
                .position(|(a, b)| a != b)
                .unwrap_or(want.len().min(got.len()));
            let context = |s: &str| {
                let mut lo = at.saturating_sub(60).min(s.len());
                while !s.is_char_boundary(lo) {
                    lo -= 1;
                }
                let mut hi = (at + 60).min(s.len());
                while !s.is_char_boundary(hi) {
                    hi += 1;
                }
                s[lo..hi].to_string()
            };
            failures.push(format!(
                "{name}: snapshot {} differs at byte {at}:\n  want: {}\n  got:  {}\nthe new report is {}",
                snap.display(),
                context(&want),
                context(&got),
                out_dir().join(format!("{name}.html")).display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_headline_states_the_ab_verdict_and_the_primary_effect() {
    let (_, args) = commands().into_iter().next().unwrap();
    let (html, json) = report_of("ab_headline", &args);
    let head = between(&html, "<section id=\"headline\">", "</section>");
    assert_eq!(json["diagnostics"]["verdict"], "ship");
    // The review records the primary metric and the SRM threshold it used, so a saved JSON
    // re-renders with the same headline effect and the same SRM gate.
    assert_eq!(json["diagnostics"]["primary"], "aht");
    assert_eq!(json["diagnostics"]["srm"]["alpha"], 0.001);
    assert!(head.contains("Verdict: ship"), "{head}");
    assert!(head.contains("class=\"headline good\""), "{head}");
    // AHT fell by 28.29 s (JSON -28.2907...): the headline states it with the table's digits.
    assert!(
        head.contains("aht (treatment vs control) fell by 28.29"),
        "{head}"
    );
    assert_eq!(table_estimate(&html, 0, 0), "-28.29");
}

#[test]
fn a_failed_check_gates_the_headline() {
    // The A/B result with its SRM p-value made tiny: the same report, now a caution.
    let (_, args) = commands().into_iter().next().unwrap();
    let (_, mut json) = report_of("ab_srm_base", &args);
    json["diagnostics"]["srm"]["p_value"] = Value::from(1e-9);
    let saved = out_dir().join("ab_srm.json");
    std::fs::write(&saved, serde_json::to_string(&json).unwrap()).unwrap();
    let html_path = out_dir().join("ab_srm.html");
    let out = ok(&[
        "report",
        saved.to_str().unwrap(),
        "-o",
        html_path.to_str().unwrap(),
    ]);
    assert!(out.contains("wrote"), "{out}");
    let html = std::fs::read_to_string(&html_path).unwrap();
    let head = between(&html, "<section id=\"headline\">", "</section>");
    assert!(head.contains("class=\"headline caution\""), "{head}");
    assert!(head.contains("Do not act on this result"), "{head}");
    let checks = between(&html, "<section id=\"checks\">", "</section>");
    let failed = checks
        .find("class=\"failed\"")
        .expect("failed check listed");
    let passed = checks
        .find("class=\"passed\"")
        .expect("passed check listed");
    assert!(failed < passed, "failed checks come first: {checks}");
    assert!(checks.contains("sample ratio mismatch"), "{checks}");
}

#[test]
fn report_rerenders_saved_json_like_the_live_run() {
    // did: the saved JSON re-rendered by `causalkit report` gives the same page as --report
    // (outside the reproducibility block).
    let (_, args) = commands().into_iter().nth(1).unwrap();
    let (live, json) = report_of("did_live", &args);
    let saved = out_dir().join("did_saved.json");
    std::fs::write(&saved, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    let again = out_dir().join("did_again.html");
    ok(&[
        "report",
        saved.to_str().unwrap(),
        "-o",
        again.to_str().unwrap(),
    ]);
    let again = std::fs::read_to_string(&again).unwrap();
    assert_eq!(stable(&live), stable(&again));
    // The reproducibility block names the input with its SHA-256 and the command.
    let repro = between(&again, "<!--repro:begin-->", "<!--repro:end-->");
    let bytes = std::fs::read(&saved).unwrap();
    assert!(repro.contains(&sha256_hex(&bytes)), "{repro}");
    assert!(repro.contains("causalkit report"), "{repro}");
    // The live run hashes its data file.
    let repro = between(&live, "<!--repro:begin-->", "<!--repro:end-->");
    let data =
        std::fs::read(root().join("datasets/contact-centre/staggered_contacts.csv")).unwrap();
    assert!(repro.contains(&sha256_hex(&data)), "{repro}");
}

#[test]
fn several_results_share_one_report() {
    let mut saved = Vec::new();
    for (name, args) in commands().into_iter().take(3) {
        let mut a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        a.extend(["--format".into(), "json".into()]);
        let p = out_dir().join(format!("multi_{name}.json"));
        std::fs::write(&p, ok(&a)).unwrap();
        saved.push(p.display().to_string());
    }
    let html_path = out_dir().join("multi.html");
    let mut a = vec!["report".to_string()];
    a.extend(saved.iter().cloned());
    a.extend(["-o".into(), html_path.display().to_string()]);
    ok(&a);
    let html = std::fs::read_to_string(&html_path).unwrap();
    let v = embedded(&html);
    assert_eq!(v.as_array().unwrap().len(), 3);
    for i in 0..3 {
        assert!(
            html.contains(&format!("<div data-result=\"{i}\">")),
            "result {i}"
        );
    }
}

#[test]
fn report_refuses_bad_input_with_exit_2() {
    let dir = out_dir();
    let not_json = dir.join("not.json");
    std::fs::write(&not_json, "method,estimate\n").unwrap();
    let out = run(&["report", not_json.to_str().unwrap(), "-o", "x.html"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is not JSON"), "{}", stderr(&out));
    let wrong = dir.join("wrong.json");
    std::fs::write(&wrong, "{\"method\": 1}").unwrap();
    let out = run(&["report", wrong.to_str().unwrap(), "-o", "x.html"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not a causalkit result"),
        "{}",
        stderr(&out)
    );
    let out = run(&["report", "no/such/file.json", "-o", "x.html"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot read no/such/file.json"),
        "{}",
        stderr(&out)
    );
    // --report on a command without a result.
    let out = run(&[
        "describe",
        "datasets/mpdta.csv",
        "--report",
        dir.join("d.html").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--report is available on"),
        "{}",
        stderr(&out)
    );
    // Not an .html file.
    let (_, args) = commands().into_iter().nth(2).unwrap();
    let mut a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    a.extend(["--report".into(), dir.join("r.txt").display().to_string()]);
    let out = run(&a);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("must end in .html"),
        "{}",
        stderr(&out)
    );
}

/// A money cell as printed (`-$1,234,567`, `$12.35`) back to a number.
fn parse_money(cell: &str) -> f64 {
    let neg = cell.starts_with('-');
    let digits: String = cell
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let x: f64 = digits
        .parse()
        .unwrap_or_else(|_| panic!("money cell {cell}"));
    if neg {
        -x
    } else {
        x
    }
}

#[test]
fn the_attribution_headline_states_the_money_table_and_the_json() {
    let (_, args) = commands()
        .into_iter()
        .find(|(n, _)| *n == "attribution")
        .unwrap();
    let (html, json) = report_of("attribution_headline", &args);
    let head = between(&html, "<section id=\"headline\">", "</section>");
    let tag_at = head
        .find("class=\"money-headline\"")
        .expect("money headline");
    let start = head[..tag_at].rfind('<').unwrap();
    let tag = &head[start..tag_at + head[tag_at..].find('>').unwrap()];
    let node = attr(tag, "data-node").unwrap();
    let kind = attr(tag, "data-kind").unwrap();
    let amount = attr(tag, "data-amount").unwrap();
    let horizon = attr(tag, "data-horizon").unwrap();
    let value = &json["diagnostics"]["value"];
    assert_eq!(value["top_node"], node);
    let jnode = value["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == node)
        .unwrap();
    // The bundled spec prices a recurring yearly cost: the headline is the annualised view.
    assert_eq!(horizon, "annual");
    let estimate = jnode["views"]["annualised"]["estimate"].as_f64().unwrap();
    // The money table's cell of the same node and view.
    let effects = between(&html, "<section id=\"effects\">", "</section>");
    let row = between(effects, &format!("<tr data-node=\"{node}\">"), "</tr>");
    let cell = between(row, "data-view=\"annual\">", "</td>");
    assert!(
        (parse_money(cell) - estimate).abs() <= 0.5,
        "{cell} vs {estimate}"
    );
    // With the node's `better` in the JSON (total_cost has better = "lower" in the spec) a
    // fall is stated as savings, the amount being the table's number without its minus
    // sign, and a rise as extra cost; without it, the signed change is stated.
    let verdict = json["diagnostics"]["verdict"].as_str().unwrap();
    let better = jnode["better"]
        .as_str()
        .or_else(|| value["better"][node].as_str())
        .or(if verdict.contains(&format!("pays: value:{node} falls")) {
            Some("lower")
        } else {
            None
        });
    if better.is_none() {
        assert_eq!(kind, "Change");
        assert_eq!(amount, cell);
        assert!(
            head.contains(&format!("Estimated annual change in {node}: {amount}")),
            "{head}"
        );
    } else if estimate < 0.0 {
        assert_eq!(kind, "Savings");
        assert_eq!(format!("-{amount}"), cell);
        assert!(
            head.contains(&format!("Estimated annual savings: {amount}")),
            "{head}"
        );
    } else {
        assert_eq!(kind, "ExtraCost");
        assert_eq!(amount, cell);
        assert!(
            head.contains(&format!("Estimated annual extra cost: {amount}")),
            "{head}"
        );
    }
    // The interval is stated too, and the checks section lists the refuters' state.
    assert!(
        head.contains("(95% CI ") && head.contains(" to $"),
        "{head}"
    );
    let checks = between(&html, "<section id=\"checks\">", "</section>");
    assert!(
        checks.contains("refuter random data subsets")
            && checks.contains("refuter sample ratio mismatch"),
        "{checks}"
    );
    // Waterfall and per-KPI forest.
    let charts = between(&html, "<section id=\"charts\">", "</section>");
    assert!(
        charts.contains("data-chart=\"money_waterfall\""),
        "waterfall"
    );
    assert!(charts.contains("data-chart=\"kpi_effects\""), "kpi forest");
    // Methods: estimator, cross-check, covariance source.
    let methods = between(&html, "<section id=\"methods\">", "</section>");
    for word in [
        "Cross-check",
        "Covariance of the KPI effects",
        "Refuters",
        "Design",
    ] {
        assert!(methods.contains(word), "{word}: {methods}");
    }
}

#[test]
fn one_report_holds_the_ab_review_and_its_attribution() {
    let mut saved = Vec::new();
    for (name, args) in commands()
        .into_iter()
        .filter(|(n, _)| *n == "ab" || *n == "attribution")
    {
        let mut a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        a.extend(["--format".into(), "json".into()]);
        let p = out_dir().join(format!("pair_{name}.json"));
        std::fs::write(&p, ok(&a)).unwrap();
        saved.push(p.display().to_string());
    }
    let html_path = out_dir().join("ab_and_attribution.html");
    let mut a = vec!["report".to_string()];
    a.extend(saved.iter().cloned());
    a.extend(["-o".into(), html_path.display().to_string()]);
    ok(&a);
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert_eq!(embedded(&html).as_array().unwrap().len(), 2);
    let head = between(&html, "<section id=\"headline\">", "</section>");
    assert!(head.contains("Verdict: ship"), "{head}");
    assert!(head.contains("Estimated annual"), "{head}");
    let charts = between(&html, "<section id=\"charts\">", "</section>");
    assert!(
        charts.contains("data-chart=\"r1_lift_absolute\""),
        "ab forest"
    );
    assert!(
        charts.contains("data-chart=\"r2_money_waterfall\""),
        "waterfall"
    );
}
