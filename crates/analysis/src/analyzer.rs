//! Wires the TCP flow table to the per-flow state and hands out reports.

use crate::flow::{FlowLimits, FlowSettings, FlowState};
use crate::keyed::KeyStore;
use crate::report::FlowReport;
use crate::verdict;
use std::sync::Arc;
use tlsclose_capture::Segment;
use tlsclose_tcp::{
    Finished, FlowTable, FlowTableConfig, FlowTableStats, ReassemblyStats, SegMeta,
};
use tlsclose_tls::DeframerConfig;

#[derive(Debug, Clone, Copy)]
pub struct AnalyzerConfig {
    pub table: FlowTableConfig,
    pub deframer: DeframerConfig,
    /// Fill [`FlowReport::ladder`] (the last records and FIN/RST of each
    /// side, as text). It costs a few allocations per flow: outputs that do
    /// not show it turn it off.
    pub ladder: bool,
    /// What each flow keeps at most (alerts, names).
    pub limits: FlowLimits,
}

impl Default for AnalyzerConfig {
    fn default() -> Self {
        AnalyzerConfig {
            table: FlowTableConfig::default(),
            deframer: DeframerConfig::default(),
            ladder: true,
            limits: FlowLimits::default(),
        }
    }
}

/// How often each resource limit was reached (over every flow, TLS or
/// not): nothing is dropped silently. The flow table's own counts
/// (evicted flows, the total held) are in [`FlowTableStats`].
#[derive(Debug, Clone, Copy, Default)]
pub struct LimitStats {
    /// Flows that kept only the first `max_alerts` alerts of a direction,
    /// and the alerts counted but not kept.
    pub alert_capped_flows: u64,
    pub alerts_not_kept: u64,
    /// Flows whose SNI or ALPN was longer than the name limits (cut).
    pub names_cut_flows: u64,
    /// Flows that dropped a partial hello or record body because the bytes
    /// held over all flows were at their limit.
    pub buffers_shed_flows: u64,
    /// Holes given up because a direction's out-of-order buffer was full,
    /// and because the bytes held over all flows were.
    pub reassembly_limit_gaps: u64,
    pub reassembly_total_limit_gaps: u64,
}

impl LimitStats {
    pub fn add(&mut self, o: &LimitStats) {
        self.alert_capped_flows += o.alert_capped_flows;
        self.alerts_not_kept += o.alerts_not_kept;
        self.names_cut_flows += o.names_cut_flows;
        self.buffers_shed_flows += o.buffers_shed_flows;
        self.reassembly_limit_gaps += o.reassembly_limit_gaps;
        self.reassembly_total_limit_gaps += o.reassembly_total_limit_gaps;
    }
}

impl AnalyzerStats {
    /// Adds the counts of another analyzer (one share of a flow table split
    /// in several); peaks add up too (an upper bound of the joint peak).
    pub fn add(&mut self, o: &AnalyzerStats) {
        self.tls_flows += o.tls_flows;
        self.decrypted_flows += o.decrypted_flows;
        self.non_tls_flows += o.non_tls_flows;
        self.limits.add(&o.limits);
        let (t, u) = (&mut self.table, &o.table);
        t.segments += u.segments;
        t.flows += u.flows;
        t.late_segments += u.late_segments;
        t.table_full_drops += u.table_full_drops;
        t.evicted_flows += u.evicted_flows;
        t.closed_not_remembered += u.closed_not_remembered;
        t.port_reuses += u.port_reuses;
        t.peak_flows += u.peak_flows;
        t.total_limit_hits += u.total_limit_hits;
        t.held_bytes += u.held_bytes;
        t.peak_held_bytes += u.peak_held_bytes;
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
    pub limits: LimitStats,
}

/// A flow [`Analyzer::finish_order`] lists, to end with
/// [`Analyzer::finish_one`].
#[derive(Debug, Clone, Copy)]
pub struct FinishTicket {
    key: tlsclose_tcp::FlowKey,
    reason: tlsclose_tcp::EndReason,
}

/// Segments in, one [`FlowReport`] per TLS flow out (as each flow ends).
pub struct Analyzer {
    table: FlowTable<FlowState>,
    config: AnalyzerConfig,
    /// What the flows made from now on share (the keys: None when no keys
    /// were given, and decryption then costs nothing).
    settings: Arc<FlowSettings>,
    stats: AnalyzerStats,
}

impl Analyzer {
    pub fn new(config: AnalyzerConfig) -> Self {
        Analyzer {
            table: FlowTable::new(config.table),
            config,
            settings: Arc::new(FlowSettings {
                deframer: config.deframer,
                limits: config.limits,
                keys: None,
            }),
            stats: AnalyzerStats::default(),
        }
    }

