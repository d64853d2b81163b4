//! A Mermaid `sequenceDiagram` of how a flow ended, for Markdown reports
//! (GitHub and GitLab draw it in issues): the ladder's records, FINs and
//! RSTs as messages between client and server, RST as a cross, the
//! keep-alive race marked. It shows the steps the text ladder shows
//! ([`crate::output::ladder::shown_steps`]), from the same frame.

use crate::text::words::{EventText, StepText};
use std::fmt::Write as _;
use tlsclose_analysis::{FlowReport, LadderEvent, Role};

/// Text safe in a Mermaid message, note or participant label: no
/// statement separator (`;`), entity (`#`), HTML or line break.
pub fn clean(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            ';' | '#' | '<' | '>' | '{' | '}' | '"' | '`' => ' ',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The diagram (without the code fence).
pub fn sequence(r: &FlowReport) -> String {
    let mut d = String::from("sequenceDiagram\n");
    let _ = writeln!(
        d,
        "    participant C as client {}",
        clean(&r.client.to_string())
    );
    let _ = writeln!(
        d,
        "    participant S as server {}",
        clean(&r.server.to_string())
    );
    let _ = writeln!(
        d,
        "    Note over C,S: {}",
        clean(&format!(
            "{}, closed by {}, started by {}",
            r.ending,
            r.closer.as_str(),
            r.initiator.as_str()
        ))
    );
    // the steps the text ladder shows (`--flow`): both start at one frame
    let (hidden, shown) = crate::output::ladder::shown_steps(r);
    if hidden > 0 {
        let _ = writeln!(
            d,
            "    Note over C,S: {hidden} earlier record{} not shown",
            if hidden == 1 { "" } else { "s" }
        );
    }
    let t0 = shown.first().map_or(0.0, |s| s.time);
    for s in shown {
        let (from, to) = match s.from {
            Role::Client => ("C", "S"),
            Role::Server => ("S", "C"),
        };
        let arrow = match s.event {
            LadderEvent::Rst => "-x",
            LadderEvent::Fin => "-)",
            _ => "->>",
        };
        let text = if s.race.is_some() {
            StepText(s).to_string()
        } else {
            EventText(s.event).to_string()
        };
        let _ = writeln!(
            d,
            "    {from}{arrow}{to}: {}",
            clean(&format!("+{:.3}s frame {} {text}", s.time - t0, s.frame))
        );
        if let Some(race) = s.race {
            let _ = writeln!(
                d,
                "    Note over {from}: keep-alive race: sent {:.3}s after the other side closed",
                race.window
            );
        }
    }
    if r.ladder.is_empty() {
        let _ = writeln!(d, "    Note over C,S: no late records or teardown recorded");
    }
    d
}

/// The diagram as a fenced Markdown block.
pub fn block(r: &FlowReport) -> String {
    format!("```mermaid\n{}```\n", sequence(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_removes_what_would_end_or_escape_a_statement() {
        assert_eq!(clean("a;b#c<d>\ne"), "a b c d e");
        assert_eq!(clean("[::1]:443"), "[::1]:443");
    }
}
