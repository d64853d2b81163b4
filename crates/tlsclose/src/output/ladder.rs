//! Which of a flow's ladder steps are drawn: the text ladder (`--flow`),
//! the Mermaid diagram and the HTML report's ladder show the same steps,
//! so they start at the same frame.

use tlsclose_analysis::{FlowReport, LadderStep, Role};

/// Records shown per side in a ladder (its FIN and RST are always shown).
pub const LADDER_RECORDS: usize = 3;

/// The steps a ladder shows: the last [`LADDER_RECORDS`] records of each
/// side and every FIN/RST, in order, and how many earlier records are left
/// out. The text ladder (`--flow`), the Mermaid diagram and the HTML
/// report's ladder all show these, so they start at the same frame.
pub fn shown_steps(r: &FlowReport) -> (usize, Vec<&LadderStep>) {
    let is_teardown = |s: &LadderStep| s.event.is_teardown();
    let mut left = [LADDER_RECORDS; 2];
    let mut keep = vec![false; r.ladder.len()];
    for (i, s) in r.ladder.iter().enumerate().rev() {
        let side = usize::from(s.from == Role::Server);
        if is_teardown(s) {
            keep[i] = true;
        } else if let Some(n) = left.get_mut(side).filter(|n| **n > 0) {
            *n -= 1;
            keep[i] = true;
        }
    }
    let shown: Vec<&LadderStep> = r
        .ladder
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(s, _)| s)
        .collect();
    (r.ladder.len() - shown.len(), shown)
}
