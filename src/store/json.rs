//! OTLP/JSON, written by hand: one `ExportTraceServiceRequest` or
//! `ExportLogsServiceRequest` as one line, exactly as the OpenTelemetry
//! Collector's file exporter writes it.
//!
//! The rules (OTLP specification, "JSON Protobuf Encoding", on top of the
//! proto3 JSON mapping):
//!
//! * keys are the lowerCamelCase field names, in the order the `.proto`
//!   declares them;
//! * `traceId`, `spanId` and `parentSpanId` are lowercase hex, not base64;
//! * enums (`kind`, `status.code`, `severityNumber`) are integers;
//! * 64-bit integers (`intValue`, `*TimeUnixNano`) are decimal strings;
//!   32-bit ones (`flags`, `dropped*Count`) are numbers;
//! * `bytesValue` is base64 (standard alphabet, padded);
//! * `doubleValue` is a number, or `"NaN"`, `"Infinity"`, `"-Infinity"`;
//! * fields holding their default value (0, `""`, empty list) are left out,
//!   except `resource`, `scope`, a span's `status` and a log record's
//!   `body`, which the Collector always writes (`"status":{}` for an unset
//!   status, `"body":{}` for no body);
//! * a log record's `traceId` and `spanId` are left out when empty or all
//!   zeros, as the Collector holds them (as fixed-size ids, whose zero
//!   value is "no id"). A span's ids are written as given.
//!
//! No `serde`: opentelemetry-proto's `with-serde` feature would add serde's
//! derives for every message type to the library's build, and writes
//! `"status":null`, empty defaults, and `null` for a NaN double, none of which
//! is what the Collector writes (the last is not even valid OTLP/JSON).

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

use crate::encode::json::string;
use opentelemetry_proto::tonic::common::v1::{
    any_value, AnyValue, EntityRef, InstrumentationScope, KeyValue,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};

/// Appends `request` to `out` as one line of OTLP/JSON, without the newline.
pub(crate) fn encode_request(request: &ExportTraceServiceRequest, out: &mut String) {
    let mut o = Object::new(out);
    o.list("resourceSpans", &request.resource_spans, resource_spans);
    o.end();
}

/// Appends the logs `request` to `out` as one line of OTLP/JSON, without
/// the newline.
pub(crate) fn encode_logs_request(request: &ExportLogsServiceRequest, out: &mut String) {
    let mut o = Object::new(out);
    o.list("resourceLogs", &request.resource_logs, resource_logs);
    o.end();
}

/// Writes the members of one JSON object, with the commas between them.
struct Object<'a> {
    out: &'a mut String,
    empty: bool,
}

impl<'a> Object<'a> {
    fn new(out: &'a mut String) -> Self {
        out.push('{');
        Self { out, empty: true }
    }

    fn key(&mut self, key: &str) -> &mut String {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        // Keys are our own field names: nothing to escape.
        self.out.push('"');
        self.out.push_str(key);
        self.out.push_str("\":");
        self.out
    }

    /// A string member, left out when empty.
    fn string(&mut self, key: &str, value: &str) {
        if !value.is_empty() {
            let out = self.key(key);
            string(out, value);
        }
    }

    /// A hex id member, left out when empty.
    fn id(&mut self, key: &str, bytes: &[u8]) {
        if !bytes.is_empty() {
            let out = self.key(key);
            out.push('"');
            crate::encode::hex::bytes(out, bytes);
            out.push('"');
        }
    }

    /// A hex id member, left out when empty or all zeros (the Collector's
    /// "no id").
    fn id_unless_zero(&mut self, key: &str, bytes: &[u8]) {
        if bytes.iter().any(|&b| b != 0) {
            self.id(key, bytes);
        }
    }

    /// A 32-bit number member, left out when 0.
    fn number<N: itoa::Integer + Default + PartialEq>(&mut self, key: &str, value: N) {
        if value != N::default() {
            let out = self.key(key);
            out.push_str(itoa::Buffer::new().format(value));
        }
    }

    /// A 64-bit number member, as a decimal string, left out when 0.
    fn long<N: itoa::Integer + Default + PartialEq>(&mut self, key: &str, value: N) {
        if value != N::default() {
            let out = self.key(key);
            out.push('"');
            out.push_str(itoa::Buffer::new().format(value));
            out.push('"');
        }
    }

