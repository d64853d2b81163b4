//! The verdict: joins TCP events and TLS records into how each TLS
//! connection ended, following `docs/ENDINGS.md`.
//!
//! [`FlowState`] is a per-flow state machine that does no I/O: the TCP flow
//! table feeds it segments, in-order bytes, gaps, FINs and RSTs; it runs a
//! record deframer per direction and keeps only the facts the verdict needs
//! (bounded, whatever the flow's length). [`Analyzer`] wires the flow table
//! to it and hands out a [`FlowReport`] per TLS flow as each flow ends.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::expect_used, clippy::indexing_slicing))]

mod analyzer;
mod flow;
mod kept;
mod keyed;
mod report;
mod verdict;

pub use analyzer::{Analyzer, AnalyzerConfig, AnalyzerStats, FinishTicket, LimitStats};
pub use flow::{FlowLimits, FlowState, MAX_ALERTS};
pub use keyed::KeyStore;
pub use report::{
    h2_error_name, write_ip, AfterFailure, AlertLabel, Alerts, BlindWhy, Cipher, CloseKind,
    CloseNotify, Closer, Confidence, Ending, Endpoint, FlowReport, HttpClose, HttpCloseKind,
    HttpProtocol, HttpReport, KeyNote, KeyUnusable, LadderEvent, LadderStep, Likely, Note,
    RaceMark, Role, Teardown, TeardownKind, Text, Version,
};
