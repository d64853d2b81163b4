//! `tlsclose`: how did each TLS connection in a capture end?

mod cli;
mod run;
mod sink;
mod summary;

use clap::Parser;
use std::io::{self, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    let stdout = io::stdout();
    let out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut sink: Box<dyn sink::ReportSink> = match args.format {
        cli::Format::Json => Box::new(sink::JsonSink::new(out)),
        cli::Format::Table => Box::new(sink::TableSink::new(out, args.inputs.len() > 1)),
    };
    match run::run(&args, sink.as_mut()) {
        Ok(code) => code,
        // `tlsclose big.pcap | head`: a closed pipe is a quiet end
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr(), "tlsclose: cannot write output: {e}");
            ExitCode::from(2)
        }
    }
}
