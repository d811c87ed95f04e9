//! Log lines that link to traces: a JSON layer that stamps every line with the
//! trace id, span id and flags of the span it happened in, exactly as that span
//! is exported.
//!
//! The hot path formats into a reused per-thread `String` (no allocation per
//! line once it has grown), copies the span's ids from a cache filled once per
//! span, and hands the whole line to the writer in one `write_all`, so lines
//! from many threads never interleave.

mod format;
pub(crate) mod json;
mod layer;
pub(crate) mod non_blocking;
mod pretty;
mod style;
pub(crate) mod writer;

pub use format::LogFormat;
pub use layer::LogLayer;
pub use style::LogStyle;
pub use writer::{LogStats, LogWriter};
