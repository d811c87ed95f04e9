//! Reading OTLP/JSON lines, of spans (`resourceSpans`) and of log records
//! (`resourceLogs`): the few fields `tracelink` shows, borrowed from the
//! line where possible.
//!
//! Lenient where the encoding allows choices: ids in either case, 64-bit
//! integers as strings or numbers, enums as integers (or, as some writers
//! do, names), snake_case field names as older Collectors accept them, and
//! unknown fields ignored, as the OTLP specification asks of receivers.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

/// One line: an `ExportTraceServiceRequest`, its spans read as `S`.
///
/// The lists default with `Vec::new`: a plain `default` would make serde ask
/// for `S: Default`.
#[derive(Deserialize)]
pub(crate) struct Request<'a, S = Span<'a>> {
    #[serde(
        rename = "resourceSpans",
        alias = "resource_spans",
        borrow,
        default = "Vec::new"
    )]
    pub(crate) resource_spans: Vec<ResourceSpans<'a, S>>,
}

#[derive(Deserialize)]
pub(crate) struct ResourceSpans<'a, S> {
    #[serde(borrow, default)]
    pub(crate) resource: Option<Resource<'a>>,
    #[serde(rename = "scopeSpans", alias = "scope_spans", default = "Vec::new")]
    pub(crate) scope_spans: Vec<ScopeSpans<S>>,
}

/// A resource: only its `service.name` is shown, so an attribute that does
/// not parse is left out rather than taking its spans with it.
#[derive(Deserialize, Default)]
pub(crate) struct Resource<'a> {
    #[serde(borrow, default)]
    pub(crate) attributes: Vec<Lenient<KeyValue<'a>>>,
}

impl Resource<'_> {
    /// `service.name`, or `unknown_service` as the specification says.
    pub(crate) fn service_name(&self) -> String {
        self.attributes
            .iter()
            .filter_map(|kv| kv.0.as_ref().ok())
            .find(|kv| kv.key == "service.name")
            .map_or_else(|| "unknown_service".into(), |kv| kv.value.to_string())
    }
}

/// A `T`, or why it is not one: its JSON is taken whole first, so a value
/// out of range (or of the wrong type) inside it spoils this element alone,
/// not the list, and not the line, it is in.
pub(crate) struct Lenient<T>(pub(crate) Result<T, String>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <&'de RawValue>::deserialize(deserializer)?;
        Ok(Lenient(parse(raw)))
    }
}

/// Parses the JSON of one element, taken whole before; the error without
/// its position, which would be in the element and not in the line.
pub(crate) fn parse<'a, T: Deserialize<'a>>(raw: &'a RawValue) -> Result<T, String> {
    serde_json::from_str(raw.get()).map_err(|error| {
        let message = error.to_string();
        match message.rsplit_once(" at line ") {
            Some((message, _)) => message.to_owned(),
            None => message,
        }
    })
}

#[derive(Deserialize)]
pub(crate) struct ScopeSpans<S> {
    #[serde(default = "Vec::new")]
    pub(crate) spans: Vec<S>,
}

/// A span, its attributes read as `A` and its events as `E`: in full, or
/// [`IgnoredAny`] to skip them unparsed (see [`SummaryRequest`]).
#[derive(Deserialize)]
pub(crate) struct Span<'a, A = Vec<KeyValue<'a>>, E = Vec<Event<'a>>> {
    #[serde(rename = "traceId", alias = "trace_id", borrow, default)]
    pub(crate) trace_id: Cow<'a, str>,
    #[serde(rename = "spanId", alias = "span_id", borrow, default)]
    pub(crate) span_id: Cow<'a, str>,
    #[serde(rename = "parentSpanId", alias = "parent_span_id", borrow, default)]
    pub(crate) parent_span_id: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) name: Cow<'a, str>,
    #[serde(default, deserialize_with = "kind")]
    pub(crate) kind: i64,
    #[serde(
        rename = "startTimeUnixNano",
        alias = "start_time_unix_nano",
        default,
        deserialize_with = "number"
    )]
    pub(crate) start: u64,
    #[serde(
        rename = "endTimeUnixNano",
        alias = "end_time_unix_nano",
        default,
        deserialize_with = "number"
    )]
    pub(crate) end: u64,
    #[serde(default)]
    pub(crate) attributes: A,
    #[serde(default)]
    pub(crate) events: E,
    #[serde(borrow, default)]
    pub(crate) status: Option<Status<'a>>,
}

