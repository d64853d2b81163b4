//! `--report FILE`: a self-contained report to attach to a bug ticket,
//! Markdown (`markdown`, diagrams by `mermaid`) or HTML (`html`), each
//! describing the flows that `flows` chooses one by one.

pub mod flows;
pub mod html;
pub mod markdown;
pub mod mermaid;
