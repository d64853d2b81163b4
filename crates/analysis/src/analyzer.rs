//! Wires the TCP flow table to the per-flow state and hands out reports.

use crate::flow::FlowState;
use crate::report::FlowReport;
use crate::verdict;
use tlsclose_capture::Segment;
use tlsclose_tcp::{Finished, FlowTable, FlowTableConfig, FlowTableStats, SegMeta};
use tlsclose_tls::DeframerConfig;

#[derive(Debug, Clone, Copy)]
pub struct AnalyzerConfig {
    pub table: FlowTableConfig,
    pub deframer: DeframerConfig,
    /// Fill [`FlowReport::ladder`] (the last records and FIN/RST of each
    /// side, as text). It costs a few allocations per flow: outputs that do
    /// not show it turn it off.
    pub ladder: bool,
}

impl Default for AnalyzerConfig {
    fn default() -> Self {
        AnalyzerConfig {
            table: FlowTableConfig::default(),
            deframer: DeframerConfig::default(),
            ladder: true,
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct AnalyzerStats {
    pub tls_flows: u64,
    /// TCP flows without TLS: counted, not listed.
    pub non_tls_flows: u64,
    pub table: FlowTableStats,
}

/// Segments in, one [`FlowReport`] per TLS flow out (as each flow ends).
pub struct Analyzer {
    table: FlowTable<FlowState>,
    config: AnalyzerConfig,
    stats: AnalyzerStats,
}

impl Analyzer {
    pub fn new(config: AnalyzerConfig) -> Self {
        Analyzer {
            table: FlowTable::new(config.table),
            config,
            stats: AnalyzerStats::default(),
        }
    }

    pub fn segment(&mut self, seg: &Segment<'_>, meta: SegMeta, out: &mut dyn FnMut(FlowReport)) {
        let deframer = self.config.deframer;
        let stats = &mut self.stats;
        let ladder = self.config.ladder;
        self.table
            .process(seg, meta, &mut |_| FlowState::new(deframer), &mut |fin| {
                Self::ended(stats, fin, ladder, out)
            });
    }

    /// The input is over: every flow still open is reported.
    pub fn finish(&mut self, out: &mut dyn FnMut(FlowReport)) {
        let stats = &mut self.stats;
        let ladder = self.config.ladder;
        self.table
            .finish(&mut |fin| Self::ended(stats, fin, ladder, out));
    }

    pub fn stats(&self) -> AnalyzerStats {
        AnalyzerStats {
            table: *self.table.stats(),
            ..self.stats
        }
    }

    pub fn live_flows(&self) -> usize {
        self.table.live_flows()
    }

    fn ended(
        stats: &mut AnalyzerStats,
        mut fin: Finished<FlowState>,
        ladder: bool,
        out: &mut dyn FnMut(FlowReport),
    ) {
        // the end of the capture (or eviction) ends both streams
        fin.consumer.end_of_stream(tlsclose_tcp::Dir::AtoB);
        fin.consumer.end_of_stream(tlsclose_tcp::Dir::BtoA);
        match verdict::report(&fin, ladder) {
            Some(r) => {
                stats.tls_flows += 1;
                out(r);
            }
            None => stats.non_tls_flows += 1,
        }
    }
}