/// A span with only what a list of traces needs: attributes and events are
/// skipped unparsed.
pub(crate) type SummarySpan<'a> = Span<'a, IgnoredAny, IgnoredAny>;

/// One line, with only what a list of traces needs (`tracelink traces`
/// reads every line), each span on its own: one that does not parse is
/// one span left out.
pub(crate) type SummaryRequest<'a> = Request<'a, Lenient<SummarySpan<'a>>>;

/// [`SummaryRequest`] with its spans parsed in one pass: faster, but a bad
/// value in one span fails the line.
pub(crate) type StrictSummaryRequest<'a> = Request<'a, SummarySpan<'a>>;

/// One line with its spans and log records unparsed, for `tracelink show`
/// to parse those of its trace, each on its own. A line holds either (the
/// store's writers write one signal a line), but may hold both.
#[derive(Deserialize)]
pub(crate) struct RawLine<'a> {
    #[serde(
        rename = "resourceSpans",
        alias = "resource_spans",
        borrow,
        default = "Vec::new"
    )]
    pub(crate) resource_spans: Vec<ResourceSpans<'a, &'a RawValue>>,
    #[serde(
        rename = "resourceLogs",
        alias = "resource_logs",
        borrow,
        default = "Vec::new"
    )]
    pub(crate) resource_logs: Vec<ResourceLogs<'a, &'a RawValue>>,
}

#[derive(Deserialize)]
pub(crate) struct ResourceLogs<'a, R> {
    #[serde(borrow, default)]
    pub(crate) resource: Option<Resource<'a>>,
    #[serde(rename = "scopeLogs", alias = "scope_logs", default = "Vec::new")]
    pub(crate) scope_logs: Vec<ScopeLogs<R>>,
}

#[derive(Deserialize)]
pub(crate) struct ScopeLogs<R> {
    #[serde(rename = "logRecords", alias = "log_records", default = "Vec::new")]
    pub(crate) log_records: Vec<R>,
}

/// A log record.
#[derive(Deserialize)]
pub(crate) struct LogRecord<'a> {
    #[serde(
        rename = "timeUnixNano",
        alias = "time_unix_nano",
        default,
        deserialize_with = "number"
    )]
    pub(crate) time: u64,
    #[serde(
        rename = "observedTimeUnixNano",
        alias = "observed_time_unix_nano",
        default,
        deserialize_with = "number"
    )]
    pub(crate) observed_time: u64,
    #[serde(
        rename = "severityNumber",
        alias = "severity_number",
        default,
        deserialize_with = "severity_number"
    )]
    pub(crate) severity_number: i64,
    #[serde(rename = "severityText", alias = "severity_text", borrow, default)]
    pub(crate) severity_text: Cow<'a, str>,
    #[serde(default)]
    pub(crate) body: AnyValue,
    #[serde(borrow, default)]
    pub(crate) attributes: Vec<KeyValue<'a>>,
    #[serde(rename = "traceId", alias = "trace_id", borrow, default)]
    pub(crate) trace_id: Cow<'a, str>,
    #[serde(rename = "spanId", alias = "span_id", borrow, default)]
    pub(crate) span_id: Cow<'a, str>,
    #[serde(rename = "eventName", alias = "event_name", borrow, default)]
    pub(crate) event_name: Cow<'a, str>,
}

