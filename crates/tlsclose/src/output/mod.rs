//! What the tool prints for a run: every output format is a [`sink`] that
//! consumes the same stream of flow reports and then the end of the run.
//! The per-flow formats (`table` with its `listing` of rows, `json`, `csv`),
//! the roll-ups (`group_by`, `audit`), one flow in detail (`flow_detail`),
//! and the packets of chosen flows copied into a new capture (`extract`).

pub mod audit;
pub mod csv;
pub mod extract;
pub mod flow_detail;
pub mod group_by;
pub mod httpfields;
pub mod json;
pub mod ladder;
pub mod listing;
pub mod sink;
pub mod table;
