//! Where test inputs live, and a temporary folder per test process.
use std::path::{Path, PathBuf};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The workspace's `testdata/` folder.
pub fn testdata() -> PathBuf {
    workspace().join("testdata")
}

/// `testdata/<name>` (a case folder, or a file in one: `"sample/capture.pcap"`).
pub fn case(name: &str) -> PathBuf {
    testdata().join(name)
}

/// The capture of a case folder: its first `capture.*` file by name.
pub fn capture_in(dir: &Path) -> Option<PathBuf> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("capture."))
        })
        .collect();
    names.sort();
    names.into_iter().next()
}

/// The capture of `testdata/<name>`; panics (naming the case) without one.
pub fn capture_of(name: &str) -> PathBuf {
    capture_in(&case(name)).unwrap_or_else(|| panic!("testdata/{name}: no capture.* file"))
}

/// The case folders of `testdata/` that hold `file` (e.g. `expected.jsonl`),
/// sorted by name; `damaged-*` cases only when `damaged`.
pub fn cases_with(file: &str, damaged: bool) -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(testdata())
        .unwrap_or_else(|e| panic!("{}: {e}", testdata().display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join(file).is_file())
        .filter(|p| damaged == name_of(p).starts_with("damaged-"))
        .collect();
    cases.sort();
    cases
}

/// A path's last component as text ("?" when it has none).
pub fn name_of(path: &Path) -> String {
    path.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("?")
        .to_string()
}

/// `name` in a temporary folder of this test process (`tag` keeps test
/// files' folders apart); the folder is created.
pub fn tmp(tag: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tlsclose-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir.join(name)
}
