//! Reads each input and feeds the analysis; reports go to the sink.

use crate::cli::Args;
use crate::sink::ReportSink;
use crate::summary::Summary;
use std::io::{self, Write};
use std::process::ExitCode;
use tlsclose_analysis::{Analyzer, AnalyzerConfig, FlowReport};
use tlsclose_capture::{decode_segment, CaptureError, CaptureReader};
use tlsclose_tcp::{FlowTableConfig, SegMeta};

/// Where reports go, and what the run has counted.
struct Output<'a> {
    sink: &'a mut dyn ReportSink,
    summary: Summary,
    /// The first write error (a closed pipe, a full disk): stop at once.
    error: Option<io::Error>,
    quiet: bool,
}

impl Output<'_> {
    fn emit(&mut self, file: &str, mut report: FlowReport) {
        if self.error.is_some() {
            return;
        }
        report.file = file.to_owned();
        self.summary.count(&report);
        if let Err(e) = self.sink.flow(report) {
            self.error = Some(e);
        }
    }

    fn warn(&mut self, msg: &str) {
        self.summary.warnings += 1;
        if !self.quiet {
            let _ = writeln!(io::stderr(), "tlsclose: warning: {msg}");
        }
    }

    fn check(&mut self) -> io::Result<()> {
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

pub fn run(args: &Args, sink: &mut dyn ReportSink) -> io::Result<ExitCode> {
    let config = AnalyzerConfig {
        table: FlowTableConfig {
            idle_timeout_ns: (args.idle_timeout.max(0.0) * 1e9) as i64,
            max_flows: args.max_flows.max(1),
            reassembly_limit: args.reassembly_limit,
            ..FlowTableConfig::default()
        },
        // the table and JSON Lines do not show ladders; outputs that do
        // (a report, one flow's details) turn this on
        ladder: false,
        ..AnalyzerConfig::default()
    };
    let mut out = Output {
        sink,
        summary: Summary::new(),
        error: None,
        quiet: args.quiet,
    };
    let mut failed = false;
    for input in &args.inputs {
        out.summary.files.push(input.clone());
        match read_one(input, config, &mut out) {
            Ok(()) => {}
            Err(Failure::Output(e)) => return Err(e),
            Err(Failure::Input) => failed = true,
        }
    }
    out.sink.finish(&out.summary)?;
    Ok(if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

enum Failure {
    /// The input could not be read (wholly or from some point on).
    Input,
    /// Writing the reports failed.
    Output(io::Error),
}

fn read_one(input: &str, config: AnalyzerConfig, out: &mut Output<'_>) -> Result<(), Failure> {
    let mut reader = CaptureReader::open(input).map_err(|e| {
        let _ = writeln!(io::stderr(), "tlsclose: error: {e}");
        Failure::Input
    })?;
    let mut analyzer = Analyzer::new(config);
    let mut result = Ok(());
    loop {
        match reader.next_frame() {
            Ok(Some(frame)) => {
                out.summary.frames += 1;
                match decode_segment(&frame) {
                    Ok(seg) => {
                        let meta = SegMeta {
                            frame: frame.number,
                            ts: frame.ts,
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
        out.check().map_err(Failure::Output)?;
    }
    for w in reader.take_warnings() {
        out.warn(&w);
    }
    // flows read before any damage are still reported
    analyzer.finish(&mut |r| out.emit(input, r));
    out.check().map_err(Failure::Output)?;
    let stats = analyzer.stats();
    out.summary.tls_flows += stats.tls_flows;
    out.summary.non_tls_flows += stats.non_tls_flows;
    if stats.table.table_full_drops > 0 {
        out.warn(&format!(
            "{input}: flow table full ({} flows): {} segments of further connections were dropped (raise --max-flows)",
            config.table.max_flows, stats.table.table_full_drops
        ));
    }
    result
}
