//! The report's data in words: notes, ladder lines, alerts and the
//! Wireshark filter. The analysis crate hands out typed facts
//! ([`Note`], [`LadderEvent`]); everything a person reads is written here,
//! as `Display` values so that the JSON and CSV writers stream them
//! without building Strings.

use std::fmt;
use std::fmt::Write as _;
use tlsclose_analysis::h2_error_name;
use tlsclose_analysis::{
    AfterFailure, BlindWhy, KeyNote, KeyUnusable, LadderEvent, LadderStep, Likely, Note, Role,
};
use tlsclose_tls::{Alert, AlertLevel};

/// A note as it reads in JSON, CSV and reports:
/// `server: 1448 bytes never captured in 1 gap(s)`.
pub struct NoteText<'a>(pub &'a Note);

impl fmt::Display for NoteText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Note::Gap { side, bytes, gaps } => write!(
                f,
                "{}: {bytes} bytes never captured in {gaps} gap(s)",
                side.as_str()
            ),
            Note::ReassemblyLimit { side, times } => write!(
                f,
                "{}: out-of-order buffer limit hit {times} time(s)",
                side.as_str()
            ),
            Note::TotalLimit { side, times } => write!(
                f,
                "{}: limit on out-of-order bytes over all flows hit {times} time(s)",
                side.as_str()
            ),
            Note::Resynced { side, times } => write!(
                f,
                "{}: record layer resynchronised {times} time(s)",
                side.as_str()
            ),
            Note::AlertsDropped {
                side,
                dropped,
                kept,
            } => write!(
                f,
                "{}: {dropped} alerts beyond the first {kept} not kept",
                side.as_str()
            ),
            Note::Truncated => f.write_str("segments cut by the snapshot length"),
            Note::NamesCut => f.write_str("server name or ALPN longer than the name limits: cut"),
            Note::BuffersShed => f.write_str(
                "partial hello and record bodies dropped: bytes held over all flows at their limit",
            ),
            Note::Evicted => f.write_str(
                "ended early: the flow table was full and this flow was idle the longest",
            ),
            Note::ClockStep => f.write_str(
                "the capture's timestamps step back or jump within this flow: its times are the \
                 frames' own, its durations (idle time, race window) are counted on the capture \
                 clock",
            ),
            Note::Keys(k) => KeyText(k).fmt(f),
        }
    }
}

/// A key note: `keys: none for this client random`, `keys: decrypt failed
/// at frame 9 (…), a server record; the server's other records were read`.
struct KeyText<'a>(&'a KeyNote);

impl fmt::Display for KeyText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            KeyNote::Unusable(KeyUnusable::NoClientHello) => {
                f.write_str("keys: no ClientHello seen (the capture started mid-connection)")
            }
            KeyNote::Unusable(KeyUnusable::NoSecrets) => {
                f.write_str("keys: none for this client random")
            }
            KeyNote::Unusable(KeyUnusable::Setup(e)) => write!(f, "keys: {e}"),
            KeyNote::Unusable(KeyUnusable::EmsTranscriptNotRead) => f.write_str(
                "keys: extended master secret, and the handshake to hash was not all read",
            ),
            KeyNote::Unusable(KeyUnusable::KeyExchangeNotRead) => f.write_str(
                "keys: a pre-master secret was logged, but the ClientKeyExchange was not read",
            ),
            KeyNote::Failed {
                side,
                frame,
                error,
                more,
                then,
            } => {
                let side = side.as_str();
                write!(
                    f,
                    "keys: decrypt failed at frame {frame} ({error}), a {side} record"
                )?;
                if *more > 0 {
                    write!(f, ", {more} more {side} record(s) failed")?;
                }
                match then {
                    AfterFailure::Blind { frame, why } => write!(
                        f,
                        "; {side} side read without keys from frame {frame}: {}",
                        BlindText(why)
                    ),
                    AfterFailure::NothingDecrypted => {
                        write!(f, "; {side} side read without keys: no record decrypted")
                    }
                    AfterFailure::OthersRead => write!(f, "; the {side}'s other records were read"),
                }
            }
            KeyNote::Blind { side, frame, why } => write!(
                f,
                "keys: {} side read without keys from frame {frame}: {}",
                side.as_str(),
                BlindText(why)
            ),
            KeyNote::HellosNotRead => {
                f.write_str("keys: the hellos were not read, so the key log could not be matched")
            }
            KeyNote::HandshakeUnkeyed { side, records } => write!(
                f,
                "keys: {records} {side} handshake record(s) not read: the key log has no {side} \
                 handshake traffic secret",
                side = side.as_str()
            ),
        }
    }
}

/// Why a direction is read without keys.
struct BlindText<'a>(&'a BlindWhy);

impl fmt::Display for BlindText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            BlindWhy::RenegotiatedUnknownKeys => {
                f.write_str("renegotiated with keys the key log does not have")
            }
            BlindWhy::FailuresInARow(n) => write!(f, "{n} records in a row did not decrypt"),
            BlindWhy::RenegotiatedNoSecrets => f.write_str(
                "renegotiated, and the key log has no secrets for the new client random",
            ),
            BlindWhy::RenegotiatedSetup(e) => write!(f, "renegotiated: {e}"),
            BlindWhy::RenegotiatedHellosNotRead => {
                f.write_str("renegotiated, and the new handshake's hellos were not read")
            }
        }
    }
}

