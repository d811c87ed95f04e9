//! tracelink's own diagnostics.
//!
//! They go to stderr with a `tracelink:` prefix and never through `tracing`, so a
//! problem in the export path can never feed spans or log lines back into it.
//! `OTEL_LOG_LEVEL` chooses how much is printed. Nothing printed carries a
//! secret: a URL's credentials are cut out by [`redact_url`].

use std::sync::atomic::{AtomicU8, Ordering};

/// How much tracelink says about itself on stderr (`OTEL_LOG_LEVEL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DiagLevel {
    /// Nothing at all.
    None = 0,
    /// Only errors: an exporter that fails, spans lost.
    Error = 1,
    /// Errors, and warnings such as an ignored configuration value. The default.
    Warn = 2,
    /// Also what was configured at startup.
    Info = 3,
    /// Also every export.
    Debug = 4,
}

impl DiagLevel {
    pub(crate) fn parse(value: &str) -> Option<Self> {
        Some(match value.to_ascii_lowercase().as_str() {
            "none" | "off" => Self::None,
            "error" | "fatal" => Self::Error,
            "warn" | "warning" => Self::Warn,
            "info" => Self::Info,
            "debug" | "trace" | "all" => Self::Debug,
            _ => return None,
        })
    }
}

static LEVEL: AtomicU8 = AtomicU8::new(DiagLevel::Warn as u8);

pub(crate) fn set_level(level: DiagLevel) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

pub(crate) fn enabled(level: DiagLevel) -> bool {
    level as u8 <= LEVEL.load(Ordering::Relaxed)
}

/// Prints one diagnostic line to stderr if `level` is enabled.
macro_rules! diag {
    ($level:ident, $($arg:tt)*) => {
        if $crate::diag::enabled($crate::diag::DiagLevel::$level) {
            ::std::eprintln!("tracelink: {}", ::std::format_args!($($arg)*));
        }
    };
}
pub(crate) use diag;

/// `url` without the user and password it may carry (`http://user:secret@host`).
pub(crate) fn redact_url(url: &str) -> std::borrow::Cow<'_, str> {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.into();
    };
    let authority_end = url[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| scheme_end + i);
    match url[scheme_end..authority_end].rfind('@') {
        Some(at) => format!(
            "{}<redacted>@{}",
            &url[..scheme_end],
            &url[scheme_end + at + 1..]
        )
        .into(),
        None => url.into(),
    }
}
