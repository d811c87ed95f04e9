//! Reading `OTEL_*` variables by the specification's rules.
//!
//! * An empty (or all-blank) value is the same as an unset one.
//! * An invalid value is skipped with one warning that names the variable, the
//!   value, the reason and the fallback; in strict mode it is an [`Error`] instead.
//! * Code beats env: the builder only asks for a variable it has no value for.

use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::time::Duration;

use crate::Error;

/// Where variables come from: the process environment, or a fixed set given to
/// [`Builder::with_env`](crate::Builder::with_env).
#[derive(Clone, Default)]
pub(crate) enum EnvSource {
    #[default]
    Process,
    Vars(HashMap<String, String>),
}

/// Names only: values may be credentials (`OTEL_EXPORTER_OTLP_HEADERS`).
impl std::fmt::Debug for EnvSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EnvSource::Process => f.write_str("Process"),
            EnvSource::Vars(vars) => {
                let mut names: Vec<&String> = vars.keys().collect();
                names.sort_unstable();
                f.debug_tuple("Vars").field(&names).finish()
            }
        }
    }
}

impl EnvSource {
    /// The variable's value, or `None` when it is unset, empty or blank.
    pub(crate) fn get(&self, name: &str) -> Option<String> {
        let value = match self {
            EnvSource::Process => std::env::var(name).ok()?,
            EnvSource::Vars(vars) => vars.get(name)?.clone(),
        };
        (!value.trim().is_empty()).then_some(value)
    }
}

/// One rejected value: [`Config::warnings`](super::Config::warnings) lists them.
pub(crate) use super::Warning as Issue;

/// Reads variables and collects what was wrong with them.
#[derive(Debug)]
pub(crate) struct EnvReader<'a> {
    source: &'a EnvSource,
    pub(crate) issues: Vec<Issue>,
}

impl<'a> EnvReader<'a> {
    pub(crate) fn new(source: &'a EnvSource) -> Self {
        let mut reader = Self {
            source,
            issues: Vec::new(),
        };
        if matches!(source, EnvSource::Process) {
            reader.refuse_non_utf8();
        }
        reader
    }

    /// A variable of ours whose value is not UTF-8 is read as unset, like
    /// any invalid value: with a warning (an error in strict mode), not in
    /// silence.
    fn refuse_non_utf8(&mut self) {
        for (name, value) in std::env::vars_os() {
            let Some(name) = name.to_str() else { continue };
            let ours = name.starts_with("OTEL_")
                || name.starts_with("TRACELINK_")
                || name == "RUST_LOG"
                || name == "GOOGLE_CLOUD_PROJECT";
            if ours && value.to_str().is_none() {
                // A name is needed for the process's life (warnings name
                // their variable with `&'static str`); a handful at most,
                // once per `init`.
                let name: &'static str = Box::leak(name.to_owned().into_boxed_str());
                self.reject(
                    name,
                    &value.to_string_lossy(),
                    "not valid UTF-8",
                    "the default",
                );
            }
        }
    }

    pub(crate) fn raw(&self, name: &str) -> Option<String> {
        self.source.get(name)
    }

    pub(crate) fn reject(
        &mut self,
        name: &'static str,
        value: &str,
        reason: impl Into<String>,
        fallback: impl Into<String>,
    ) {
        // Header values and a URL's user and password are credentials:
        // never repeated in a warning or error.
        let value = if name.ends_with("_HEADERS") || name == "Builder::with_otlp_header" {
            "<redacted>".into()
        } else {
            super::redact_url(value)
        };
        let reason = reason.into();
        // A generic variable read for a second signal (the logs' OTLP
        // settings after the traces') warns once.
        if self
            .issues
            .iter()
            .any(|i| i.name == name && i.value == value && i.reason == reason)
        {
            return;
        }
        self.issues.push(Issue {
            name,
            value: value.into_owned(),
            reason,
            fallback: fallback.into(),
        });
    }

