//! TCP: the flow table (one entry per connection, port reuse, eviction) and
//! per-direction stream reassembly (ordered bytes by sequence number,
//! retransmissions and overlaps given once, out-of-order segments held up to
//! a bound, holes reported as gaps).
//!
//! The table drives a [`StreamConsumer`] per flow with in-order events; it
//! knows nothing about TLS. The [`CaptureClock`] gives each frame the time
//! the table goes by (robust to timestamps that jump).
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::expect_used, clippy::indexing_slicing))]

mod clock;
mod reassembly;
mod table;

pub use clock::{CaptureClock, ClockConfig, ClockStats, ClockWarning, Tick};
pub use reassembly::{Chunk, Reassembler, ReassemblyStats, HELD_SEGMENT_OVERHEAD};
pub use table::{
    Dir, EndReason, Finished, FlowKey, FlowStart, FlowTable, FlowTableConfig, FlowTableStats,
    SegMeta, StreamConsumer, SWEEP_INTERVAL_NS,
};
