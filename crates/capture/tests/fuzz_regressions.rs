//! Replays every input in testdata/regressions/capture_reader/ (each once made the
//! `capture_reader` fuzz target fail) through the target's own checks.

#[path = "../../../fuzz/checks/capture_reader.rs"]
mod check;

#[test]
fn capture_reader_regressions_pass() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/regressions/capture_reader");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    for f in &files {
        let data = std::fs::read(f).unwrap_or_default();
        eprintln!("{}", f.display());
        check::check(&data);
    }
}
