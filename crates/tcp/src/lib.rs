//! TCP: the flow table (one entry per connection, port reuse, eviction) and
//! per-direction stream reassembly (ordered bytes by sequence number,
//! retransmissions and overlaps given once, out-of-order segments held up to
//! a bound, holes reported as gaps).
//!
//! The table drives a [`StreamConsumer`] per flow with in-order events; it
//! knows nothing about TLS.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::expect_used, clippy::indexing_slicing))]

mod reassembly;
mod table;

pub use reassembly::{Chunk, Reassembler, ReassemblyStats, HELD_SEGMENT_OVERHEAD};
pub use table::{
    Dir, EndReason, Finished, FlowKey, FlowStart, FlowTable, FlowTableConfig, FlowTableStats,
    SegMeta, StreamConsumer,
};
