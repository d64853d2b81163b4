//! Skips that cannot hide. A test that needs an external tool (tshark,
//! cmark-gfm, chromium, a Python module…) asks [`require_tool`], and every
//! other skip goes through [`skip`]: under CI (`CI=true`, which `.ci/run`
//! exports) a skip is a failure, so CI never passes by skipping. Elsewhere
//! the skip is written to standard error (which `cargo test` shows only
//! with `--nocapture`) and appended to `target/skipped-tests.txt`, which the
//! README tells to read after a local run.

use std::process::Command;

/// True under CI (`CI` set to anything but empty, `0` or `false`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"))
}

/// Whether `tool --version` runs and succeeds. Prints the skip and
/// returns false when not; panics under CI.
pub fn require_tool(tool: &str) -> bool {
    require_tool_with(tool, "--version")
}

/// [`require_tool`] for a tool that tells its version otherwise (`tmux
/// -V`): whether `tool version_flag` runs and succeeds.
pub fn require_tool_with(tool: &str, version_flag: &str) -> bool {
    let ok = Command::new(tool)
        .arg(version_flag)
        .output()
        .is_ok_and(|o| o.status.success());
    ok || skip(&format!("{tool} is not installed"))
}

/// Says why the calling test skips (on standard output); under CI, fails.
/// Returns false, for `if !require(...) { return; }`.
pub fn skip(why: &str) -> bool {
    let test = std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_string();
    if in_ci() {
        panic!("{test}: {why} (CI=true: a missing tool is a failure, not a skip)");
    }
    eprintln!("SKIPPED {test}: {why}");
    let log =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/skipped-tests.txt");
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
    {
        use std::io::Write;
        let _ = writeln!(f, "{test}: {why}");
    }
    false
}

/// The Python interpreter for tests that run Python: `$TLSCLOSE_PYTHON`
/// (`.ci/run` points it at a venv with duckdb and jsonschema), else
/// `python3`.
pub fn python() -> String {
    std::env::var("TLSCLOSE_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".to_string())
}

/// Whether [`python`] can import `module`; prints the skip and returns
/// false when not; panics under CI.
pub fn require_python_module(module: &str) -> bool {
    let py = python();
    let ok = Command::new(&py)
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    ok || skip(&format!("{py} cannot import {module}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_present_tool_is_found() {
        // the test runs under cargo, so cargo is installed
        assert!(require_tool("cargo"));
    }

    #[test]
    fn a_missing_tool_skips_or_fails_under_ci() {
        let missing = || require_tool("tlsclose-no-such-tool");
        if in_ci() {
            assert!(std::panic::catch_unwind(missing).is_err());
        } else {
            assert!(!missing());
        }
    }
}
