//! `--generate`: shell completions and the man page, from the clap
//! definition (so they cannot drift from `--help`).

use crate::cli::Args;
use crate::report_args::Generate;
use clap::CommandFactory;
use clap_complete::Shell;
use std::io::{self, Write};

pub fn generate(what: Generate, out: &mut dyn Write) -> io::Result<()> {
    let mut cmd = Args::command();
    let shell = match what {
        Generate::Man => return clap_mangen::Man::new(cmd).render(out),
        Generate::Bash => Shell::Bash,
        Generate::Zsh => Shell::Zsh,
        Generate::Fish => Shell::Fish,
        Generate::Elvish => Shell::Elvish,
        Generate::Powershell => Shell::PowerShell,
    };
    clap_complete::generate(shell, &mut cmd, "tlsclose", out);
    Ok(())
}
