//! Text tracelink writes and reads in more than one place, below every
//! capability: JSON escaping and numbers, lowercase hex, RFC 3339 timestamps.
//! Hand-written because they sit on the hot path of every log line and span
//! (see `benches/log_line.rs`); each is tested against a plain reference.
//!
//! Not part of the API: public only so that the `tracelink` command (the
//! `tracelink-cli` package, which pins this crate's exact version) shares the
//! hex and calendar code instead of keeping its own. It may change in any
//! release.

pub mod hex;
pub(crate) mod json;
pub mod time;
