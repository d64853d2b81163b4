//! The binary under test as a user runs it, and readers of its output.
//!
//! [`tlsclose!`](crate::tlsclose) (in the tlsclose crate's tests) gives a
//! [`Command`] for the `tlsclose` binary Cargo built for them, with the
//! environment that would change its results cleared: the caller's own key
//! log (`SSLKEYLOGFILE`), colour and terminal settings, and any
//! `TLSCLOSE_*` variable.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

/// Variables that change what the binary prints.
pub const CLEARED_ENV: &[&str] = &[
    "SSLKEYLOGFILE",
    "NO_COLOR",
    "CLICOLOR",
    "CLICOLOR_FORCE",
    "FORCE_COLOR",
    "COLUMNS",
    "LINES",
    "TERM",
];

/// A command for the binary at `path` with [`CLEARED_ENV`] and every
/// `TLSCLOSE_*` variable removed. Use [`tlsclose!`](crate::tlsclose).
pub fn command(path: impl AsRef<Path>) -> Command {
    let mut c = Command::new(path.as_ref());
    for var in CLEARED_ENV {
        c.env_remove(var);
    }
    for (var, _) in std::env::vars_os() {
        if var.to_string_lossy().starts_with("TLSCLOSE_") {
            c.env_remove(var);
        }
    }
    c
}

/// `tlsclose!()`: a [`Command`] for the `tlsclose` binary under test (its
/// path from `CARGO_BIN_EXE_tlsclose`, so only in the tlsclose crate's
/// tests), environment cleared as [`command`] says.
#[macro_export]
macro_rules! tlsclose {
    () => {
        $crate::cli::command(env!("CARGO_BIN_EXE_tlsclose"))
    };
}

/// Runs the command and returns its output; panics when it cannot start.
pub fn output(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every line of a JSON Lines text, parsed: a line that is not JSON fails
/// (blank lines aside).
pub fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The flow objects (those with an `ending`) of a JSON Lines output.
pub fn flows(out: &Output) -> Vec<Value> {
    json_lines(&stdout(out))
        .into_iter()
        .filter(|v| v.get("ending").is_some())
        .collect()
}

/// The summary object of a JSON Lines output; panics without one.
pub fn summary(out: &Output) -> Value {
    json_lines(&stdout(out))
        .into_iter()
        .find(|v| v["summary"] == true)
        .unwrap_or_else(|| panic!("no summary line in:\n{}", stdout(out)))
}

/// The expected flows of a case file (`expected*.jsonl`).
pub fn expected_flows(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    json_lines(&text)
        .into_iter()
        .filter(|v| v.get("ending").is_some())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_clears_what_changes_results() {
        let c = command("/bin/true");
        let removed: Vec<String> = c
            .get_envs()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect();
        for var in CLEARED_ENV {
            assert!(removed.iter().any(|r| r == var), "{var}");
        }
    }

    #[test]
    fn json_lines_are_strict() {
        let v = json_lines("{\"a\":1}\n\n{\"summary\":true}\n");
        assert_eq!(v.len(), 2);
        assert!(std::panic::catch_unwind(|| json_lines("warning\n{}")).is_err());
    }
}
