//! Colour, when stdout is a terminal and `NO_COLOR` is unset; plain text
//! otherwise.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::IsTerminal;

/// How text is painted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Style {
    pub(crate) color: bool,
}

/// `--color`: `auto` (the default), `always`, `never`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    pub(crate) fn parse(value: &str) -> Option<Self> {
        match value {
            "auto" => Some(Self::Auto),
            "always" => Some(Self::Always),
            "never" => Some(Self::Never),
            _ => None,
        }
    }
}

pub(crate) const BOLD: &str = "1";
pub(crate) const DIM: &str = "2";
pub(crate) const REVERSE: &str = "7";
pub(crate) const RED: &str = "31";
pub(crate) const YELLOW: &str = "33";
pub(crate) const BOLD_RED: &str = "1;31";

/// Bar colours, one per service in order of appearance.
const PALETTE: [&str; 6] = ["36", "35", "34", "32", "33", "96"];

impl Style {
    pub(crate) fn new(choice: ColorChoice) -> Self {
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        };
        Self { color }
    }

    /// `text` in the SGR `code`, or as is without colour.
    pub(crate) fn paint(self, code: &str, text: &str) -> String {
        if self.color && !text.is_empty() {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// The colour of the `index`-th service.
    pub(crate) fn service_color(index: usize) -> &'static str {
        PALETTE[index % PALETTE.len()]
    }

    /// The colour of a log level.
    pub(crate) fn level_color(level: &str) -> &'static str {
        match level.to_ascii_uppercase().as_str() {
            "ERROR" | "FATAL" | "CRITICAL" | "EMERGENCY" | "ALERT" => BOLD_RED,
            "WARN" | "WARNING" => YELLOW,
            "DEBUG" | "TRACE" => DIM,
            _ => "0",
        }
    }
}

/// `text` safe to print on a terminal: every control character (C0, DEL,
/// C1), which could move the cursor, clear the screen or retitle the
/// window, written as an escape: `\n`, `\r`, `\t`, else `\x1b`. Everything
/// printed from a store or a log file goes through it.
pub(crate) fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Control characters are all below U+00A0.
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `text` cut to `width` characters, with `…` when cut.
pub(crate) fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// `text` padded with spaces to `width` characters.
pub(crate) fn pad(text: &str, width: usize) -> String {
    let len = text.chars().count();
    let mut out = text.to_owned();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(len)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert!(matches!(escape("GET /cart ünï"), Cow::Borrowed(_)));
        assert_eq!(escape("a\x1b]0;x\x07\x1b[2Jb"), "a\\x1b]0;x\\x07\\x1b[2Jb");
        assert_eq!(escape("\0\n\r\t\x7f"), "\\x00\\n\\r\\t\\x7f");
        // C1: CSI and OSC on their own.
        assert_eq!(escape("\u{9b}2J\u{9d}"), "\\x9b2J\\x9d");
        // Not controls: NBSP, and a backslash stays itself.
        assert_eq!(escape("\u{a0}\\x1b"), "\u{a0}\\x1b");
    }
}
