//! What the key logs did, said once: a file that is not a key log is an
//! error naming it, skipped lines are counted (the first few named), and
//! at the end one line says how many TLS flows the keys matched.

use std::io::Read;
use tlsclose_analysis::{FlowReport, KeyNote, KeyUnusable, Note};
use tlsclose_decrypt::KeyLogWarning;

/// Skipped lines named one by one; the rest are counted.
pub const LINES_NAMED: usize = 3;

/// Why `path` is not a key log, looking at its first bytes: a capture
/// (given as --keylog by mistake), compressed or binary content. `None`
/// when it looks like text (or cannot be read: the reader says why).
pub fn not_a_key_log(path: &str) -> Option<String> {
    let mut head = Vec::with_capacity(4096);
    let file = std::fs::File::open(path).ok()?;
    file.take(4096).read_to_end(&mut head).ok()?;
    let magic = head.get(..4).unwrap_or_default();
    let what = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1]
        | [0xa1, 0xb2, 0xc3, 0xd4]
        | [0x4d, 0x3c, 0xb2, 0xa1]
        | [0xa1, 0xb2, 0x3c, 0x4d] => "a pcap capture",
        [0x0a, 0x0d, 0x0d, 0x0a] => "a pcapng capture",
        [0x1f, 0x8b, ..] => "gzip-compressed",
        _ => {
            // text has no NUL and few control characters (tabs and line
            // ends aside)
            let binary = head
                .iter()
                .filter(|&&b| b == 0 || (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')))
                .count();
            if binary == 0 || binary * 100 < head.len() {
                return None;
            }
            "binary, not text"
        }
    };
    Some(format!(
        "{path} is not a key log ({what}): --keylog takes an NSS key log (SSLKEYLOGFILE \
         format: lines like `CLIENT_RANDOM <64 hex digits> <secret>`){}",
        if what.contains("capture") {
            "; captures are given without an option"
        } else {
            ""
        }
    ))
}

/// The warnings of one key log, shortened: problems with the whole file
/// as they are, skipped lines named up to [`LINES_NAMED`], then counted.
pub fn condense(source: &str, warnings: Vec<KeyLogWarning>) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = 0usize;
    let mut more = 0usize;
    for w in warnings {
        match (&w.line, &w.problem) {
            (Some(_), _) => {
                lines += 1;
                if lines <= LINES_NAMED {
                    out.push(w.to_string());
                }
            }
            (None, tlsclose_decrypt::KeyLogProblem::MoreSkipped(n)) => more += n,
            (None, _) => out.push(w.to_string()),
        }
    }
    let total = lines + more;
    if total > LINES_NAMED {
        out.push(format!(
            "{source}: {total} lines skipped in all (the first {LINES_NAMED} named above)"
        ));
    }
    out
}

/// How the TLS flows of a run fared with the key logs.
#[derive(Debug, Default)]
pub struct KeyTally {
    pub flows: u64,
    pub matched: u64,
    pub no_secrets: u64,
    pub no_hello: u64,
    pub other: u64,
}

impl KeyTally {
    pub fn count(&mut self, r: &FlowReport) {
        self.flows += 1;
        if r.decrypted {
            self.matched += 1;
            return;
        }
        let why = r.notes.iter().find_map(|n| match n {
            Note::Keys(k) => Some(k),
            _ => None,
        });
        match why {
            Some(KeyNote::Unusable(KeyUnusable::NoSecrets)) => self.no_secrets += 1,
            Some(KeyNote::Unusable(KeyUnusable::NoClientHello) | KeyNote::HellosNotRead) => {
                self.no_hello += 1
            }
            _ => self.other += 1,
        }
    }

    /// `key log sslkeys.log: matched 0 of 42 TLS flows (42 with no secret
    /// for their client random)`.
    pub fn line(&self, names: &[String]) -> String {
        let mut why = Vec::new();
        if self.no_secrets > 0 {
            why.push(format!(
                "{} with no CLIENT_RANDOM or secret for their client random",
                self.no_secrets
            ));
        }
        if self.no_hello > 0 {
            why.push(format!(
                "{} without a ClientHello in the capture",
                self.no_hello
            ));
        }
        if self.other > 0 {
            why.push(format!("{} whose keys did not decrypt", self.other));
        }
        format!(
            "key log{} {}: matched {} of {} TLS flow{}{}",
            if names.len() == 1 { "" } else { "s" },
            names.join(", "),
            self.matched,
            self.flows,
            tlsclose_audit::units::plural(self.flows),
            if why.is_empty() {
                String::new()
            } else {
                format!(" ({})", why.join("; "))
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_skipped_lines_are_counted_and_only_the_first_named() {
        let text: String = (0..250).map(|i| format!("junk line {i}\n")).collect();
        let (_, warnings) = tlsclose_decrypt::KeyLog::parse(&text, "k.log");
        let lines = condense("k.log", warnings);
        assert_eq!(lines.len(), LINES_NAMED + 1, "{lines:?}");
        assert!(lines[0].starts_with("k.log:1: "), "{lines:?}");
        assert_eq!(
            lines[LINES_NAMED],
            "k.log: 250 lines skipped in all (the first 3 named above)"
        );
    }
}
