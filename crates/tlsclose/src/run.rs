//! Reads each input and feeds the analysis; reports go to the pipeline
//! (filters, then the sinks).

use crate::cli::Args;
use crate::pipeline::Pipeline;
use crate::progress::{self, Progress};
use crate::sink::InputInfo;
use crate::summary::Summary;
use std::io::{self, Read, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tlsclose_analysis::{
    Analyzer, AnalyzerConfig, AnalyzerStats, FlowLimits, FlowReport, KeyStore,
};
use tlsclose_capture::{decode_segment, CaptureError, CaptureFormat, CaptureReader};
use tlsclose_decrypt::KeyLog;
use tlsclose_tcp::{CaptureClock, ClockConfig, FlowTableConfig, SegMeta};
use tlsclose_tls::HelloLimits;

/// Where reports go, and what the run has counted.
struct Output<'a> {
    pipeline: &'a mut Pipeline,
    summary: Summary,
    /// The first write error (a closed pipe, a full disk): stop at once.
    error: Option<io::Error>,
    quiet: bool,
    /// Index of the input being read.
    input: usize,
    /// A progress bar, only when standard error is a terminal.
    progress: Option<Progress>,
}

impl Output<'_> {
    fn emit(&mut self, file: &str, mut report: FlowReport) {
        if self.error.is_some() {
            return;
        }
        report.file = file.to_owned();
        self.summary.count(&report);
        if let Err(e) = self.pipeline.flow(self.input, report) {
            self.error = Some(e);
        }
    }

    fn warn(&mut self, msg: &str) {
        self.summary.warnings += 1;
        if !self.quiet {
            if let Some(p) = &mut self.progress {
                p.clear();
            }
            let _ = writeln!(io::stderr(), "tlsclose: warning: {msg}");
        }
    }

    fn info(&mut self) -> Option<&mut InputInfo> {
        self.pipeline.inputs.get_mut(self.input)
    }

    fn check(&mut self) -> io::Result<()> {
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

pub fn run(args: &Args, pipeline: &mut Pipeline) -> io::Result<ExitCode> {
    let config = AnalyzerConfig {
        table: FlowTableConfig {
            idle_timeout_ns: (args.idle_timeout.max(0.0) * 1e9) as i64,
            max_flows: args.max_flows.max(1),
            reassembly_limit: args.reassembly_limit,
            reassembly_total_limit: args.reassembly_total_limit,
            ..FlowTableConfig::default()
        },
        limits: FlowLimits {
            max_alerts: args.max_alerts,
            hello: HelloLimits {
                max_name_len: args.max_name_len,
                ..HelloLimits::default()
            },
        },
        // the table and JSON Lines do not show ladders; outputs that do
        // (a report, one flow's details) turn this on
        ladder: args.report.wants_ladder(),
        ..AnalyzerConfig::default()
    };
    let show_progress = progress::wanted(args.quiet || args.report.no_progress);
    let mut out = Output {
        pipeline,
        summary: Summary::new(),
        error: None,
        quiet: args.quiet,
        input: 0,
        progress: None,
    };
    let Ok(keys) = load_keys(args, &mut out) else {
        return Ok(ExitCode::from(2));
    };
    let mut failed = false;
    for (index, input) in args.inputs.iter().enumerate() {
        out.summary.files.push(input.clone());
        out.input = index;
        out.pipeline.inputs.push(InputInfo {
            name: input.clone(),
            ..InputInfo::default()
        });
        match read_one(input, config, keys.as_ref(), &mut out, show_progress) {
            Ok(()) => {}
            Err(Failure::Output(e)) => return Err(e),
            Err(Failure::Input) => {
                failed = true;
                if let Some(i) = out.info() {
                    i.failed = true;
                }
            }
        }
        out.progress = None;
    }
    out.pipeline.finish(&mut out.summary)?;
    if let Some(path) = &args.report.extract {
        let flows = out.pipeline.extract.take().unwrap_or_default();
        let done = crate::extract::extract(path, &args.inputs, &flows)?;
        if !args.quiet {
            let _ = writeln!(
                io::stderr(),
                "tlsclose: wrote {} packet{} of {} flow{} to {}",
                done.packets,
                crate::human::plural(done.packets),
                done.flows,
                crate::human::plural(done.flows as u64),
                path.display()
            );
        }
    }
    Ok(if failed {
        ExitCode::from(2)
    } else if out.pipeline.failing > 0 || out.pipeline.flow_not_found {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Whether an input is live (standard input or a path that is a pipe, a
/// FIFO, a socket, not a regular file): then each flow's report is written
/// out as soon as the flow ends.
pub fn any_live(inputs: &[String]) -> bool {
    inputs.iter().any(|i| {
        if i == "-" {
            tlsclose_capture::stdin_is_live()
        } else {
            std::fs::metadata(i)
                .map(|m| tlsclose_capture::is_live_type(&m.file_type()))
                .unwrap_or(false)
        }
    })
}

/// A progress bar and the count of bytes read that it shows.
type Counter = (Progress, Arc<AtomicU64>);

/// A file read through a byte counter, for the progress bar.
struct Counted<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Opens an input; with a progress bar, through a counter of the bytes
/// read from the file (compressed bytes for a gzip file: its size on disk
/// is the total).
fn open(
    input: &str,
    show_progress: bool,
) -> Result<(CaptureReader, Option<Counter>), CaptureError> {
    if !show_progress {
        return Ok((CaptureReader::open(input)?, None));
    }
    let count = Arc::new(AtomicU64::new(0));
    let (reader, total) = if input == "-" {
        let counted = Counted {
            inner: io::stdin(),
            count: Arc::clone(&count),
        };
        let reader = if tlsclose_capture::stdin_is_live() {
            CaptureReader::from_live_reader("<stdin>", Box::new(counted))?
        } else {
            CaptureReader::from_reader_prefetched("<stdin>", Box::new(counted))?
        };
        (reader, None)
    } else {
        let file = std::fs::File::open(input).map_err(|source| CaptureError::Io {
            file: input.to_string(),
            source,
        })?;
        let live = tlsclose_capture::is_live(&file);
        let total = file.metadata().ok().filter(|_| !live).map(|m| m.len());
        let counted = Counted {
            inner: file,
            count: Arc::clone(&count),
        };
        let reader = if live {
            CaptureReader::from_live_reader(input, Box::new(counted))?
        } else {
            CaptureReader::from_reader_prefetched(input, Box::new(counted))?
        };
        (reader, total)
    };
    Ok((reader, Some((Progress::new(input, total), count))))
}

/// The key logs of `--keylog` and `$SSLKEYLOGFILE`; None when there are
/// none (decryption then costs nothing). A `--keylog` that cannot be read
/// is an error; an unreadable `$SSLKEYLOGFILE` only a warning (the variable
/// may be set for other programs). Skipped lines are warnings.
fn load_keys(args: &Args, out: &mut Output<'_>) -> Result<Option<KeyStore>, ()> {
    let mut files: Vec<(String, bool)> = args.keylog.iter().map(|p| (p.clone(), true)).collect();
    if let Some(env) = std::env::var_os("SSLKEYLOGFILE").filter(|v| !v.is_empty()) {
        files.push((env.to_string_lossy().into_owned(), false));
    }
    if files.is_empty() {
        return Ok(None);
    }
    let mut log = KeyLog::new();
    for (path, given) in files {
        match log.add_file(&path) {
            Ok(warnings) => {
                for w in warnings {
                    out.warn(&w.to_string());
                }
            }
            Err(e) if given => {
                let _ = writeln!(io::stderr(), "tlsclose: error: {e}");
                return Err(());
            }
            Err(e) => out.warn(&format!("{e} (SSLKEYLOGFILE)")),
        }
    }
    Ok(Some(KeyStore::new(log)))
}

/// Hands the Decryption Secrets Blocks read so far to the analyzer.
fn add_secrets(
    reader: &mut CaptureReader,
    analyzer: &mut Analyzer,
    dsbs: &mut usize,
    input: &str,
    out: &mut Output<'_>,
) {
    for (kind, data) in reader.take_decryption_secrets() {
        *dsbs += 1;
        let source = format!("{input} (Decryption Secrets Block {dsbs})");
        for w in analyzer.add_decryption_secrets(kind, &data, &source) {
            out.warn(&w.to_string());
        }
    }
}

enum Failure {
    /// The input could not be read (wholly or from some point on).
    Input,
    /// Writing the reports failed.
    Output(io::Error),
}

fn read_one(
    input: &str,
    config: AnalyzerConfig,
    keys: Option<&KeyStore>,
    out: &mut Output<'_>,
    show_progress: bool,
) -> Result<(), Failure> {
    let (mut reader, counter) = open(input, show_progress).map_err(|e| {
        let _ = writeln!(io::stderr(), "tlsclose: error: {e}");
        Failure::Input
    })?;
    let counter = counter.map(|(bar, count)| {
        out.progress = Some(bar);
        count
    });
    if let Some(i) = out.info() {
        i.format = Some(reader.format());
        i.gzip = reader.is_gzip();
        if input != "-" {
            i.size = std::fs::metadata(input).ok().map(|m| m.len());
        }
    }
    // a pcapng may carry its key log (Decryption Secrets Blocks): its flows
    // share a store that the blocks fill as they come
    let pcapng = reader.format() == CaptureFormat::PcapNg;
    let keys = match (keys, reader.format()) {
        (Some(k), _) => Some(k.clone()),
        (None, CaptureFormat::PcapNg) => Some(KeyStore::default()),
        (None, CaptureFormat::Pcap) => None,
    };
    let mut analyzer = match keys {
        Some(k) => Analyzer::with_keys(config, k),
        None => Analyzer::new(config),
    };
    // the time the flow table and the flows go by: robust to timestamps
    // that jump (tcp/src/clock.rs); it sees every frame, TCP or not
    let mut clock = CaptureClock::new(ClockConfig::for_idle_timeout(config.table.idle_timeout_ns));
    let mut dsbs = 0usize;
    let frames_before = out.summary.frames;
    let mut cut = false;
    let mut result = Ok(());
    loop {
        match reader.next_frame() {
            Ok(Some(frame)) => {
                out.summary.frames += 1;
                if let Some(i) = out.pipeline.inputs.get_mut(out.input) {
                    i.saw(frame.ts);
                }
                if frame.number & 0x3ff == 0 {
                    if let (Some(bar), Some(count)) = (&mut out.progress, &counter) {
                        bar.tick(
                            count.load(Ordering::Relaxed),
                            out.summary.tls_flows + analyzer.stats().tls_flows,
                        );
                    }
                }
                let ts = clock.tick(frame.number, frame.ts);
                if clock.has_warnings() {
                    for w in clock.take_warnings() {
                        out.warn(&format!("{input}: {w}"));
                    }
                }
                match decode_segment(&frame) {
                    Ok(seg) => {
                        let meta = SegMeta {
                            frame: frame.number,
                            ts,
                        };
                        analyzer.segment(&seg, meta, &mut |r| out.emit(input, r));
                    }
                    Err(why) => {
                        *out.summary
                            .skipped_frames
                            .entry(why.to_string())
                            .or_default() += 1
                    }
                }
            }
            Ok(None) => break,
            Err(e) => {
                if let CaptureError::Truncated { .. } = e {
                    cut = true;
                    out.warn(&e.to_string());
                } else {
                    let _ = writeln!(io::stderr(), "tlsclose: error: {e}");
                    result = Err(Failure::Input);
                }
                break;
            }
        }
        for w in reader.take_warnings() {
            out.warn(&w);
        }
        if pcapng {
            add_secrets(&mut reader, &mut analyzer, &mut dsbs, input, out);
        }
        out.check().map_err(Failure::Output)?;
    }
    for w in reader.take_warnings() {
        out.warn(&w);
    }
    add_secrets(&mut reader, &mut analyzer, &mut dsbs, input, out);
    if let Some(p) = &mut out.progress {
        p.clear();
    }
    let bytes_read = reader.stats().bytes_read;
    if let Some(i) = out.info() {
        i.bytes_read = bytes_read;
    }
    // flows read before any damage are still reported
    analyzer.finish(&mut |r| out.emit(input, r));
    out.check().map_err(Failure::Output)?;
    let stats = analyzer.stats();
    out.summary.tls_flows += stats.tls_flows;
    out.summary.non_tls_flows += stats.non_tls_flows;
    let skipped = reader.stats().skipped_bytes;
    out.summary.input_skipped_bytes += skipped;
    if out.summary.frames == frames_before && result.is_ok() && !cut {
        out.warn(&format!(
            "{input}: no packets after the file header ({bytes_read} bytes read)"
        ));
    }
    limit_warnings(input, &config, &stats, out);
    result
}

/// One warning per limit the input reached, and the counts in the summary.
fn limit_warnings(
    input: &str,
    config: &AnalyzerConfig,
    stats: &AnalyzerStats,
    out: &mut Output<'_>,
) {
    let (t, l) = (&stats.table, &stats.limits);
    let counts = &mut out.summary.limits;
    counts.flows_evicted += t.evicted_flows;
    counts.reassembly_limit_gaps += l.reassembly_limit_gaps;
    counts.reassembly_total_limit_gaps += l.reassembly_total_limit_gaps;
    counts.alert_capped_flows += l.alert_capped_flows;
    counts.alerts_not_kept += l.alerts_not_kept;
    counts.names_cut_flows += l.names_cut_flows;
    counts.buffers_shed_flows += l.buffers_shed_flows;
    let mut warnings = Vec::new();
    if t.evicted_flows > 0 {
        warnings.push(format!(
            "flow table full (--max-flows {}): {} flows idle the longest were ended early and \
             reported as they were",
            config.table.max_flows, t.evicted_flows
        ));
    }
    if t.table_full_drops > 0 {
        warnings.push(format!(
            "flow table full (--max-flows {}): {} segments of further connections were dropped",
            config.table.max_flows, t.table_full_drops
        ));
    }
    if l.reassembly_limit_gaps > 0 {
        warnings.push(format!(
            "out-of-order buffer of a direction full (--reassembly-limit {}): {} holes given up \
             as gaps",
            config.table.reassembly_limit, l.reassembly_limit_gaps
        ));
    }
    if l.reassembly_total_limit_gaps > 0 {
        warnings.push(format!(
            "out-of-order bytes over all flows at their limit (--reassembly-total-limit {}): {} \
             holes given up as gaps",
            config.table.reassembly_total_limit, l.reassembly_total_limit_gaps
        ));
    }
    if l.buffers_shed_flows > 0 {
        warnings.push(format!(
            "bytes held over all flows at their limit (--reassembly-total-limit {}): {} flows \
             dropped a partial hello or record body",
            config.table.reassembly_total_limit, l.buffers_shed_flows
        ));
    }
    if l.alert_capped_flows > 0 {
        warnings.push(format!(
            "{} flows sent more alerts than kept (--max-alerts {}): {} alerts counted, not kept",
            l.alert_capped_flows, config.limits.max_alerts, l.alerts_not_kept
        ));
    }
    if l.names_cut_flows > 0 {
        warnings.push(format!(
            "{} flows had a server name or ALPN name longer than kept (--max-name-len {}): cut",
            l.names_cut_flows, config.limits.hello.max_name_len
        ));
    }
    for w in warnings {
        out.warn(&format!("{input}: {w}"));
    }
}
