//! Counts over a whole run.

use serde::Serialize;
use std::collections::BTreeMap;
use tlsclose_analysis::{Ending, FlowReport};

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub files: Vec<String>,
    pub tls_flows: u64,
    pub non_tls_flows: u64,
    /// Flows per ending, every ending listed.
    pub endings: BTreeMap<&'static str, u64>,
    pub frames: u64,
    /// Frames that carried no usable TCP segment, by reason.
    pub skipped_frames: BTreeMap<String, u64>,
    pub warnings: u64,
    /// TLS flows left out by the filters (`--ending`, `--server`, …); absent
    /// when no filter was given. `endings` counts every flow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filtered_out: Option<u64>,
}

impl Summary {
    pub fn new() -> Self {
        let mut s = Summary::default();
        for e in Ending::ALL {
            s.endings.insert(e.as_str(), 0);
        }
        s
    }

    pub fn count(&mut self, r: &FlowReport) {
        *self.endings.entry(r.ending.as_str()).or_default() += 1;
    }

    /// One line for people.
    pub fn line(&self) -> String {
        let endings: Vec<String> = Ending::ALL
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    self.endings.get(e.as_str()).copied().unwrap_or(0),
                    e.as_str()
                )
            })
            .collect();
        let mut s = format!(
            "{} TLS flow{}: {}; {} non-TLS TCP flow{}; {} frame{}",
            self.tls_flows,
            plural(self.tls_flows),
            endings.join(", "),
            self.non_tls_flows,
            plural(self.non_tls_flows),
            self.frames,
            plural(self.frames)
        );
        if let Some(out) = self.filtered_out {
            let shown = self.tls_flows.saturating_sub(out);
            s.push_str(&format!("; {shown} selected, {out} filtered out"));
        }
        let skipped: u64 = self.skipped_frames.values().sum();
        if skipped > 0 {
            let why: Vec<String> = self
                .skipped_frames
                .iter()
                .map(|(k, v)| format!("{v} {k}"))
                .collect();
            s.push_str(&format!(" ({skipped} skipped: {})", why.join(", ")));
        }
        if self.warnings > 0 {
            s.push_str(&format!(
                "; {} warning{}",
                self.warnings,
                plural(self.warnings)
            ));
        }
        s
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