    /// An analyzer that reads the records of flows whose secrets `keys`
    /// holds (key logs and, later, Decryption Secrets Blocks added to it).
    pub fn with_keys(config: AnalyzerConfig, keys: KeyStore) -> Self {
        let mut a = Analyzer::new(config);
        a.settings = Arc::new(FlowSettings {
            keys: Some(keys),
            ..FlowSettings::clone(&a.settings)
        });
        a
    }

    /// A pcapng Decryption Secrets Block: its secrets serve the flows from
    /// now on (and those already open whose ServerHello is still to come).
    pub fn add_decryption_secrets(
        &mut self,
        secrets_type: u32,
        data: &[u8],
        source: &str,
    ) -> Vec<tlsclose_decrypt::KeyLogWarning> {
        if let Some(keys) = &self.settings.keys {
            return keys.add_dsb(secrets_type, data, source);
        }
        // the first secrets of the run: the flows made from now on have
        // keys (those already open keep none, as before any were given)
        let keys = KeyStore::default();
        let warnings = keys.add_dsb(secrets_type, data, source);
        self.settings = Arc::new(FlowSettings {
            keys: Some(keys),
            ..FlowSettings::clone(&self.settings)
        });
        warnings
    }

    pub fn segment(&mut self, seg: &Segment<'_>, meta: SegMeta, out: &mut dyn FnMut(FlowReport)) {
        let settings = &self.settings;
        let stats = &mut self.stats;
        let ladder = self.config.ladder;
        self.table.process(
            seg,
            meta,
            &mut |_| FlowState::new(Arc::clone(settings)),
            &mut |fin| Self::ended(stats, fin, ladder, out),
        );
    }

    /// The capture clock says `now` (with
    /// [`FlowTableConfig::sweep_on_segments`] off): idle flows, and flows
    /// past their linger after an RST or their wait for a final ACK, are
    /// reported.
    pub fn tick(&mut self, now: tlsclose_capture::Timestamp, out: &mut dyn FnMut(FlowReport)) {
        let stats = &mut self.stats;
        let ladder = self.config.ladder;
        self.table
            .tick(now, &mut |fin| Self::ended(stats, fin, ladder, out));
    }

    /// The input is over: every flow still open is reported.
    pub fn finish(&mut self, out: &mut dyn FnMut(FlowReport)) {
        let stats = &mut self.stats;
        let ladder = self.config.ladder;
        self.table
            .finish(&mut |fin| Self::ended(stats, fin, ladder, out));
    }

    /// [`Analyzer::finish`] one flow at a time, for a caller that merges
    /// several analyzers' ends as they come: the flows still open by first
    /// frame (the frame, and what to pass to [`Analyzer::finish_one`]).
    pub fn finish_order(&self) -> Vec<(u64, FinishTicket)> {
        self.table
            .finish_order()
            .into_iter()
            .map(|(frame, key, reason)| (frame, FinishTicket { key, reason }))
            .collect()
    }

    /// Ends one flow of [`Analyzer::finish_order`]; its report, if TLS.
    pub fn finish_one(&mut self, t: FinishTicket, out: &mut dyn FnMut(FlowReport)) {
        let stats = &mut self.stats;
        let ladder = self.config.ladder;
        self.table.end_at_finish(t.key, t.reason, &mut |fin| {
            Self::ended(stats, fin, ladder, out)
        });
    }

    /// After the last [`Analyzer::finish_one`]: the table forgets the
    /// capture, as [`Analyzer::finish`] leaves it.
    pub fn finished(&mut self) {
        self.table.clear();
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

    fn count_limits(l: &mut LimitStats, fin: &Finished<FlowState>) {
        let flow = &fin.consumer.facts;
        let dropped = flow.alerts_dropped();
        if dropped > 0 {
            l.alert_capped_flows += 1;
            l.alerts_not_kept += dropped;
        }
        if flow.names_cut {
            l.names_cut_flows += 1;
        }
        if flow.buffers_shed {
            l.buffers_shed_flows += 1;
        }
        let r: &[ReassemblyStats; 2] = &fin.reassembly;
        l.reassembly_limit_gaps += r.iter().map(|s| s.forced_gaps).sum::<u64>();
        l.reassembly_total_limit_gaps += r.iter().map(|s| s.shared_limit_gaps).sum::<u64>();
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
        Self::count_limits(&mut stats.limits, &fin);
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
