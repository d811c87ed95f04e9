//! Colour, when stdout is a terminal and `NO_COLOR` is unset; plain text
//! otherwise. And the width to draw in, so lines are cut rather than
//! wrapped by the terminal.

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
/// window, written as an escape: `\n`, `\r`, `\t`, else `\x1b`; and every
/// bidirectional embedding, override and isolate (U+202A to U+202E, U+2066
/// to U+2069), which could make the terminal show text in another order
/// than it is (a span name that reads as something else), as `\u{202e}`.
/// Everything printed from a store, a log file or a request goes through
/// it.
pub(crate) fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
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
            c if is_unsafe(c) => {
                let _ = write!(out, "\\u{{{:04x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Whether [`escape`] writes `c` as an escape.
fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The narrowest width drawn in: `--width` below it is a usage error, a
/// narrower `COLUMNS` or terminal gets it.
pub(crate) const MIN_WIDTH: usize = 40;
/// The width when neither `--width` nor `COLUMNS` tells: on a terminal
/// too, as asking the terminal itself needs an `ioctl`, so `unsafe` or a
/// dependency.
const DEFAULT_WIDTH: usize = 80;

/// The width to draw in: `option` (`--width`), else `COLUMNS` when it is a
/// number, else the terminal's width when stdout is a terminal, else 80;
/// never below [`MIN_WIDTH`].
pub(crate) fn width(option: Option<usize>) -> usize {
    resolve_width(
        option,
        std::env::var("COLUMNS").ok().as_deref(),
        terminal_width,
    )
}

/// [`width`] from what it reads: `columns` is `COLUMNS`; `terminal` asks the
/// terminal, only when nothing before it answered.
fn resolve_width(
    option: Option<usize>,
    columns: Option<&str>,
    terminal: impl FnOnce() -> Option<usize>,
) -> usize {
    option
        .or_else(|| {
            columns
                .and_then(|c| c.trim().parse().ok())
                .filter(|&c| c > 0)
        })
        .or_else(terminal)
        .unwrap_or(DEFAULT_WIDTH)
        .max(MIN_WIDTH)
}

/// The columns of the terminal stdout is, if it is one.
#[cfg(unix)]
fn terminal_width() -> Option<usize> {
    let size = rustix::termios::tcgetwinsize(std::io::stdout()).ok()?;
    Some(usize::from(size.ws_col)).filter(|&c| c > 0)
}

#[cfg(not(unix))]
fn terminal_width() -> Option<usize> {
    None
}

/// The columns `line` takes on a terminal: its characters, SGR escapes
/// (`ESC [ … m`) not counted.
pub(crate) fn visible_width(line: &str) -> usize {
    let mut width = 0;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            skip_escape(&mut chars);
        } else {
            width += 1;
        }
    }
    width
}

/// Past the rest of an SGR escape, up to its `m`; what it skipped.
fn skip_escape(chars: &mut std::str::Chars<'_>) -> String {
    let mut skipped = String::new();
    for c in chars.by_ref() {
        skipped.push(c);
        if c == 'm' {
            break;
        }
    }
    skipped
}

/// `line` cut to `width` columns (see [`visible_width`]), with `…` when
/// cut, and a reset after it when `line` was painted. The only escapes in
/// a line are [`Style::paint`]'s: text from outside goes through
/// [`escape`].
pub(crate) fn clip(line: &str, width: usize) -> Cow<'_, str> {
    if visible_width(line) <= width {
        return Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len());
    let mut shown = 0;
    let mut painted = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            out.push(c);
            out.push_str(&skip_escape(&mut chars));
            painted = true;
        } else if shown + 1 < width {
            out.push(c);
            shown += 1;
        } else {
            break;
        }
    }
    if width > 0 {
        out.push('…');
    }
    if painted {
        out.push_str("\x1b[0m");
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

    #[test]
    fn bidi_overrides_and_isolates_are_escaped() {
        // Each of the nine, and the characters either side of each range.
        assert_eq!(
            escape("a\u{202a}\u{202b}\u{202c}\u{202d}\u{202e}b"),
            "a\\u{202a}\\u{202b}\\u{202c}\\u{202d}\\u{202e}b"
        );
        assert_eq!(
            escape("\u{2066}\u{2067}\u{2068}\u{2069}"),
            "\\u{2066}\\u{2067}\\u{2068}\\u{2069}"
        );
        for fine in [
            "\u{2029}",
            "\u{202f}",
            "\u{2065}",
            "\u{206a}",
            "שלום",
            "مرحبا",
        ] {
            assert!(matches!(escape(fine), Cow::Borrowed(_)), "{fine:?}");
        }
        // "evil" that a terminal would show reversed.
        assert_eq!(escape("\u{202e}live\u{202c}"), "\\u{202e}live\\u{202c}");
    }

    #[test]
    fn the_width_is_the_option_then_columns_then_the_terminal_then_80() {
        let no_terminal = || None;
        let terminal = || Some(132);
        assert_eq!(resolve_width(Some(100), Some("120"), terminal), 100);
        assert_eq!(resolve_width(None, Some("120"), terminal), 120);
        assert_eq!(resolve_width(None, Some(" 90 "), no_terminal), 90);
        for columns in [None, Some(""), Some("wide"), Some("0"), Some("-1")] {
            assert_eq!(resolve_width(None, columns, no_terminal), 80, "{columns:?}");
            assert_eq!(resolve_width(None, columns, terminal), 132, "{columns:?}");
        }
        // Narrower than anything can be drawn in: the narrowest.
        assert_eq!(resolve_width(None, Some("20"), terminal), MIN_WIDTH);
        assert_eq!(resolve_width(None, None, || Some(30)), MIN_WIDTH);
    }

    #[test]
    fn clip_cuts_by_visible_columns() {
        let style = Style { color: true };
        let painted = format!("ab{}ef", style.paint(RED, "cd"));
        assert_eq!(visible_width(&painted), 6);
        assert_eq!(clip(&painted, 6), painted);
        assert_eq!(clip(&painted, 4), "ab\x1b[31mc…\x1b[0m");
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("█▏│├─", 3), "█▏…");
        assert_eq!(clip("abc", 1), "…");
        assert_eq!(clip("abc", 0), "");
    }
}
