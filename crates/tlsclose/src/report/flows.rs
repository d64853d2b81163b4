//! The flows a report describes one by one (`--report`, Markdown and
//! HTML): each that did not end close_notify-then-fin, or had a keep-alive
//! race (which usually ends cleanly, the server having closed properly, and
//! is what an audit looks for). The first `--report-flows` in capture order
//! are kept, and all are counted.

use crate::output::sink::Flow;
use std::collections::BinaryHeap;
use tlsclose_analysis::{Ending, FlowReport};

/// A flow kept, ordered by its place in the capture.
struct Kept(Flow);

impl PartialEq for Kept {
    fn eq(&self, other: &Self) -> bool {
        self.0.id == other.0.id
    }
}
impl Eq for Kept {}
impl PartialOrd for Kept {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Kept {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.id.cmp(&other.0.id)
    }
}

/// A flow a report describes.
fn is_described(r: &FlowReport) -> bool {
    r.ending != Ending::CloseNotifyThenFin || r.keepalive_race
}

/// The described flows: the first `limit` in capture order (a max-heap:
/// the latest is dropped first), and how many there were.
pub struct Described {
    kept: BinaryHeap<Kept>,
    /// Flows described, kept or not.
    pub total: u64,
    limit: usize,
}

impl Described {
    pub fn new(limit: usize) -> Described {
        Described {
            kept: BinaryHeap::new(),
            total: 0,
            limit,
        }
    }

    /// Keeps `flow` when it is described and among the first `limit`.
    pub fn offer(&mut self, flow: &Flow) {
        if !is_described(&flow.report) {
            return;
        }
        self.total += 1;
        self.kept.push(Kept(flow.clone()));
        if self.kept.len() > self.limit {
            self.kept.pop();
        }
    }

    /// The kept flows in capture order (taken: the next call has none).
    pub fn take(&mut self) -> Vec<Flow> {
        std::mem::take(&mut self.kept)
            .into_sorted_vec()
            .into_iter()
            .map(|k| k.0)
            .collect()
    }
}
