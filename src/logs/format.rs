//! Which lines the log layer writes: JSON, pretty, or none.

/// How events are written on stdout (`TRACELINK_LOG_FORMAT`).
///
/// ```
/// use tracelink::logs::LogFormat;
///
/// assert_eq!("pretty".parse::<LogFormat>(), Ok(LogFormat::Pretty));
/// assert_eq!(LogFormat::Json.to_string(), "json");
/// assert!("yaml".parse::<LogFormat>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LogFormat {
    /// One JSON line per event, with the span's ids. The default.
    #[default]
    Json,
    /// One readable line per event (time, level, target, message, fields,
    /// span, a short trace id), coloured on a terminal unless `NO_COLOR` is
    /// set: for a developer at a terminal, not for a log pipeline.
    Pretty,
    /// No lines at all.
    None,
}

impl LogFormat {
    pub(crate) fn name(self) -> &'static str {
        match self {
            LogFormat::Json => "json",
            LogFormat::Pretty => "pretty",
            LogFormat::None => "none",
        }
    }
}

impl std::fmt::Display for LogFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    /// `json`, `pretty` or `none` (also `off`), in any case.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(LogFormat::Json),
            "pretty" => Ok(LogFormat::Pretty),
            "none" | "off" => Ok(LogFormat::None),
            _ => Err("expected json, pretty or none".into()),
        }
    }
}
