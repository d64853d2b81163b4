//! `--generate`: shell completions and the man page, from the clap
//! definition (so they cannot drift from `--help`).

use crate::cli::report::Generate;
use crate::cli::Args;
use clap::CommandFactory;
use clap_complete::Shell;
use std::io::{self, Write};

pub fn generate(what: Generate, out: &mut dyn Write) -> io::Result<()> {
    let mut cmd = Args::command();
    let shell = match what {
        Generate::Man => return man(cmd, out),
        Generate::Bash => Shell::Bash,
        Generate::Zsh => Shell::Zsh,
        Generate::Fish => Shell::Fish,
        Generate::Elvish => Shell::Elvish,
        Generate::Powershell => Shell::PowerShell,
    };
    clap_complete::generate(shell, &mut cmd, "tlsclose", out);
    Ok(())
}

/// The man page: clap_mangen's sections from the definition, then EXIT
/// STATUS, EXAMPLES and SEE ALSO written here (clap_mangen would put the
/// help's closing text under one "EXTRA" heading).
fn man(cmd: clap::Command, out: &mut dyn Write) -> io::Result<()> {
    use crate::cli::{EXAMPLES, EXIT_STATUS};
    let man = clap_mangen::Man::new(cmd);
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    let mut s = String::from(".SH \"EXIT STATUS\"\n");
    for (code, what) in EXIT_STATUS {
        s.push_str(&format!(".TP\n.B {code}\n{}\n", roff(what)));
    }
    s.push_str(".SH EXAMPLES\n");
    for (what, cmd) in EXAMPLES {
        s.push_str(&format!(".PP\n{}\n.PP\n.RS 4\n.nf\n", roff(what)));
        for line in cmd.lines() {
            s.push_str(&roff(line));
            s.push('\n');
        }
        s.push_str(".fi\n.RE\n");
    }
    s.push_str(
        ".SH \"SEE ALSO\"\n\
         .BR tshark (1),\n\
         .BR tcpdump (8),\n\
         .BR editcap (1),\n\
         .BR mergecap (1),\n\
         .BR duckdb (1);\n\
         docs/ENDINGS.md, docs/AUDIT.md and docs/SCALE.md in the source.\n",
    );
    out.write_all(s.as_bytes())?;
    man.render_version_section(out)
}

/// Text for roff: backslashes escaped, `-` as a real hyphen-minus, and a
/// line that would start with `.` or `'` guarded.
fn roff(text: &str) -> String {
    let s = text.replace('\\', "\\e").replace('-', "\\-");
    if s.starts_with(['.', '\'']) {
        format!("\\&{s}")
    } else {
        s
    }
}
