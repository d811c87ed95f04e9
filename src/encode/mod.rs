//! Text the library writes in more than one place, below every capability:
//! JSON escaping and numbers, lowercase hex, RFC 3339 timestamps. Hand-written
//! because they sit on the hot path of every log line and span (see
//! `benches/log_line.rs`); each is tested against a plain reference.

pub(crate) mod hex;
pub(crate) mod json;
pub(crate) mod time;
