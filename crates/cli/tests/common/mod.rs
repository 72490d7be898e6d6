//! Helpers shared by the CLI integration tests: run the built `causalkit` binary from the
//! repository root and check its exit code, stdout and stderr.
//!
//! Use from a test file with `mod common;` and `use common::*;`. Every helper takes the
//! arguments as anything string-like (`&[&str]`, `Vec<String>`, ...).

#![allow(dead_code)] // each test file uses a different subset

use serde_json::Value;
use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Command, Output};

/// The repository root (tests run the binary there, so `datasets/...` paths work).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn shown<S: AsRef<OsStr>>(args: &[S]) -> String {
    args.iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `causalkit ARGS` from the repository root.
pub fn run<S: AsRef<OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_causalkit"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("binary runs")
}

/// stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs, asserts exit 0, returns stdout.
pub fn ok<S: AsRef<OsStr>>(args: &[S]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "`causalkit {}` failed ({:?}): {}",
        shown(args),
        out.status.code(),
        stderr(&out)
    );
    stdout(&out)
}

/// Runs, asserts exit 0, parses stdout as one JSON value.
pub fn ok_json<S: AsRef<OsStr>>(args: &[S]) -> Value {
    let text = ok(args);
    serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "`causalkit {}`: stdout is not one JSON value ({e}):\n{text}",
            shown(args)
        )
    })
}

/// Runs, asserts the exit code, returns stderr.
pub fn fails_with<S: AsRef<OsStr>>(code: i32, args: &[S]) -> String {
    let out = run(args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "`causalkit {}` should exit {code}; stdout {}; stderr {}",
        shown(args),
        stdout(&out),
        stderr(&out)
    );
    stderr(&out)
}

/// Runs, asserts exit 2 (bad input), returns stderr.
pub fn bad<S: AsRef<OsStr>>(args: &[S]) -> String {
    fails_with(2, args)
}

/// Writes `contents` to a file `name` in this test process's temp directory; returns its path.
pub fn tmp(name: &str, contents: &str) -> String {
    let dir = tmp_dir();
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    p.display().to_string()
}

/// This test process's temp directory (created if needed).
pub fn tmp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("causalkit-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The effect with this label in a result's JSON.
pub fn effect<'a>(v: &'a Value, label: &str) -> &'a Value {
    v["effects"]
        .as_array()
        .expect("effects array")
        .iter()
        .find(|e| e["label"] == label)
        .unwrap_or_else(|| panic!("no effect `{label}` in {v}"))
}

/// A JSON number as f64.
pub fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// A stored reference file `reference/<name>.json`.
pub fn reference(name: &str) -> Value {
    let path = root().join("reference").join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}