    /// A list member, left out when empty.
    fn list<T>(&mut self, key: &str, items: &[T], write: fn(&mut String, &T)) {
        if !items.is_empty() {
            let out = self.key(key);
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, item);
            }
            out.push(']');
        }
    }

    fn end(self) {
        self.out.push('}');
    }
}

fn resource_spans(out: &mut String, rs: &ResourceSpans) {
    let mut o = Object::new(out);
    resource(o.key("resource"), rs.resource.as_ref());
    o.list("scopeSpans", &rs.scope_spans, scope_spans);
    o.string("schemaUrl", &rs.schema_url);
    o.end();
}

fn resource(out: &mut String, resource: Option<&Resource>) {
    let mut o = Object::new(out);
    if let Some(r) = resource {
        o.list("attributes", &r.attributes, key_value);
        o.number("droppedAttributesCount", r.dropped_attributes_count);
        o.list("entityRefs", &r.entity_refs, entity_ref);
    }
    o.end();
}

fn entity_ref(out: &mut String, e: &EntityRef) {
    let mut o = Object::new(out);
    o.string("schemaUrl", &e.schema_url);
    o.string("type", &e.r#type);
    o.list("idKeys", &e.id_keys, |out, key| string(out, key));
    o.list("descriptionKeys", &e.description_keys, |out, key| {
        string(out, key);
    });
    o.end();
}

fn scope_spans(out: &mut String, ss: &ScopeSpans) {
    let mut o = Object::new(out);
    scope(o.key("scope"), ss.scope.as_ref());
    o.list("spans", &ss.spans, span);
    o.string("schemaUrl", &ss.schema_url);
    o.end();
}

fn scope(out: &mut String, scope: Option<&InstrumentationScope>) {
    let mut o = Object::new(out);
    if let Some(s) = scope {
        o.string("name", &s.name);
        o.string("version", &s.version);
        o.list("attributes", &s.attributes, key_value);
        o.number("droppedAttributesCount", s.dropped_attributes_count);
    }
    o.end();
}

fn span(out: &mut String, s: &Span) {
    let mut o = Object::new(out);
    o.id("traceId", &s.trace_id);
    o.id("spanId", &s.span_id);
    o.string("traceState", &s.trace_state);
    o.id("parentSpanId", &s.parent_span_id);
    o.number("flags", s.flags);
    o.string("name", &s.name);
    o.number("kind", s.kind);
    o.long("startTimeUnixNano", s.start_time_unix_nano);
    o.long("endTimeUnixNano", s.end_time_unix_nano);
    o.list("attributes", &s.attributes, key_value);
    o.number("droppedAttributesCount", s.dropped_attributes_count);
    o.list("events", &s.events, event);
    o.number("droppedEventsCount", s.dropped_events_count);
    o.list("links", &s.links, link);
    o.number("droppedLinksCount", s.dropped_links_count);
    status(o.key("status"), s.status.as_ref());
    o.end();
}

fn resource_logs(out: &mut String, rl: &ResourceLogs) {
    let mut o = Object::new(out);
    resource(o.key("resource"), rl.resource.as_ref());
    o.list("scopeLogs", &rl.scope_logs, scope_logs);
    o.string("schemaUrl", &rl.schema_url);
    o.end();
}

fn scope_logs(out: &mut String, sl: &ScopeLogs) {
    let mut o = Object::new(out);
    scope(o.key("scope"), sl.scope.as_ref());
    o.list("logRecords", &sl.log_records, log_record);
    o.string("schemaUrl", &sl.schema_url);
    o.end();
}

fn log_record(out: &mut String, r: &LogRecord) {
    let mut o = Object::new(out);
    o.long("timeUnixNano", r.time_unix_nano);
    o.long("observedTimeUnixNano", r.observed_time_unix_nano);
    o.number("severityNumber", r.severity_number);
    o.string("severityText", &r.severity_text);
    let body = o.key("body");
    match &r.body {
        Some(value) => any_value(body, value),
        None => body.push_str("{}"),
    }
    o.list("attributes", &r.attributes, key_value);
    o.number("droppedAttributesCount", r.dropped_attributes_count);
    o.number("flags", r.flags);
    o.id_unless_zero("traceId", &r.trace_id);
    o.id_unless_zero("spanId", &r.span_id);
    o.string("eventName", &r.event_name);
    o.end();
}

fn event(out: &mut String, e: &span::Event) {
    let mut o = Object::new(out);
    o.long("timeUnixNano", e.time_unix_nano);
    o.string("name", &e.name);
    o.list("attributes", &e.attributes, key_value);
    o.number("droppedAttributesCount", e.dropped_attributes_count);
    o.end();
}

fn link(out: &mut String, l: &span::Link) {
    let mut o = Object::new(out);
    o.id("traceId", &l.trace_id);
    o.id("spanId", &l.span_id);
    o.string("traceState", &l.trace_state);
    o.list("attributes", &l.attributes, key_value);
    o.number("droppedAttributesCount", l.dropped_attributes_count);
    o.number("flags", l.flags);
    o.end();
}

fn status(out: &mut String, status: Option<&Status>) {
    let mut o = Object::new(out);
    if let Some(s) = status {
        o.string("message", &s.message);
        o.number("code", s.code);
    }
    o.end();
}

fn key_value(out: &mut String, kv: &KeyValue) {
    let mut o = Object::new(out);
    o.string("key", &kv.key);
    if let Some(value) = &kv.value {
        any_value(o.key("value"), value);
    }
    o.number("keyStrindex", kv.key_strindex);
    o.end();
}

fn any_value(out: &mut String, value: &AnyValue) {
    use any_value::Value;
    let mut o = Object::new(out);
    match &value.value {
        // A oneof member is written even when it holds its default: `""`
        // and `0` are values, unlike an unset field.
        Some(Value::StringValue(s)) => string(o.key("stringValue"), s),
        Some(Value::BoolValue(b)) => o
            .key("boolValue")
            .push_str(if *b { "true" } else { "false" }),
        Some(Value::IntValue(i)) => {
            let out = o.key("intValue");
            out.push('"');
            out.push_str(itoa::Buffer::new().format(*i));
            out.push('"');
        }
        Some(Value::DoubleValue(d)) => double(o.key("doubleValue"), *d),
        Some(Value::ArrayValue(array)) => {
            let mut inner = Object::new(o.key("arrayValue"));
            inner.list("values", &array.values, any_value);
            inner.end();
        }
        Some(Value::KvlistValue(list)) => {
            let mut inner = Object::new(o.key("kvlistValue"));
            inner.list("values", &list.values, key_value);
            inner.end();
        }
        Some(Value::BytesValue(bytes)) => {
            let out = o.key("bytesValue");
            out.push('"');
            base64(out, bytes);
            out.push('"');
        }
        Some(Value::StringValueStrindex(index)) => {
            o.key("stringValueStrindex")
                .push_str(itoa::Buffer::new().format(*index));
        }
        None => {}
    }
    o.end();
}

fn double(out: &mut String, d: f64) {
    if d.is_nan() {
        out.push_str("\"NaN\"");
    } else if d.is_infinite() {
        out.push_str(if d > 0.0 {
            "\"Infinity\""
        } else {
            "\"-Infinity\""
        });
    } else {
        out.push_str(ryu::Buffer::new().format_finite(d));
    }
}

fn base64(out: &mut String, bytes: &[u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in bytes.chunks(3) {
        let n = match *chunk {
            [a, b, c] => u32::from(a) << 16 | u32::from(b) << 8 | u32::from(c),
            [a, b] => u32::from(a) << 16 | u32::from(b) << 8,
            [a] => u32::from(a) << 16,
            // UNWRAP: `chunks(3)` yields 1 to 3 bytes, never 0 or 4.
            _ => unreachable!("chunks(3) yields 1 to 3 bytes"),
        };
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 0x3f) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};

    fn kv(key: &str, value: any_value::Value) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(value) }),
            key_strindex: 0,
        }
    }

    fn encode(request: &ExportTraceServiceRequest) -> String {
        let mut out = String::new();
        encode_request(request, &mut out);
        out
    }

    fn one_span(span: Span) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![kv(
                        "service.name",
                        any_value::Value::StringValue("shop".into()),
                    )],
                    dropped_attributes_count: 0,
                    entity_refs: vec![],
                }),
                scope_spans: vec![ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: "tracelink".into(),
                        version: "0.1.0".into(),
                        attributes: vec![],
                        dropped_attributes_count: 0,
                    }),
                    spans: vec![span],
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
        }
    }

    #[test]
    fn a_span_is_written_as_the_collector_writes_it() {
        let span = Span {
            trace_id: (1..=16).collect(),
            span_id: vec![0xab, 0xcd, 0xef, 1, 2, 3, 4, 5],
            trace_state: String::new(),
            parent_span_id: vec![],
            flags: 0x101,
            name: "GET /cart".into(),
            kind: span::SpanKind::Server as i32,
            start_time_unix_nano: 1_544_712_660_000_000_000,
            end_time_unix_nano: 1_544_712_661_000_000_000,
            attributes: vec![kv(
                "http.response.status_code",
                any_value::Value::IntValue(200),
            )],
            dropped_attributes_count: 0,
            events: vec![],
            dropped_events_count: 0,
            links: vec![],
            dropped_links_count: 0,
            status: Some(Status::default()),
        };
        assert_eq!(
            encode(&one_span(span)),
            concat!(
                r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"shop"}}]},"#,
                r#""scopeSpans":[{"scope":{"name":"tracelink","version":"0.1.0"},"spans":[{"#,
                r#""traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"abcdef0102030405","flags":257,"#,
                r#""name":"GET /cart","kind":2,"startTimeUnixNano":"1544712660000000000","#,
                r#""endTimeUnixNano":"1544712661000000000","#,
                r#""attributes":[{"key":"http.response.status_code","value":{"intValue":"200"}}],"#,
                r#""status":{}}]}]}]}"#
            )
        );
    }

    #[test]
    fn every_field_of_a_span_is_written() {
        let span = Span {
            trace_id: vec![0xff; 16],
            span_id: vec![0x11; 8],
            trace_state: "vendor=x".into(),
            parent_span_id: vec![0x22; 8],
            flags: 0x301,
            name: "charge".into(),
            kind: span::SpanKind::Client as i32,
            start_time_unix_nano: 1,
            end_time_unix_nano: 2,
            attributes: vec![],
            dropped_attributes_count: 3,
            events: vec![span::Event {
                time_unix_nano: 5,
                name: "retry".into(),
                attributes: vec![kv("attempt", any_value::Value::IntValue(-2))],
                dropped_attributes_count: 1,
            }],
            dropped_events_count: 4,
            links: vec![span::Link {
                trace_id: vec![0xaa; 16],
                span_id: vec![0xbb; 8],
                trace_state: "a=b".into(),
                attributes: vec![],
                dropped_attributes_count: 0,
                flags: 1,
            }],
            dropped_links_count: 6,
            status: Some(Status {
                message: "card declined".into(),
                code: 2,
            }),
        };
        let line = encode(&one_span(span));
        let expected = concat!(
            r#"{"traceId":"ffffffffffffffffffffffffffffffff","spanId":"1111111111111111","#,
            r#""traceState":"vendor=x","parentSpanId":"2222222222222222","flags":769,"#,
            r#""name":"charge","kind":3,"startTimeUnixNano":"1","endTimeUnixNano":"2","#,
            r#""droppedAttributesCount":3,"events":[{"timeUnixNano":"5","name":"retry","#,
            r#""attributes":[{"key":"attempt","value":{"intValue":"-2"}}],"droppedAttributesCount":1}],"#,
            r#""droppedEventsCount":4,"links":[{"traceId":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","#,
            r#""spanId":"bbbbbbbbbbbbbbbb","traceState":"a=b","flags":1}],"droppedLinksCount":6,"#,
            r#""status":{"message":"card declined","code":2}}"#
        );
        assert!(line.contains(expected), "{line}");
    }

    #[test]
    fn values_follow_the_proto3_json_mapping() {
        let values = vec![
            kv("s", any_value::Value::StringValue(String::new())),
            kv("b", any_value::Value::BoolValue(false)),
            kv("i", any_value::Value::IntValue(i64::MIN)),
            kv("d", any_value::Value::DoubleValue(0.25)),
            kv("nan", any_value::Value::DoubleValue(f64::NAN)),
            kv("inf", any_value::Value::DoubleValue(f64::INFINITY)),
            kv("-inf", any_value::Value::DoubleValue(f64::NEG_INFINITY)),
            kv("bytes", any_value::Value::BytesValue(b"foob".to_vec())),
            kv(
                "array",
                any_value::Value::ArrayValue(ArrayValue {
                    values: vec![
                        AnyValue {
                            value: Some(any_value::Value::IntValue(1)),
                        },
                        AnyValue { value: None },
                    ],
                }),
            ),
            kv(
                "map",
                any_value::Value::KvlistValue(KeyValueList {
                    values: vec![kv("k", any_value::Value::BoolValue(true))],
                }),
            ),
        ];
        let span = Span {
            attributes: values,
            ..Span::default()
        };
        let line = encode(&one_span(span));
        let expected = concat!(
            r#""attributes":[{"key":"s","value":{"stringValue":""}},"#,
            r#"{"key":"b","value":{"boolValue":false}},"#,
            r#"{"key":"i","value":{"intValue":"-9223372036854775808"}},"#,
            r#"{"key":"d","value":{"doubleValue":0.25}},"#,
            r#"{"key":"nan","value":{"doubleValue":"NaN"}},"#,
            r#"{"key":"inf","value":{"doubleValue":"Infinity"}},"#,
            r#"{"key":"-inf","value":{"doubleValue":"-Infinity"}},"#,
            r#"{"key":"bytes","value":{"bytesValue":"Zm9vYg=="}},"#,
            r#"{"key":"array","value":{"arrayValue":{"values":[{"intValue":"1"},{}]}}},"#,
            r#"{"key":"map","value":{"kvlistValue":{"values":[{"key":"k","value":{"boolValue":true}}]}}}]"#
        );
        assert!(line.contains(expected), "{line}");
    }

    #[test]
    fn strings_are_escaped() {
        let mut out = String::new();
        string(&mut out, "a\"b\\c\nd\te\u{0}\u{1f}\u{7f}é\u{2028}");
        assert_eq!(out, "\"a\\\"b\\\\c\\nd\\te\\u0000\\u001f\u{7f}é\u{2028}\"");
    }

    #[test]
    fn base64_pads() {
        for (input, expected) in [
            (&b""[..], ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"\xff\xfe\xfd\xfc", "//79/A=="),
        ] {
            let mut out = String::new();
            base64(&mut out, input);
            assert_eq!(out, expected);
        }
    }

    #[test]
    fn an_empty_request_is_an_empty_object() {
        assert_eq!(encode(&ExportTraceServiceRequest::default()), "{}");
        assert_eq!(encode_logs(&ExportLogsServiceRequest::default()), "{}");
    }

    fn encode_logs(request: &ExportLogsServiceRequest) -> String {
        let mut out = String::new();
        encode_logs_request(request, &mut out);
        out
    }

    /// `records` of service `shop`, scope `tracelink` 0.1.0.
    fn logs(records: Vec<LogRecord>) -> ExportLogsServiceRequest {
        let spans = one_span(Span::default());
        let rs = &spans.resource_spans[0];
        ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: rs.resource.clone(),
                scope_logs: vec![ScopeLogs {
                    scope: rs.scope_spans[0].scope.clone(),
                    log_records: records,
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
        }
    }

    fn record() -> LogRecord {
        LogRecord {
            time_unix_nano: 1_544_712_660_300_000_000,
            observed_time_unix_nano: 1_544_712_660_300_000_001,
            severity_number: 17,
            severity_text: "ERROR".into(),
            body: Some(AnyValue {
                value: Some(any_value::Value::StringValue("payment declined".into())),
            }),
            attributes: vec![kv(
                "reason",
                any_value::Value::StringValue("card expired".into()),
            )],
            dropped_attributes_count: 0,
            flags: 1,
            trace_id: (1..=16).collect(),
            span_id: vec![0xab, 0xcd, 0xef, 1, 2, 3, 4, 5],
            event_name: String::new(),
        }
    }

    #[test]
    fn a_log_record_is_written_as_the_collector_writes_it() {
        assert_eq!(
            encode_logs(&logs(vec![record()])),
            concat!(
                r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"shop"}}]},"#,
                r#""scopeLogs":[{"scope":{"name":"tracelink","version":"0.1.0"},"logRecords":[{"#,
                r#""timeUnixNano":"1544712660300000000","observedTimeUnixNano":"1544712660300000001","#,
                r#""severityNumber":17,"severityText":"ERROR","body":{"stringValue":"payment declined"},"#,
                r#""attributes":[{"key":"reason","value":{"stringValue":"card expired"}}],"flags":1,"#,
                r#""traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"abcdef0102030405"}]}]}]}"#
            )
        );
    }

    #[test]
    fn every_field_of_a_log_record_is_written() {
        let mut every = record();
        every.dropped_attributes_count = 2;
        every.event_name = "payment.declined".into();
        every.body = Some(AnyValue {
            value: Some(any_value::Value::KvlistValue(KeyValueList {
                values: vec![kv("code", any_value::Value::IntValue(51))],
            })),
        });
        let mut request = logs(vec![every]);
        request.resource_logs[0].schema_url = "https://r".into();
        request.resource_logs[0].scope_logs[0].schema_url = "https://s".into();
        let line = encode_logs(&request);
        let expected = concat!(
            r#""logRecords":[{"timeUnixNano":"1544712660300000000","#,
            r#""observedTimeUnixNano":"1544712660300000001","severityNumber":17,"severityText":"ERROR","#,
            r#""body":{"kvlistValue":{"values":[{"key":"code","value":{"intValue":"51"}}]}},"#,
            r#""attributes":[{"key":"reason","value":{"stringValue":"card expired"}}],"#,
            r#""droppedAttributesCount":2,"flags":1,"traceId":"0102030405060708090a0b0c0d0e0f10","#,
            r#""spanId":"abcdef0102030405","eventName":"payment.declined"}],"schemaUrl":"https://s"}],"#,
            r#""schemaUrl":"https://r"}]}"#
        );
        assert!(line.ends_with(expected), "{line}");
    }

    /// Defaults are left out, but for the body, which the Collector always
    /// writes; ids of zeros are its "no id".
    #[test]
    fn a_bare_log_record_keeps_its_body_only() {
        let bare = LogRecord {
            trace_id: vec![0; 16],
            span_id: vec![0; 8],
            ..LogRecord::default()
        };
        let line = encode_logs(&logs(vec![bare, LogRecord::default()]));
        assert!(
            line.contains(r#""logRecords":[{"body":{}},{"body":{}}]"#),
            "{line}"
        );
        let mut no_scope = logs(vec![LogRecord::default()]);
        no_scope.resource_logs[0].resource = None;
        no_scope.resource_logs[0].scope_logs[0].scope = None;
        assert_eq!(
            encode_logs(&no_scope),
            r#"{"resourceLogs":[{"resource":{},"scopeLogs":[{"scope":{},"logRecords":[{"body":{}}]}]}]}"#
        );
    }

    /// The line, read back by opentelemetry-proto's own OTLP/JSON decoder
    /// (serde, `with-serde`), is the request written: every field, every
    /// kind of value.
    #[test]
    fn a_logs_line_decodes_back_to_its_request() {
        let values = [
            any_value::Value::StringValue("multi\nline \u{1b}[31m".into()),
            any_value::Value::BoolValue(true),
            any_value::Value::IntValue(i64::MIN),
            any_value::Value::DoubleValue(-0.125),
            any_value::Value::BytesValue(vec![0, 0xff, 7]),
            any_value::Value::ArrayValue(ArrayValue {
                values: vec![AnyValue {
                    value: Some(any_value::Value::IntValue(3)),
                }],
            }),
        ];
        let records: Vec<LogRecord> = values
            .iter()
            .enumerate()
            .map(|(i, value)| LogRecord {
                severity_number: i as i32 + 1,
                body: Some(AnyValue {
                    value: Some(value.clone()),
                }),
                attributes: vec![kv("v", value.clone())],
                dropped_attributes_count: i as u32,
                event_name: format!("event {i}"),
                ..record()
            })
            .collect();
        let mut request = logs(records);
        request.resource_logs.push(ResourceLogs {
            resource: Some(Resource::default()),
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope::default()),
                log_records: vec![LogRecord {
                    body: Some(AnyValue::default()),
                    ..LogRecord::default()
                }],
                schema_url: "https://s".into(),
            }],
            schema_url: "https://r".into(),
        });
        let line = encode_logs(&request);
        let decoded: ExportLogsServiceRequest =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(decoded, request);
        // Type and value, as JSON: numbers where the Collector writes them.
        let json: serde_json::Value = serde_json::from_str(&line).unwrap();
        let first = &json["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0];
        assert_eq!(first["severityNumber"], serde_json::json!(1));
        assert_eq!(first["flags"], serde_json::json!(1));
        assert_eq!(
            first["timeUnixNano"],
            serde_json::json!("1544712660300000000")
        );
        assert_eq!(first["spanId"], serde_json::json!("abcdef0102030405"));
    }
}