/// `close_notify (warning)`, as ladders word alerts (levels other than
/// fatal read as warning).
struct AlertWords(Alert);

impl fmt::Display for AlertWords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self.0;
        match a.description.name() {
            Some(n) => f.write_str(n)?,
            None => write!(f, "{}", a.description.0)?,
        }
        if a.level == AlertLevel::FATAL {
            f.write_str(" (fatal)")
        } else {
            f.write_str(" (warning)")
        }
    }
}

/// One ladder event for people: `TLS alert (encrypted, 19 bytes, likely
/// close_notify)`, `TLS application_data (512 bytes)`, `TCP FIN`.
pub struct EventText(pub LadderEvent);

impl fmt::Display for EventText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            LadderEvent::Alert { alert, decrypted } => write!(
                f,
                "TLS alert {}{}",
                AlertWords(alert),
                if decrypted { " decrypted" } else { "" }
            ),
            LadderEvent::EncryptedAlert { length, likely } => match likely {
                None => write!(f, "TLS alert (encrypted, {length} bytes)"),
                Some(Likely::CloseNotify) => write!(
                    f,
                    "TLS alert (encrypted, {length} bytes, likely close_notify)"
                ),
                Some(Likely::Fatal) => {
                    write!(f, "TLS alert (encrypted, {length} bytes, likely fatal)")
                }
            },
            LadderEvent::Record {
                content_type,
                length,
                decrypted,
            } => match decrypted {
                Some(inner) => write!(
                    f,
                    "TLS {} ({length} bytes, decrypted)",
                    inner.name().unwrap_or("record")
                ),
                None => write!(
                    f,
                    "TLS {} ({length} bytes)",
                    content_type.name().unwrap_or("record")
                ),
            },
            LadderEvent::Fin => f.write_str("TCP FIN"),
            LadderEvent::Rst => f.write_str("TCP RST"),
        }
    }
}

/// A ladder line's text: its event, and when it is the data of a
/// keep-alive race, `  ← keep-alive race: 0.120s after the server's
/// close, answered by RST (frame 40)`.
pub struct StepText<'a>(pub &'a LadderStep);

impl fmt::Display for StepText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        EventText(self.0.event).fmt(f)?;
        if let Some(c) = self.0.http_close {
            // the announcement of the close this record carried
            match c.kind {
                tlsclose_analysis::HttpCloseKind::ConnectionClose => {
                    f.write_str("  ← Connection: close")?
                }
                tlsclose_analysis::HttpCloseKind::Goaway => {
                    f.write_str("  ← GOAWAY")?;
                    if let (Some(e), Some(last)) = (c.error_code, c.last_stream_id) {
                        let e = goaway_error(e);
                        write!(f, " ({e}, last stream {last})")?;
                    }
                }
            }
        }
        if let Some(race) = self.0.race {
            write!(
                f,
                "  ← keep-alive race: {:.3}s after the {}'s close, ",
                race.window,
                self.0.from.peer().as_str()
            )?;
            match race.rst_frame {
                Some(frame) => write!(f, "answered by RST (frame {frame})")?,
                None => f.write_str("never answered")?,
            }
        }
        Ok(())
    }
}

/// `client → server` or `server → client`.
pub fn direction(from: Role) -> &'static str {
    match from {
        Role::Client => "client → server",
        Role::Server => "server → client",
    }
}

/// A GOAWAY's error code: its RFC 9113 name, or hex.
pub fn goaway_error(code: u32) -> String {
    match h2_error_name(code) {
        Some(name) => name.to_string(),
        None => {
            let mut s = String::new();
            let _ = write!(s, "0x{code:x}");
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goaway_errors_are_named_or_hex() {
        assert_eq!(goaway_error(0), "NO_ERROR");
        assert_eq!(goaway_error(0xb), "ENHANCE_YOUR_CALM");
        assert_eq!(goaway_error(0x1ff), "0x1ff");
    }

    #[test]
    fn ladder_events_in_words() {
        let alert = Alert {
            level: AlertLevel::FATAL,
            description: tlsclose_tls::AlertDescription(48),
        };
        let t = |e| EventText(e).to_string();
        assert_eq!(
            t(LadderEvent::Alert {
                alert,
                decrypted: true
            }),
            "TLS alert unknown_ca (fatal) decrypted"
        );
        assert_eq!(
            t(LadderEvent::EncryptedAlert {
                length: 19,
                likely: Some(Likely::CloseNotify)
            }),
            "TLS alert (encrypted, 19 bytes, likely close_notify)"
        );
        assert_eq!(
            t(LadderEvent::Record {
                content_type: tlsclose_tls::ContentType::APPLICATION_DATA,
                length: 19,
                decrypted: Some(tlsclose_tls::ContentType::HANDSHAKE)
            }),
            "TLS handshake (19 bytes, decrypted)"
        );
        assert_eq!(t(LadderEvent::Rst), "TCP RST");
    }
}