#[derive(Deserialize)]
pub(crate) struct Event<'a> {
    #[serde(
        rename = "timeUnixNano",
        alias = "time_unix_nano",
        default,
        deserialize_with = "number"
    )]
    pub(crate) time: u64,
    #[serde(borrow, default)]
    pub(crate) name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) attributes: Vec<KeyValue<'a>>,
}

#[derive(Deserialize, Default)]
pub(crate) struct Status<'a> {
    #[serde(borrow, default)]
    pub(crate) message: Cow<'a, str>,
    #[serde(default, deserialize_with = "status_code")]
    pub(crate) code: i64,
}

/// `status.code` 2.
pub(crate) const STATUS_ERROR: i64 = 2;

#[derive(Deserialize)]
pub(crate) struct KeyValue<'a> {
    #[serde(borrow, default)]
    pub(crate) key: Cow<'a, str>,
    #[serde(default)]
    pub(crate) value: AnyValue,
}

/// An attribute value, as `tracelink` shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) enum AnyValue {
    #[default]
    Empty,
    String(String),
    Bool(bool),
    Int(i64),
    Double(f64),
    /// Base64, as in the line.
    Bytes(String),
    Array(Vec<AnyValue>),
    Map(Vec<(String, AnyValue)>),
}

impl fmt::Display for AnyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnyValue::Empty => Ok(()),
            AnyValue::String(s) => f.write_str(s),
            AnyValue::Bool(b) => write!(f, "{b}"),
            AnyValue::Int(i) => write!(f, "{i}"),
            AnyValue::Double(d) => write!(f, "{d}"),
            AnyValue::Bytes(b) => write!(f, "base64:{b}"),
            AnyValue::Array(values) => {
                f.write_str("[")?;
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            AnyValue::Map(entries) => {
                f.write_str("{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}={v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

impl<'de> Deserialize<'de> for AnyValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AnyValueVisitor)
    }
}

struct AnyValueVisitor;

