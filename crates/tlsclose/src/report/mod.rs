//! `--report FILE`: a self-contained report to attach to a bug ticket,
//! Markdown (`markdown`, diagrams by `mermaid`) or HTML (`html`): both
//! collect the same `data`, open with the `conclusion` built from the
//! audit's findings, and describe the flows that `flows` chooses.

pub mod conclusion;
pub mod data;
pub mod flows;
pub mod html;
pub mod markdown;
pub mod mermaid;