    /// Parses `name` with `parse`; on failure records the issue and returns `None`.
    pub(crate) fn parse<T>(
        &mut self,
        name: &'static str,
        fallback: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let value = self.raw(name)?;
        match parse(value.trim()) {
            Ok(parsed) => Some(parsed),
            Err(reason) => {
                self.reject(name, &value, reason, fallback);
                None
            }
        }
    }

    /// A boolean: `true` or `false`, in any case.
    pub(crate) fn bool(&mut self, name: &'static str, default: bool) -> bool {
        self.parse(name, &default.to_string(), |v| {
            match v.to_ascii_lowercase().as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err("expected true or false".into()),
            }
        })
        .unwrap_or(default)
    }

    /// A duration in whole milliseconds within `range`.
    pub(crate) fn millis_in(
        &mut self,
        name: &'static str,
        range: &RangeInclusive<Duration>,
    ) -> Option<Duration> {
        self.parse(name, "", |v| {
            let value = parse_millis(v)?;
            if range.contains(&value) {
                Ok(value)
            } else {
                Err(format!(
                    "out of range: expected {} to {} milliseconds",
                    range.start().as_millis(),
                    range.end().as_millis()
                ))
            }
        })
    }

    /// A whole number within `range`.
    pub(crate) fn count_in(
        &mut self,
        name: &'static str,
        range: &RangeInclusive<usize>,
    ) -> Option<usize> {
        self.parse(name, "", |v| match v.parse::<u128>() {
            Ok(n) if usize::try_from(n).is_ok_and(|n| range.contains(&n)) => {
                usize::try_from(n).map_err(|e| e.to_string())
            }
            Ok(_) => Err(format!(
                "out of range: expected a whole number from {} to {}",
                range.start(),
                range.end()
            )),
            Err(_) => Err(format!(
                "expected a whole number from {} to {}",
                range.start(),
                range.end()
            )),
        })
    }

    /// A value given in code, checked against `range` like a variable: out
    /// of it, one warning naming `name`, and `None` (the caller's default).
    pub(crate) fn code_in<T: PartialOrd + std::fmt::Debug>(
        &mut self,
        name: &'static str,
        value: T,
        range: &RangeInclusive<T>,
        show: impl Fn(&T) -> String,
    ) -> Option<T> {
        if range.contains(&value) {
            return Some(value);
        }
        let reason = format!(
            "out of range: expected {} to {}",
            show(range.start()),
            show(range.end())
        );
        self.reject(name, &show(&value), reason, "");
        None
    }

    /// Gives the issues recorded with an empty fallback, about any of
    /// `names`, the value finally chosen: whether the next variable in line
    /// or the default won is only known once they have all been read.
    pub(crate) fn fill_fallback(&mut self, names: &[&str], chosen: &str) {
        for issue in &mut self.issues {
            if issue.fallback.is_empty() && names.contains(&issue.name) {
                chosen.clone_into(&mut issue.fallback);
            }
        }
    }

    /// A comma-separated list of names, as `OTEL_TRACES_EXPORTER` and
    /// `OTEL_PROPAGATORS` take: the known ones in order, each once, matched
    /// ignoring case; `none` anywhere empties the list. Unknown names get one
    /// warning, and the list falls back to `default` if nothing valid is left.
    pub(crate) fn name_list<T: Copy + PartialEq>(
        &mut self,
        var: &'static str,
        what: &str,
        names: &[(&'static str, T)],
        default: &[T],
    ) -> Vec<T> {
        let Some(value) = self.raw(var) else {
            return default.to_vec();
        };
        let mut list = Vec::new();
        let mut none = false;
        let mut bad = Vec::new();
        for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if item.eq_ignore_ascii_case("none") {
                none = true;
            } else if let Some(&(_, known)) =
                names.iter().find(|(n, _)| n.eq_ignore_ascii_case(item))
            {
                if !list.contains(&known) {
                    list.push(known);
                }
            } else {
                bad.push(item.to_owned());
            }
        }
        if none {
            list.clear();
        }
        if !bad.is_empty() {
            if list.is_empty() && !none {
                list = default.to_vec();
            }
            let name_of = |t: &T| names.iter().find(|(_, k)| k == t).map_or("", |(n, _)| n);
            let result = if list.is_empty() {
                "none".to_owned()
            } else {
                list.iter().map(name_of).collect::<Vec<_>>().join(",")
            };
            let expected: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
            self.reject(
                var,
                &value,
                format!(
                    "unsupported {what} {}; expected {} or none",
                    bad.join(", "),
                    expected.join(", ")
                ),
                result,
            );
        }
        list
    }

    /// In strict mode, the first issue as an error.
    pub(crate) fn strict_error(&self) -> Option<Error> {
        self.issues.first().map(|issue| Error::InvalidConfig {
            name: issue.name,
            value: issue.value.clone(),
            reason: issue.reason.clone(),
        })
    }
}

