//! A run: reads each input (a file, a pipe, standard input; several
//! joined with `--join`) and feeds the analysis, on this thread or on
//! worker threads that own shards of the flow table; reports go to the
//! pipeline (filters, numbering, then the sinks).
//!
//! - `input`: opening an input (progress counter), loading the key logs;
//! - `read`: the reading loop, the capture clock, the workers' engine;
//! - `source`: where frames come from (a reader, or its own thread for a
//!   live input);
//! - `shard`: the flow table split into shards and the threads that own them;
//! - `pipeline`: numbering, filters and the fan-out to the output sinks;
//! - `summary`, `keylogs`, `progress`, `interrupt`: counts over the run,
//!   what the key logs did, the progress line, SIGINT/SIGTERM.

mod input;
pub mod interrupt;
pub mod keylogs;
pub mod pipeline;
pub mod progress;
mod read;
pub mod shard;
pub mod source;
pub mod summary;

use crate::cli::config::Config;
use crate::output::sink::InputInfo;
use crate::run::pipeline::Pipeline;
use crate::run::summary::Summary;
use input::load_keys;
use progress::Progress;
use read::{read_one, Engine, Failure, Reading};
use shard::{OrderedReport, Workers};
use std::io::{self, Write};
use std::process::ExitCode;

/// Where reports go, and what the run has counted.
pub(super) struct RunState<'a> {
    pipeline: &'a mut Pipeline,
    /// The inputs' names (a report's `file` is where the flow ended).
    names: &'a [String],
    /// TLS flows reported so far (for the progress bar).
    emitted: u64,
    summary: Summary,
    /// The first write error (a closed pipe, a full disk): stop at once.
    error: Option<io::Error>,
    quiet: bool,
    /// Index of the input being read.
    input: usize,
    /// A progress bar, only when standard error is a terminal.
    progress: Option<Progress>,
    /// The key log files given, and how the flows fared with them.
    keys: Option<(Vec<String>, crate::run::keylogs::KeyTally)>,
}

impl RunState<'_> {
    fn emit(&mut self, k: OrderedReport) {
        self.emitted += 1;
        if self.error.is_some() {
            return;
        }
        let OrderedReport {
            input, mut report, ..
        } = k;
        report.file = self.names.get(input).cloned().unwrap_or_default();
        self.summary.count(&report);
        if let Some((_, tally)) = &mut self.keys {
            tally.count(&report);
        }
        if let Err(e) = self.pipeline.flow(input, report) {
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

pub fn run(c: &Config, pipeline: &mut Pipeline) -> io::Result<ExitCode> {
    let config = c.analyzer;
    let show_progress = c.progress;
    let mut out = RunState {
        pipeline,
        names: &c.inputs,
        emitted: 0,
        summary: Summary::new(),
        error: None,
        quiet: c.quiet,
        input: 0,
        progress: None,
        keys: None,
    };
    let Ok(keys) = load_keys(&c.keylogs, &mut out) else {
        return Ok(ExitCode::from(2));
    };
    // one copy for every thread
    let keys = keys.map(std::sync::Arc::new);
    let threads = c.threads;
    let mut engine = if threads > 1 {
        match Workers::start(threads, &config, keys.as_ref()) {
            Ok(w) => Engine::Threads(w),
            Err(e) => {
                out.warn(&format!("cannot start threads ({e}): reading on one"));
                Engine::inline(&config, keys.as_ref())
            }
        }
    } else {
        Engine::inline(&config, keys.as_ref())
    };
    let mut reading = Reading::new(&mut engine, config, c.join, c.inputs.len());
    let mut failed = false;
    for (index, input) in c.inputs.iter().enumerate() {
        if crate::run::interrupt::caught() {
            break;
        }
        out.summary.files.push(input.clone());
        out.input = index;
        out.pipeline.inputs.push(InputInfo {
            name: input.clone(),
            ..InputInfo::default()
        });
        match read_one(input, &mut reading, &mut out, show_progress) {
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
    match reading.end_group(&mut out) {
        Ok(()) => {}
        Err(Failure::Output(e)) => return Err(e),
        Err(Failure::Input) => failed = true,
    }
    let placement = reading.take_placement();
    drop(engine);
    out.pipeline.finish(&mut out.summary)?;
    if let Some((names, tally)) = &out.keys {
        if !c.quiet {
            let _ = writeln!(io::stderr(), "tlsclose: {}", tally.line(names));
        }
    }
    if let Some(path) = &c.extract {
        let flows = out.pipeline.extract.take().unwrap_or_default();
        let done = crate::output::extract::extract(path, &c.inputs, &flows, &placement)?;
        if !c.quiet {
            let _ = writeln!(
                io::stderr(),
                "tlsclose: wrote {} packet{} of {} flow{} to {}",
                done.packets,
                tlsclose_audit::units::plural(done.packets),
                done.flows,
                tlsclose_audit::units::plural(done.flows as u64),
                path.display()
            );
        }
    }
    if let Some((signal, code)) = crate::run::interrupt::which() {
        let _ = writeln!(
            io::stderr(),
            "tlsclose: interrupted by {signal}: reading stopped; the {} TLS flow{} read so far \
             (those still open as `open`) and the summary were written",
            out.summary.tls_flows,
            tlsclose_audit::units::plural(out.summary.tls_flows)
        );
        return Ok(ExitCode::from(code));
    }
    Ok(if failed {
        ExitCode::from(2)
    } else if out.pipeline.failing > 0 || out.pipeline.flow_not_found {
        // a red CI step says why (even with -q)
        for why in out.pipeline.failure_reasons() {
            let _ = writeln!(io::stderr(), "tlsclose: exit status 1: {why}");
        }
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
