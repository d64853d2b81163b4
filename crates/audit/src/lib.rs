//! What a capture's flow reports add up to, for people auditing servers
//! and proxies: the idle timeouts servers and clients close connections
//! after ([`idle`]), counts per server, client, SNI or ending ([`group`]),
//! the findings of `--audit` ([`Auditor`], one function per kind in
//! `kinds`), which flows a selection keeps ([`select`]), and the numbers
//! and times written for people ([`units`]).
//!
//! Pure functions of [`tlsclose_analysis::FlowReport`]: no I/O, no
//! command line. Memory grows with servers, networks and groups, never
//! with flows.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::expect_used, clippy::indexing_slicing))]

mod auditor;
pub mod evidence;
mod finding;
#[cfg(test)]
mod fixture;
pub mod group;
pub mod idle;
mod kinds;
pub mod select;
pub mod units;
mod wireshark;

pub use auditor::{client_network, Auditor, EXAMPLES};
pub use finding::{
    AbruptCloses, Example, Finding, FindingKind, FlowId, PerSide, Severity, Side, Subject,
    SubjectKind,
};
pub use kinds::{join_and, suggested, timeout_text, timeout_values, TOP};
pub use wireshark::WiresharkFilter;