impl<'de> Visitor<'de> for AnyValueVisitor {
    type Value = AnyValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an OTLP AnyValue object")
    }

    fn visit_unit<E>(self) -> Result<AnyValue, E> {
        Ok(AnyValue::Empty)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AnyValue, A::Error> {
        #[derive(Deserialize)]
        struct Values<T> {
            #[serde(default = "Vec::new")]
            values: Vec<T>,
        }
        let mut value = AnyValue::Empty;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            value = match &*key {
                "stringValue" | "string_value" => {
                    AnyValue::String(map.next_value::<Option<String>>()?.unwrap_or_default())
                }
                "boolValue" | "bool_value" => {
                    AnyValue::Bool(map.next_value::<Option<bool>>()?.unwrap_or_default())
                }
                "intValue" | "int_value" => AnyValue::Int(map.next_value::<Int>()?.0),
                "doubleValue" | "double_value" => AnyValue::Double(map.next_value::<Double>()?.0),
                "bytesValue" | "bytes_value" => {
                    AnyValue::Bytes(map.next_value::<Option<String>>()?.unwrap_or_default())
                }
                "arrayValue" | "array_value" => {
                    let array = map.next_value::<Option<Values<AnyValue>>>()?;
                    AnyValue::Array(array.map(|a| a.values).unwrap_or_default())
                }
                "kvlistValue" | "kvlist_value" => {
                    let list = map.next_value::<Option<Values<KeyValue<'_>>>>()?;
                    AnyValue::Map(
                        list.map(|l| l.values)
                            .unwrap_or_default()
                            .into_iter()
                            .map(|kv| (kv.key.into_owned(), kv.value))
                            .collect(),
                    )
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
        }
        Ok(value)
    }
}

/// An int64: a decimal string, as OTLP/JSON writes it, or a number.
struct Int(i64);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Int;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer, or a string holding one")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Int, E> {
                Ok(Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Int, E> {
                i64::try_from(v).map(Int).map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Int, E> {
                Ok(Int(v as i64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Int, E> {
                v.trim().parse().map(Int).map_err(E::custom)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Int, E> {
                Ok(Int(0))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A double: a number, or `"NaN"`, `"Infinity"`, `"-Infinity"` (or a
/// number in a string).
struct Double(f64);

impl<'de> Deserialize<'de> for Double {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Double;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number, NaN or Infinity")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Double, E> {
                Ok(Double(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Double, E> {
                Ok(Double(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Double, E> {
                Ok(Double(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Double, E> {
                match v {
                    "NaN" => Ok(Double(f64::NAN)),
                    "Infinity" => Ok(Double(f64::INFINITY)),
                    "-Infinity" => Ok(Double(f64::NEG_INFINITY)),
                    other => other.parse().map(Double).map_err(E::custom),
                }
            }
            fn visit_unit<E: de::Error>(self) -> Result<Double, E> {
                Ok(Double(0.0))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// An unsigned 64-bit field (times, flags): a string or a number.
fn number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = u64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an unsigned integer, or a string holding one")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(E::custom)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
            Ok(v as u64)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
            v.trim().parse().map_err(E::custom)
        }
        fn visit_unit<E: de::Error>(self) -> Result<u64, E> {
            Ok(0)
        }
    }
    deserializer.deserialize_any(V)
}

/// An enum: its number, or its name (which OTLP/JSON forbids, but some
/// writers use).
fn enumeration<'de, D: Deserializer<'de>>(
    deserializer: D,
    names: &'static [&'static str],
) -> Result<i64, D::Error> {
    struct V(&'static [&'static str]);
    impl Visitor<'_> for V {
        type Value = i64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an enum number or name")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(E::custom)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
            match self.0.iter().position(|name| *name == v) {
                Some(i) => Ok(i as i64),
                None => v.parse().map_err(E::custom),
            }
        }
        fn visit_unit<E: de::Error>(self) -> Result<i64, E> {
            Ok(0)
        }
    }
    deserializer.deserialize_any(V(names))
}

fn kind<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    enumeration(
        deserializer,
        &[
            "SPAN_KIND_UNSPECIFIED",
            "SPAN_KIND_INTERNAL",
            "SPAN_KIND_SERVER",
            "SPAN_KIND_CLIENT",
            "SPAN_KIND_PRODUCER",
            "SPAN_KIND_CONSUMER",
        ],
    )
}

fn status_code<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    enumeration(
        deserializer,
        &["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"],
    )
}

fn severity_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    const NAMES: [&str; 25] = [
        "SEVERITY_NUMBER_UNSPECIFIED",
        "SEVERITY_NUMBER_TRACE",
        "SEVERITY_NUMBER_TRACE2",
        "SEVERITY_NUMBER_TRACE3",
        "SEVERITY_NUMBER_TRACE4",
        "SEVERITY_NUMBER_DEBUG",
        "SEVERITY_NUMBER_DEBUG2",
        "SEVERITY_NUMBER_DEBUG3",
        "SEVERITY_NUMBER_DEBUG4",
        "SEVERITY_NUMBER_INFO",
        "SEVERITY_NUMBER_INFO2",
        "SEVERITY_NUMBER_INFO3",
        "SEVERITY_NUMBER_INFO4",
        "SEVERITY_NUMBER_WARN",
        "SEVERITY_NUMBER_WARN2",
        "SEVERITY_NUMBER_WARN3",
        "SEVERITY_NUMBER_WARN4",
        "SEVERITY_NUMBER_ERROR",
        "SEVERITY_NUMBER_ERROR2",
        "SEVERITY_NUMBER_ERROR3",
        "SEVERITY_NUMBER_ERROR4",
        "SEVERITY_NUMBER_FATAL",
        "SEVERITY_NUMBER_FATAL2",
        "SEVERITY_NUMBER_FATAL3",
        "SEVERITY_NUMBER_FATAL4",
    ];
    enumeration(deserializer, &NAMES)
}

/// The short name of a severity number: `INFO`, `WARN2`, ...; empty for
/// one outside 1 to 24.
pub(crate) fn severity_name(number: i64) -> String {
    const NAMES: [&str; 6] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
    if !(1..=24).contains(&number) {
        return String::new();
    }
    let (name, step) = ((number - 1) / 4, (number - 1) % 4);
    if step == 0 {
        NAMES[name as usize].to_owned()
    } else {
        format!("{}{}", NAMES[name as usize], step + 1)
    }
}

/// `severityNumber` 17, `ERROR`, and above.
pub(crate) const SEVERITY_ERROR: i64 = 17;

/// The kind's name, as `tracelink` shows it.
pub(crate) fn kind_name(kind: i64) -> &'static str {
    match kind {
        1 => "internal",
        2 => "server",
        3 => "client",
        4 => "producer",
        5 => "consumer",
        _ => "",
    }
}

// ---------------------------------------------------------------------------
// Ids
// ---------------------------------------------------------------------------

/// Ids in hex: the library's, which the store and the log lines are
/// written with.
pub(crate) use tracelink::encode::hex::{decode as decode_hex, to_string as hex};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_of_every_kind() {
        let line = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"shop"}}]},
            "scopeSpans":[{"spans":[{"traceId":"4BF92F3577B34DA6A3CE929D0E0E4736","spanId":"00f067aa0ba902b7",
            "name":"x","kind":"SPAN_KIND_SERVER","startTimeUnixNano":1000,"endTimeUnixNano":"3000",
            "attributes":[{"key":"i","value":{"intValue":"-5"}},{"key":"n","value":{"intValue":7}},
              {"key":"d","value":{"doubleValue":"NaN"}},{"key":"b","value":{"boolValue":true}},
              {"key":"a","value":{"arrayValue":{"values":[{"stringValue":"x"},{"intValue":"1"}]}}},
              {"key":"m","value":{"kvlistValue":{"values":[{"key":"k","value":{"stringValue":"v"}}]}}},
              {"key":"e","value":{}},{"key":"future","value":{"somethingNew":1}}],
            "status":{"code":2,"message":"boom"},"unknownField":{"x":[1,2]}}]}]}]}"#;
        let request: Request<'_> = serde_json::from_str(line).unwrap();
        let rs = &request.resource_spans[0];
        assert_eq!(rs.resource.as_ref().unwrap().service_name(), "shop");
        let span = &rs.scope_spans[0].spans[0];
        assert_eq!(
            decode_hex::<16>(&span.trace_id).map(|id| hex(&id)).unwrap(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(span.kind, 2);
        assert_eq!((span.start, span.end), (1000, 3000));
        let values: Vec<String> = span
            .attributes
            .iter()
            .map(|kv| kv.value.to_string())
            .collect();
        assert_eq!(
            values,
            ["-5", "7", "NaN", "true", "[x, 1]", "{k=v}", "", ""]
        );
        let status = span.status.as_ref().unwrap();
        assert_eq!((status.code, &*status.message), (STATUS_ERROR, "boom"));
    }

    #[test]
    fn the_summary_skips_attributes_and_events_unparsed() {
        // Values the full model refuses: the summary never looks at them.
        let line = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{
            "traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7","name":"x",
            "startTimeUnixNano":"1000","endTimeUnixNano":3000,
            "attributes":[{"key":"i","value":{"intValue":"not a number"}}],
            "events":{"not":"a list"},"status":{"code":"STATUS_CODE_ERROR"}}]}]}]}"#;
        assert!(serde_json::from_str::<Request<'_>>(line).is_err());
        let request: SummaryRequest<'_> = serde_json::from_str(line).unwrap();
        let rs = &request.resource_spans[0];
        assert!(rs.resource.is_none());
        let span = rs.scope_spans[0].spans[0].0.as_ref().unwrap();
        assert_eq!((&*span.name, span.start, span.end), ("x", 1000, 3000));
        assert_eq!(span.status.as_ref().unwrap().code, STATUS_ERROR);
    }

    #[test]
    fn a_bad_value_spoils_its_own_span_and_attribute_only() {
        let line = r#"{"resourceSpans":[{"resource":{"attributes":[
              {"key":"host.pid","value":{"intValue":"99999999999999999999"}},
              {"key":"service.name","value":{"stringValue":"shop"}}]},
            "scopeSpans":[{"spans":[
              {"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7","name":"good"},
              {"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b8","name":"bad",
               "startTimeUnixNano":"-5"},
              {"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b9","name":17}]}]}]}"#;
        let request: SummaryRequest<'_> = serde_json::from_str(line).unwrap();
        let rs = &request.resource_spans[0];
        assert_eq!(rs.resource.as_ref().unwrap().service_name(), "shop");
        let spans = &rs.scope_spans[0].spans;
        assert_eq!(spans[0].0.as_ref().map(|s| &*s.name), Ok("good"));
        assert_eq!(
            spans[1].0.as_ref().err().map(String::as_str),
            Some("invalid digit found in string")
        );
        assert!(spans[2].0.is_err());
        // The raw spans of a line, for `show`, each parsed on its own.
        let request: RawLine<'_> = serde_json::from_str(line).unwrap();
        assert!(request.resource_logs.is_empty());
        let raw = &request.resource_spans[0].scope_spans[0].spans;
        assert_eq!(raw.len(), 3);
        assert!(parse::<Span<'_>>(raw[0]).is_ok());
        assert!(parse::<Span<'_>>(raw[1]).is_err());
    }

    #[test]
    fn log_records_of_every_spelling() {
        let line = r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"py"}}]},
            "scopeLogs":[{"scope":{},"logRecords":[
              {"timeUnixNano":"1000","observedTimeUnixNano":"2000","severityNumber":17,"severityText":"ERROR",
               "body":{"stringValue":"boom"},"attributes":[{"key":"k","value":{"intValue":"3"}}],"flags":1,
               "traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7","eventName":"e"},
              {"time_unix_nano":5,"severity_number":"SEVERITY_NUMBER_WARN2","body":{"kvlistValue":{"values":[]}},
               "trace_id":"4BF92F3577B34DA6A3CE929D0E0E4736"},
              {"severityNumber":"loud"}]}]}]}"#;
        let request: RawLine<'_> = serde_json::from_str(line).unwrap();
        assert!(request.resource_spans.is_empty());
        let rl = &request.resource_logs[0];
        assert_eq!(rl.resource.as_ref().unwrap().service_name(), "py");
        let raw = &rl.scope_logs[0].log_records;
        let first = parse::<LogRecord<'_>>(raw[0]).unwrap();
        assert_eq!((first.time, first.observed_time), (1000, 2000));
        assert_eq!(
            (first.severity_number, &*first.severity_text),
            (17, "ERROR")
        );
        assert_eq!(first.body, AnyValue::String("boom".into()));
        assert_eq!(first.attributes[0].value, AnyValue::Int(3));
        assert_eq!(
            (&*first.span_id, &*first.event_name),
            ("00f067aa0ba902b7", "e")
        );
        let second = parse::<LogRecord<'_>>(raw[1]).unwrap();
        assert_eq!((second.time, second.severity_number), (5, 14));
        assert_eq!(second.body, AnyValue::Map(Vec::new()));
        assert!(decode_hex::<16>(&second.trace_id).is_some());
        assert!(parse::<LogRecord<'_>>(raw[2]).is_err());
        // Lines of log records hold no spans for a list of traces.
        let summary: SummaryRequest<'_> = serde_json::from_str(line).unwrap();
        assert!(summary.resource_spans.is_empty());
    }

    #[test]
    fn severity_names() {
        let names: Vec<String> = [0, 1, 4, 5, 9, 10, 13, 17, 20, 21, 24, 25, -1]
            .into_iter()
            .map(severity_name)
            .collect();
        assert_eq!(
            names,
            [
                "", "TRACE", "TRACE4", "DEBUG", "INFO", "INFO2", "WARN", "ERROR", "ERROR4",
                "FATAL", "FATAL4", "", ""
            ]
        );
    }
}
