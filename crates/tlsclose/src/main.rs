//! `tlsclose`: how did each TLS connection in a capture end?
#![forbid(unsafe_code)]

mod audit;
mod cli;
mod csvfmt;
mod described;
mod detail;
mod evidence;
mod extract;
mod generate;
mod group;
mod html;
mod httpfields;
mod human;
mod idle;
mod interrupt;
mod json;
mod keys;
mod md;
mod mermaid;
mod pipeline;
mod progress;
mod report_args;
mod rows;
mod run;
mod select;
mod shard;
mod sink;
mod source;
mod summary;
mod table;
mod ticket;
mod words;

use clap::Parser;
use std::io::{self, Write};
use std::process::ExitCode;

/// Whether the output is the flow table (collected, printed at the end).
fn table_listing(args: &cli::Args) -> bool {
    let r = &args.report;
    args.format == cli::Format::Table && r.flow.is_none() && r.group_by.is_none() && !r.audit
}

fn main() -> ExitCode {
    let args = cli::Args::parse();
    if let Err(msg) = args.check() {
        use clap::CommandFactory;
        cli::Args::command()
            .error(clap::error::ErrorKind::ArgumentConflict, msg)
            .exit();
    }
    if let Some(what) = args.report.generate {
        let mut out = io::stdout().lock();
        return match generate::generate(what, &mut out).and_then(|()| out.flush()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
            Err(e) => {
                let _ = writeln!(io::stderr(), "tlsclose: cannot write output: {e}");
                ExitCode::from(2)
            }
        };
    }
    if let Some(note) = args.flow_timeout_note().filter(|_| !args.quiet) {
        let _ = writeln!(io::stderr(), "tlsclose: note: {note}");
    }
    // Ctrl-C or SIGTERM: the flows read so far and the summary are still
    // written (interrupt.rs)
    if let Err(e) = interrupt::install() {
        let _ = writeln!(
            io::stderr(),
            "tlsclose: warning: Ctrl-C will not report: {e}"
        );
    }
    if let Some(out) = &args.report.extract {
        if let Err(e) = extract::check(out, &args.inputs) {
            let _ = writeln!(io::stderr(), "tlsclose: error: {e}");
            return ExitCode::from(2);
        }
    }
    let live = run::any_live(&args.inputs);
    if live && table_listing(&args) && !args.quiet {
        let _ = writeln!(
            io::stderr(),
            "tlsclose: reading a live input: the table is printed when the input ends (or at \
             Ctrl-C); --format json writes each flow as it ends"
        );
    }
    let stdout = io::stdout();
    // reading a pipe (`tcpdump -w - | tlsclose -`): a flow's line goes out
    // as the flow ends, not when a buffer fills
    let out: Box<dyn Write> = if live {
        Box::new(io::LineWriter::with_capacity(1 << 16, stdout.lock()))
    } else {
        Box::new(io::BufWriter::with_capacity(1 << 16, stdout.lock()))
    };
    let mut pipeline = match pipeline::Pipeline::new(&args, out) {
        Ok(p) => p,
        Err(e) => {
            let _ = writeln!(io::stderr(), "tlsclose: cannot write output: {e}");
            return ExitCode::from(2);
        }
    };
    match run::run(&args, &mut pipeline) {
        Ok(code) => code,
        // `tlsclose big.pcap | head`: a closed pipe is a quiet end
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr(), "tlsclose: cannot write output: {e}");
            ExitCode::from(2)
        }
    }
}
