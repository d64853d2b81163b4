//! Fuzz regressions: every input in `testdata/regressions/<target>/` once
//! made that fuzz target fail (or stands guard for it, see the folder's
//! README); `cargo test` replays each through the target's own checks.

use crate::paths::testdata;

/// Replays every file of `testdata/regressions/<target>/` (README.md
/// aside) through `check`, which panics when a property breaks. A missing
/// or empty folder fails: the replay must have something to replay.
/// Returns how many inputs were replayed.
pub fn replay(target: &str, check: impl Fn(&[u8])) -> usize {
    let dir = testdata().join("regressions").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "{}: no regression input to replay",
        dir.display()
    );
    for f in &files {
        let data = std::fs::read(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        println!("replaying {} ({} bytes)", f.display(), data.len());
        check(&data);
    }
    files.len()
}
