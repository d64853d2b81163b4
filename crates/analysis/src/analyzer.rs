//! Wires the TCP flow table to the per-flow state and hands out reports.

use crate::flow::FlowState;
use crate::keyed::KeyStore;
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
    /// TLS flows read with keys from start to end.
    pub decrypted_flows: u64,
    /// TCP flows without TLS: counted, not listed.
    pub non_tls_flows: u64,
    pub table: FlowTableStats,
}

/// Segments in, one [`FlowReport`] per TLS flow out (as each flow ends).
pub struct Analyzer {
    table: FlowTable<FlowState>,
    config: AnalyzerConfig,
    /// None when no keys were given: decryption then costs nothing.
    keys: Option<KeyStore>,
    stats: AnalyzerStats,
}

impl Analyzer {
    pub fn new(config: AnalyzerConfig) -> Self {
        Analyzer {
            table: FlowTable::new(config.table),
            config,
            keys: None,
            stats: AnalyzerStats::default(),
        }
    }

    /// An analyzer that reads the records of flows whose secrets `keys`
    /// holds (key logs and, later, Decryption Secrets Blocks added to it).
    pub fn with_keys(config: AnalyzerConfig, keys: KeyStore) -> Self {
        Analyzer {
            keys: Some(keys),
            ..Analyzer::new(config)
        }
    }

    /// A pcapng Decryption Secrets Block: its secrets serve the flows from
    /// now on (and those already open whose ServerHello is still to come).
    pub fn add_decryption_secrets(
        &mut self,
        secrets_type: u32,
        data: &[u8],
        source: &str,
    ) -> Vec<tlsclose_decrypt::KeyLogWarning> {
        self.keys
            .get_or_insert_with(KeyStore::default)
            .add_dsb(secrets_type, data, source)
    }

    pub fn segment(&mut self, seg: &Segment<'_>, meta: SegMeta, out: &mut dyn FnMut(FlowReport)) {
        let deframer = self.config.deframer;
        let keys = &self.keys;
        let stats = &mut self.stats;
        let ladder = self.config.ladder;
        self.table.process(
            seg,
            meta,
            &mut |_| FlowState::with_keys(deframer, keys.clone()),
            &mut |fin| Self::ended(stats, fin, ladder, out),
        );
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
                if r.decrypted {
                    stats.decrypted_flows += 1;
                }
                out(r);
            }
            None => stats.non_tls_flows += 1,
        }
    }
}