/// A duration for messages and the settings summary: `250 ms`.
pub(crate) fn ms(d: &Duration) -> String {
    format!("{} ms", d.as_millis())
}

pub(crate) fn parse_millis(value: &str) -> Result<Duration, String> {
    value
        .parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| "expected a whole number of milliseconds".into())
}

/// Parses a `key1=value1,key2=value2` list with percent-decoded values, as
/// `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_EXPORTER_OTLP_HEADERS` use.
///
/// Any error rejects the whole list: a partial list would be silently wrong.
pub(crate) fn parse_key_values(value: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    for member in value.split(',') {
        if member.trim().is_empty() {
            continue;
        }
        let Some((key, raw)) = member.split_once('=') else {
            return Err(format!("member {:?} has no '='", member.trim()));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(format!("member {:?} has an empty key", member.trim()));
        }
        let decoded =
            percent_decode(raw.trim()).map_err(|reason| format!("value of {key:?} {reason}"))?;
        pairs.push((key.to_owned(), decoded));
    }
    Ok(pairs)
}

/// Strict percent-decoding: a `%` must be followed by two hex digits, and the
/// result must be UTF-8.
pub(crate) fn percent_decode(value: &str) -> Result<String, String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|pair| {
                let s = std::str::from_utf8(pair).ok()?;
                u8::from_str_radix(s, 16).ok()
            });
            match hex {
                Some(byte) => out.push(byte),
                None => return Err(format!("has a bad percent-escape at byte {i}")),
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "is not UTF-8 once percent-decoded".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_values_are_trimmed_and_decoded() {
        let pairs = parse_key_values(" a = x%20y , b=%E2%9C%93,,c=").unwrap();
        assert_eq!(
            pairs,
            vec![
                ("a".into(), "x y".into()),
                ("b".into(), "\u{2713}".into()),
                ("c".into(), String::new())
            ]
        );
    }

    #[test]
    fn any_bad_member_rejects_the_list() {
        assert!(parse_key_values("a=1,b").unwrap_err().contains("no '='"));
        assert!(parse_key_values("a=1,=2")
            .unwrap_err()
            .contains("empty key"));
        assert!(parse_key_values("a=%zz").unwrap_err().contains("percent"));
        assert!(parse_key_values("a=%4").unwrap_err().contains("percent"));
        assert!(parse_key_values("a=%ff").unwrap_err().contains("UTF-8"));
    }

    #[test]
    fn fill_fallback_gives_only_the_open_issues_of_those_names_the_value_chosen() {
        let source = EnvSource::Vars(HashMap::new());
        let mut env = EnvReader::new(&source);
        env.reject("A", "1", "bad", "");
        env.reject("B", "2", "bad", "");
        env.reject("A", "3", "bad", "kept");
        env.fill_fallback(&["A"], "chosen");
        let fallbacks: Vec<&str> = env.issues.iter().map(|i| i.fallback.as_str()).collect();
        assert_eq!(fallbacks, ["chosen", "", "kept"]);
    }

    #[test]
    fn blank_is_unset() {
        let env = EnvSource::Vars(HashMap::from([("X".into(), "  ".into())]));
        assert_eq!(env.get("X"), None);
    }
}
