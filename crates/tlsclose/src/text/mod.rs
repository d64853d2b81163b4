//! Words for people: the analysis crate's typed facts in sentences
//! (`words`) and Markdown syntax (`markdown`). Numbers, times and sizes
//! are written by `tlsclose_audit::units`.

pub mod markdown;
pub mod words;
