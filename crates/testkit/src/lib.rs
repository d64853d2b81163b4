//! Test support shared by every crate's tests (a dev-dependency only;
//! `publish = false`), so that no test file writes its own:
//!
//! - [`paths`]: the workspace's `testdata/` cases and a per-process temporary
//!   folder;
//! - [`capture`]: pcap and pcapng writers, byte by byte (either byte order,
//!   every block type the reader knows) and packet by packet (Ethernet,
//!   IPv4, TCP segments, whole scripted connections, a pcap stream made on
//!   the fly);
//! - [`tls`]: TLS record and handshake builders (records, ClientHello with
//!   SNI, ServerHello);
//! - [`scripted`]: whole TLS 1.2 connections from a script of who sends
//!   what when (idle closes, races, resets, for the audit and reports);
//! - [`Prng`]: the seeded generator for deterministic filler and choices;
//! - [`cli`]: the binary under test as a [`std::process::Command`] with the
//!   environment that changes its results cleared ([`tlsclose!`]), and the
//!   readers of its output (JSON lines, flows, summary);
//! - [`tools`]: visible skips ([`require_tool`], [`in_ci`]): a test that
//!   needs an external tool says why it skipped, and fails under `CI=true`;
//! - [`regressions`]: replaying `testdata/regressions/<target>/` through a
//!   fuzz target's checks (a missing or empty folder fails);
//! - [`verdicts`]: comparing flows with expected lines, every field;
//! - [`rss`]: this process's peak resident set size (fails where it cannot
//!   be read, rather than passing a memory check with 0).
#![forbid(unsafe_code)]

pub mod capture;
pub mod cli;
pub mod paths;
mod prng;
pub mod regressions;
pub mod rss;
pub mod scripted;
pub mod tls;
pub mod tools;
pub mod verdicts;

pub use paths::{case, testdata, tmp};
pub use prng::Prng;
/// The JSON crate the output readers return values of.
pub use serde_json;
pub use tools::{in_ci, require_tool, require_tool_with};
