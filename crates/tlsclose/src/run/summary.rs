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
    /// Flows with a keep-alive race (a request sent on a connection the
    /// other side had closed).
    pub keepalive_races: u64,
    pub warnings: u64,
    /// Bytes of the inputs skipped as damaged (resynchronising, unusable
    /// records).
    pub input_skipped_bytes: u64,
    /// How often each resource limit was reached.
    pub limits: LimitCounts,
    /// TLS flows left out by the filters (`--ending`, `--server`, …); absent
    /// when no filter was given. `endings` counts every flow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filtered_out: Option<u64>,
}

/// How often each resource limit (see `tlsclose --help`) was reached.
#[derive(Debug, Default, Serialize)]
pub struct LimitCounts {
    /// Flows ended early because the flow table was full (--max-flows).
    pub flows_evicted: u64,
    /// Holes given up because a direction's out-of-order buffer was full
    /// (--reassembly-limit), or the bytes held over all flows were
    /// (--reassembly-total-limit).
    pub reassembly_limit_gaps: u64,
    pub reassembly_total_limit_gaps: u64,
    /// Flows with more alerts than kept, and the alerts not kept (--max-alerts).
    pub alert_capped_flows: u64,
    pub alerts_not_kept: u64,
    /// Flows whose server name or ALPN name was cut (--max-name-len).
    pub names_cut_flows: u64,
    /// Flows that dropped a partial hello or record body: the bytes held
    /// over all flows were at --reassembly-total-limit.
    pub buffers_shed_flows: u64,
}

impl LimitCounts {
    /// What was reached, for people.
    fn line(&self) -> Vec<String> {
        let mut v = Vec::new();
        let mut add = |n: u64, what: &str| {
            if n > 0 {
                v.push(format!("{n} {what}"));
            }
        };
        add(self.flows_evicted, "flows evicted");
        add(
            self.reassembly_limit_gaps + self.reassembly_total_limit_gaps,
            "reassembly holes forced",
        );
        add(self.alerts_not_kept, "alerts not kept");
        add(self.names_cut_flows, "names cut");
        add(self.buffers_shed_flows, "flows' partial hellos dropped");
        v
    }
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
        if r.keepalive_race {
            self.keepalive_races += 1;
        }
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
        if self.keepalive_races > 0 {
            s.push_str(&format!(
                " ({} keep-alive race{})",
                self.keepalive_races,
                plural(self.keepalive_races)
            ));
        }
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
        if self.input_skipped_bytes > 0 {
            s.push_str(&format!(
                "; {} damaged input bytes skipped",
                self.input_skipped_bytes
            ));
        }
        let limits = self.limits.line();
        if !limits.is_empty() {
            s.push_str(&format!("; limits reached: {}", limits.join(", ")));
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
