//! `tlsclose`: how did each TLS connection in a capture end?
#![forbid(unsafe_code)]

mod cli;
mod output;
mod report;
mod run;
mod text;

use clap::Parser;
use std::io::{self, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let config = match cli::config::Config::new(cli::Args::parse()) {
        Ok(c) => c,
        Err(msg) => {
            use clap::CommandFactory;
            cli::Args::command()
                .error(clap::error::ErrorKind::ArgumentConflict, msg)
                .exit();
        }
    };
    if let Some(what) = config.generate {
        let mut out = io::stdout().lock();
        return match cli::generate::generate(what, &mut out).and_then(|()| out.flush()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
            Err(e) => {
                let _ = writeln!(io::stderr(), "tlsclose: cannot write output: {e}");
                ExitCode::from(2)
            }
        };
    }
    if let Some(note) = &config.note {
        let _ = writeln!(io::stderr(), "tlsclose: note: {note}");
    }
    // Ctrl-C or SIGTERM: the flows read so far and the summary are still
    // written (interrupt.rs)
    if let Err(e) = run::interrupt::install() {
        let _ = writeln!(
            io::stderr(),
            "tlsclose: warning: Ctrl-C will not report: {e}"
        );
    }
    if let Some(out) = &config.extract {
        if let Err(e) = output::extract::check(out, &config.inputs) {
            let _ = writeln!(io::stderr(), "tlsclose: error: {e}");
            return ExitCode::from(2);
        }
    }
    let live = config.live;
    if live && config.table_listing() && !config.quiet {
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
    let mut pipeline = match run::pipeline::Pipeline::new(&config, out) {
        Ok(p) => p,
        Err(e) => {
            let _ = writeln!(io::stderr(), "tlsclose: cannot write output: {e}");
            return ExitCode::from(2);
        }
    };
    match run::run(&config, &mut pipeline) {
        Ok(code) => code,
        // `tlsclose big.pcap | head`: a closed pipe is a quiet end
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr(), "tlsclose: cannot write output: {e}");
            ExitCode::from(2)
        }
    }
}
