//! One request into store lines of a bounded size, from its protobuf bytes,
//! without decoding it whole: the request and its resources and scopes are
//! walked field by field, and the items (spans, log records) decoded one
//! at a time into a line, each with its resource and scope, written once
//! it holds [`LINE_ITEMS`] bytes of them. Traces and logs share the walk:
//! their requests have one shape ([`signal`](super::signal)).
//!
//! So a request of 19 MB takes about its own size in memory, not the four
//! or five times of a whole decoded request and its one 57 MB JSON line;
//! and each line is a few MB, which the store's readers read as any other
//! (a trace's spans are spread over lines anyway, one per export batch).

use opentelemetry_proto::tonic::common::v1::{any_value, InstrumentationScope};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

use super::signal::{Resourced, Scoped, Signal};

/// Bytes of protobuf items in one store line, at most (unless one item is
/// larger): about 2 to 4 MB of JSON.
pub(crate) const LINE_ITEMS: usize = 1 << 20;

/// Service names a note on stderr names, at most.
const NAMED_SERVICES: usize = 3;

/// Why a request was not stored, or not whole.
#[derive(Debug, PartialEq)]
pub(crate) enum Failed {
    /// Not a request of its signal: nothing was written.
    Decode(String),
    /// A line could not be written (the lines before it were).
    Write(String),
}

/// What a request held.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Summary {
    /// Spans, or log records.
    pub(crate) items: usize,
    /// The first few `service.name`s, each once.
    pub(crate) services: Vec<String>,
    /// Other services, counted.
    pub(crate) more_services: usize,
    /// The lines written.
    pub(crate) lines: usize,
}

/// Walks the request of signal `S` in `bytes`, handing `line` a request of
/// at most `limit` bytes of items at a time (an item larger than that
/// alone), the items in their order, each with its resource and scope.
///
/// # Errors
///
/// [`Failed::Decode`] where prost would fail to decode the request whole
/// (field types, lengths, UTF-8), found maybe after some lines were handed
/// out: walk once with a `line` that does nothing to check it first.
/// [`Failed::Write`] for the first error of `line`.
pub(crate) fn split<S: Signal>(
    bytes: &[u8],
    limit: usize,
    mut line: impl FnMut(S::Request) -> Result<(), String>,
) -> Result<Summary, Failed> {
    let mut chunk = Chunk::<S> {
        resources: Vec::new(),
        bytes: 0,
        limit,
        at: None,
        summary: Summary::default(),
    };
    let names = &S::NAMES;
    let mut resource_index = 0;
    for field in Fields(bytes) {
        if let (1, value) = field? {
            let rs = value.message(&format!("{}.{}", names.request, names.resources))?;
            resource(rs, resource_index, &mut chunk, &mut line)?;
            resource_index += 1;
        }
    }
    chunk.flush(&mut line)?;
    Ok(chunk.summary)
}

/// One resource (`ResourceSpans`, `ResourceLogs`): its resource and schema
/// first, wherever they are in it (protobuf allows any order), then its
/// scopes.
fn resource<S: Signal>(
    bytes: &[u8],
    index: usize,
    chunk: &mut Chunk<S>,
    line: &mut impl FnMut(S::Request) -> Result<(), String>,
) -> Result<(), Failed> {
    let names = &S::NAMES;
    let mut resource: Option<Resource> = None;
    let mut schema_url = String::new();
    for field in Fields(bytes) {
        match field? {
            (1, value) => {
                let bytes = value.message(&format!("{}.resource", names.resource))?;
                resource
                    .get_or_insert_with(Resource::default)
                    .merge(bytes)
                    .map_err(decode)?;
            }
            (3, value) => schema_url = value.string(&format!("{}.schema_url", names.resource))?,
            _ => {}
        }
    }
    chunk.summary.service(resource.as_ref());
    let template = Resourced {
        resource,
        schema_url,
        scopes: Vec::new(),
    };
    let mut scope_index = 0;
    for field in Fields(bytes) {
        if let (2, value) = field? {
            let bytes = value.message(&format!("{}.{}", names.resource, names.scopes))?;
            let mut scope = Scoped {
                scope: None,
                schema_url: String::new(),
                items: Vec::new(),
            };
            for field in Fields(bytes) {
                match field? {
                    (1, value) => {
                        let bytes = value.message(&format!("{}.scope", names.scope))?;
                        scope
                            .scope
                            .get_or_insert_with(InstrumentationScope::default)
                            .merge(bytes)
                            .map_err(decode)?;
                    }
                    (3, value) => {
                        scope.schema_url = value.string(&format!("{}.schema_url", names.scope))?;
                    }
                    _ => {}
                }
            }
            for field in Fields(bytes) {
                if let (2, value) = field? {
                    let bytes = value.message(&format!("{}.{}", names.scope, names.items))?;
                    let item = S::Item::decode(bytes).map_err(decode)?;
                    let place = (index, scope_index);
                    chunk.push(place, &template, &scope, item, bytes.len(), line)?;
                }
            }
            scope_index += 1;
        }
    }
    Ok(())
}

fn decode(error: prost::DecodeError) -> Failed {
    Failed::Decode(error.to_string())
}

/// The line being filled.
struct Chunk<S: Signal> {
    resources: Vec<Resourced<S::Item>>,
    /// Bytes of protobuf items in it.
    bytes: usize,
    limit: usize,
    /// Which resource and scope of the request its last items are of.
    at: Option<(usize, usize)>,
    summary: Summary,
}

impl<S: Signal> Chunk<S> {
    fn push(
        &mut self,
        place: (usize, usize),
        resource: &Resourced<S::Item>,
        scope: &Scoped<S::Item>,
        item: S::Item,
        len: usize,
        line: &mut impl FnMut(S::Request) -> Result<(), String>,
    ) -> Result<(), Failed> {
        if self.bytes > 0 && self.bytes + len > self.limit {
            self.flush(line)?;
        }
        if self.at.map(|(r, _)| r) != Some(place.0) {
            self.resources.push(Resourced {
                resource: resource.resource.clone(),
                schema_url: resource.schema_url.clone(),
                scopes: Vec::new(),
            });
        }
        // UNWRAP: a resource was pushed above, or for an earlier item.
        let resourced = self.resources.last_mut().unwrap();
        if self.at != Some(place) {
            resourced.scopes.push(Scoped {
                scope: scope.scope.clone(),
                schema_url: scope.schema_url.clone(),
                items: Vec::new(),
            });
        }
        // UNWRAP: a scope was pushed above, or for an earlier item.
        resourced.scopes.last_mut().unwrap().items.push(item);
        self.bytes += len;
        self.at = Some(place);
        self.summary.items += 1;
        Ok(())
    }

    fn flush(
        &mut self,
        line: &mut impl FnMut(S::Request) -> Result<(), String>,
    ) -> Result<(), Failed> {
        if self.bytes == 0 {
            return Ok(());
        }
        let request = S::request(std::mem::take(&mut self.resources));
        self.bytes = 0;
        self.at = None;
        line(request).map_err(Failed::Write)?;
        self.summary.lines += 1;
        Ok(())
    }
}

impl Summary {
    /// Counts the `service.name` of `resource`, once each.
    fn service(&mut self, resource: Option<&Resource>) {
        let Some(name) = resource
            .into_iter()
            .flat_map(|r| &r.attributes)
            .filter(|kv| kv.key == "service.name")
            .find_map(|kv| match kv.value.as_ref()?.value.as_ref()? {
                any_value::Value::StringValue(s) => Some(s),
                _ => None,
            })
        else {
            return;
        };
        if self.services.contains(name) {
            return;
        }
        if self.services.len() < NAMED_SERVICES {
            self.services.push(name.clone());
        } else {
            self.more_services += 1;
        }
    }
}

/// A field's value, by its wire type.
enum Value<'a> {
    /// Varints, fixed-size numbers and groups: no field read here is one.
    Other,
    Bytes(&'a [u8]),
}

impl<'a> Value<'a> {
    /// The bytes of an embedded message, field `name`.
    fn message(self, name: &str) -> Result<&'a [u8], Failed> {
        match self {
            Value::Bytes(bytes) => Ok(bytes),
            Value::Other => Err(Failed::Decode(format!(
                "{name}: invalid wire type, expected length-delimited"
            ))),
        }
    }

    /// A string field `name`.
    fn string(self, name: &str) -> Result<String, Failed> {
        let bytes = self.message(name)?;
        String::from_utf8(bytes.to_vec())
            .map_err(|_| Failed::Decode(format!("{name}: invalid string value: data is not UTF-8")))
    }
}

/// The fields of a message: `(number, value)`, or the first error.
struct Fields<'a>(&'a [u8]);

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, Value<'a>), Failed>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        let field = field(&mut self.0);
        if field.is_err() {
            // One error, then the end.
            self.0 = &[];
        }
        Some(field)
    }
}

fn field<'a>(buf: &mut &'a [u8]) -> Result<(u32, Value<'a>), Failed> {
    let (number, wire) = key(buf)?;
    let value = match wire {
        2 => {
            let len = usize::try_from(varint(buf)?).map_err(|_| truncated())?;
            let bytes = buf.get(..len).ok_or_else(truncated)?;
            *buf = &buf[len..];
            Value::Bytes(bytes)
        }
        3 => {
            skip_group(buf, number)?;
            Value::Other
        }
        wire => {
            skip_value(buf, wire)?;
            Value::Other
        }
    };
    Ok((number, value))
}

/// A field's key: its number (from 1) and wire type.
fn key(buf: &mut &[u8]) -> Result<(u32, u8), Failed> {
    let key = varint(buf)?;
    let number = u32::try_from(key >> 3)
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| Failed::Decode(format!("invalid tag value: {key}")))?;
    Ok((number, (key & 7) as u8))
}

/// Past a group (a wire type no OTLP field has, but unknown fields may), up
/// to its end.
fn skip_group(buf: &mut &[u8], number: u32) -> Result<(), Failed> {
    let mut open = vec![number];
    while let Some(&innermost) = open.last() {
        let (inner, wire) = key(buf)?;
        match wire {
            3 => open.push(inner),
            4 if inner == innermost => {
                open.pop();
            }
            4 => return Err(Failed::Decode("unexpected end group tag".into())),
            // A field in the group, past its key.
            _ => skip_value(buf, wire)?,
        }
    }
    Ok(())
}

/// Past a value of wire type `wire` (not a group).
fn skip_value(buf: &mut &[u8], wire: u8) -> Result<(), Failed> {
    match wire {
        0 => varint(buf).map(drop),
        1 => advance(buf, 8),
        2 => {
            let len = usize::try_from(varint(buf)?).map_err(|_| truncated())?;
            advance(buf, len)
        }
        5 => advance(buf, 4),
        other => Err(Failed::Decode(format!("invalid wire type value: {other}"))),
    }
}

fn advance(buf: &mut &[u8], len: usize) -> Result<(), Failed> {
    *buf = buf.get(len..).ok_or_else(truncated)?;
    Ok(())
}

fn varint(buf: &mut &[u8]) -> Result<u64, Failed> {
    let mut value = 0u64;
    for i in 0..10 {
        let &byte = buf.get(i).ok_or_else(truncated)?;
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            *buf = &buf[i + 1..];
            return Ok(value);
        }
    }
    Err(Failed::Decode("invalid varint".into()))
}

fn truncated() -> Failed {
    Failed::Decode("buffer underflow".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receive::signal::{Logs, Traces};
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

    fn string(key: &str, value: &str) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(value.into())),
            }),
            key_strindex: 0,
        }
    }

    /// Two services, three scopes, `spans` spans of ~`size` bytes each.
    fn request(spans: usize, size: usize) -> ExportTraceServiceRequest {
        let span = |i: usize| Span {
            trace_id: vec![7; 16],
            span_id: (i as u64 + 1).to_be_bytes().to_vec(),
            name: format!("span {i}"),
            attributes: vec![string("payload", &"x".repeat(size))],
            ..Default::default()
        };
        let mut i = 0;
        let mut next = |n: usize| {
            (0..n)
                .map(|_| {
                    i += 1;
                    span(i)
                })
                .collect::<Vec<_>>()
        };
        let third = spans / 3;
        ExportTraceServiceRequest {
            resource_spans: vec![
                ResourceSpans {
                    resource: Some(Resource {
                        attributes: vec![string("service.name", "shop")],
                        ..Default::default()
                    }),
                    scope_spans: vec![
                        ScopeSpans {
                            scope: Some(InstrumentationScope {
                                name: "a".into(),
                                ..Default::default()
                            }),
                            spans: next(third),
                            schema_url: "https://a".into(),
                        },
                        ScopeSpans {
                            scope: None,
                            spans: next(third),
                            schema_url: String::new(),
                        },
                    ],
                    schema_url: "https://shop".into(),
                },
                ResourceSpans {
                    resource: Some(Resource {
                        attributes: vec![string("service.name", "pay")],
                        ..Default::default()
                    }),
                    scope_spans: vec![ScopeSpans {
                        scope: None,
                        spans: next(spans - 2 * third),
                        schema_url: String::new(),
                    }],
                    schema_url: String::new(),
                },
            ],
        }
    }

    /// A span with its resource, the resource's schema, its scope and the
    /// scope's schema.
    type Placed = (
        Option<Resource>,
        String,
        Option<InstrumentationScope>,
        String,
        Span,
    );

    /// The lines, put back together: the same spans, resources and scopes.
    fn merged(lines: &[ExportTraceServiceRequest]) -> Vec<Placed> {
        lines
            .iter()
            .flat_map(|l| &l.resource_spans)
            .flat_map(|rs| {
                rs.scope_spans.iter().flat_map(move |ss| {
                    ss.spans.iter().map(move |span| {
                        (
                            rs.resource.clone(),
                            rs.schema_url.clone(),
                            ss.scope.clone(),
                            ss.schema_url.clone(),
                            span.clone(),
                        )
                    })
                })
            })
            .collect()
    }

    fn split_all(
        bytes: &[u8],
        limit: usize,
    ) -> Result<(Vec<ExportTraceServiceRequest>, Summary), Failed> {
        let mut lines = Vec::new();
        let summary = split::<Traces>(bytes, limit, |line| {
            lines.push(line);
            Ok(())
        })?;
        Ok((lines, summary))
    }

    #[test]
    fn a_large_request_becomes_lines_of_bounded_size_with_every_span() {
        let whole = request(3000, 1000);
        let bytes = whole.encode_to_vec();
        assert!(bytes.len() > 3_000_000);
        let (lines, summary) = split_all(&bytes, LINE_ITEMS).unwrap();
        assert!(lines.len() >= 3, "{} lines", lines.len());
        assert_eq!(summary.lines, lines.len());
        assert_eq!(summary.items, 3000);
        assert_eq!(summary.services, ["shop", "pay"]);
        for line in &lines {
            let spans: usize = line
                .resource_spans
                .iter()
                .flat_map(|rs| &rs.scope_spans)
                .flat_map(|ss| &ss.spans)
                .map(Message::encoded_len)
                .sum();
            assert!(spans <= LINE_ITEMS, "{spans}");
        }
        assert_eq!(merged(&lines), merged(std::slice::from_ref(&whole)));
        // Small: one line, the request itself.
        let small = request(9, 10);
        let (lines, _) = split_all(&small.encode_to_vec(), LINE_ITEMS).unwrap();
        assert_eq!(lines, [small]);
    }

    #[test]
    fn a_span_larger_than_a_line_gets_one_of_its_own() {
        let whole = request(3, 2000);
        let (lines, _) = split_all(&whole.encode_to_vec(), 100).unwrap();
        assert_eq!(lines.len(), 3);
        assert_eq!(merged(&lines), merged(&[whole]));
    }

    /// Resource and scope after the spans, unknown fields of every wire
    /// type, a message given twice (merged): as prost reads them.
    #[test]
    fn fields_in_any_order_and_unknown_fields_read_as_prost_reads_them() {
        let mut bytes = Vec::new();
        let span = Span {
            span_id: vec![1; 8],
            name: "s".into(),
            ..Default::default()
        };
        let mut scope_spans = Vec::new();
        prost::encoding::message::encode(2, &span, &mut scope_spans);
        prost::encoding::message::encode(
            1,
            &InstrumentationScope {
                name: "late scope".into(),
                ..Default::default()
            },
            &mut scope_spans,
        );
        let mut rs = Vec::new();
        prost::encoding::bytes::encode(2, &scope_spans, &mut rs);
        prost::encoding::uint64::encode(9, &5, &mut rs);
        prost::encoding::fixed32::encode(10, &5, &mut rs);
        prost::encoding::fixed64::encode(11, &5, &mut rs);
        // A group, field 12, holding a varint.
        rs.extend_from_slice(&[(12 << 3) | 3, 8, 1, (12 << 3) | 4]);
        for name in ["a", "b"] {
            prost::encoding::message::encode(
                1,
                &Resource {
                    attributes: vec![string(name, "v")],
                    ..Default::default()
                },
                &mut rs,
            );
        }
        prost::encoding::bytes::encode(1, &rs, &mut bytes);
        prost::encoding::string::encode(7, &"unknown".to_owned(), &mut bytes);
        let expected = ExportTraceServiceRequest::decode(&bytes[..]).unwrap();
        assert_eq!(
            expected.resource_spans[0]
                .resource
                .as_ref()
                .unwrap()
                .attributes
                .len(),
            2
        );
        let (lines, _) = split_all(&bytes, LINE_ITEMS).unwrap();
        assert_eq!(merged(&lines), merged(&[expected]));
    }

    /// `count` copies of `good`, each with up to three bytes changed and,
    /// one time in four, cut short; the same ones for the same `seed`.
    fn mangled(good: &[u8], mut seed: u64, count: usize) -> impl Iterator<Item = Vec<u8>> + '_ {
        let mut random = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        (0..count).map(move |_| {
            let mut bytes = good.to_vec();
            for _ in 0..=random() % 3 {
                let at = (random() % bytes.len() as u64) as usize;
                bytes[at] = random() as u8;
            }
            if random() % 4 == 0 {
                bytes.truncate((random() % bytes.len() as u64) as usize);
            }
            bytes
        })
    }

    /// Bytes changed at random: split refuses exactly what prost's whole
    /// decoding refuses, and takes the same spans from the rest.
    #[test]
    fn broken_requests_are_refused_as_prost_refuses_them() {
        let good = request(30, 20).encode_to_vec();
        let mut refused = 0;
        for bytes in mangled(&good, 0x2545_f491_4f6c_dd1d, 4000) {
            let whole = ExportTraceServiceRequest::decode(&bytes[..]);
            match (split_all(&bytes, 200), whole) {
                (Ok((lines, _)), Ok(whole)) => assert_eq!(merged(&lines), merged(&[whole])),
                (Err(Failed::Decode(_)), Err(_)) => refused += 1,
                (ours, prost) => panic!("split: {:?}, prost: {prost:?}", ours.map(|(_, s)| s)),
            }
        }
        assert!(refused > 1000, "{refused} refused");
    }

    #[test]
    fn a_write_error_stops_the_lines() {
        let bytes = request(30, 100).encode_to_vec();
        let mut written = 0;
        let result = split::<Traces>(&bytes, 500, |_| {
            written += 1;
            if written == 2 {
                Err("disk full".into())
            } else {
                Ok(())
            }
        });
        assert_eq!(result, Err(Failed::Write("disk full".into())));
        assert_eq!(written, 2);
    }

    /// `records` log records of ~`size` bytes each, over two services.
    fn logs_request(records: usize, size: usize) -> ExportLogsServiceRequest {
        let record = |i: usize| LogRecord {
            time_unix_nano: i as u64,
            trace_id: vec![7; 16],
            span_id: (i as u64 + 1).to_be_bytes().to_vec(),
            body: Some(AnyValue {
                value: Some(any_value::Value::StringValue("x".repeat(size))),
            }),
            attributes: vec![string("i", &i.to_string())],
            ..Default::default()
        };
        let half = records / 2;
        let resource = |service: &str, range: std::ops::Range<usize>, scope: &str| ResourceLogs {
            resource: Some(Resource {
                attributes: vec![string("service.name", service)],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope {
                    name: scope.into(),
                    ..Default::default()
                }),
                log_records: range.map(record).collect(),
                schema_url: format!("https://{scope}"),
            }],
            schema_url: String::new(),
        };
        ExportLogsServiceRequest {
            resource_logs: vec![
                resource("shop", 0..half, "a"),
                resource("pay", half..records, "b"),
            ],
        }
    }

    fn split_logs(
        bytes: &[u8],
        limit: usize,
    ) -> Result<(Vec<ExportLogsServiceRequest>, Summary), Failed> {
        let mut lines = Vec::new();
        let summary = split::<Logs>(bytes, limit, |line| {
            lines.push(line);
            Ok(())
        })?;
        Ok((lines, summary))
    }

    /// Each record with its resource and scope.
    fn merged_logs(
        lines: &[ExportLogsServiceRequest],
    ) -> Vec<(
        Option<Resource>,
        Option<InstrumentationScope>,
        String,
        LogRecord,
    )> {
        lines
            .iter()
            .flat_map(|l| &l.resource_logs)
            .flat_map(|rl| {
                rl.scope_logs.iter().flat_map(move |sl| {
                    sl.log_records.iter().map(move |r| {
                        (
                            rl.resource.clone(),
                            sl.scope.clone(),
                            sl.schema_url.clone(),
                            r.clone(),
                        )
                    })
                })
            })
            .collect()
    }

    #[test]
    fn a_large_logs_request_becomes_lines_of_bounded_size_with_every_record() {
        let whole = logs_request(2000, 1500);
        let bytes = whole.encode_to_vec();
        let (lines, summary) = split_logs(&bytes, LINE_ITEMS).unwrap();
        assert!(lines.len() >= 3, "{} lines", lines.len());
        assert_eq!((summary.items, summary.lines), (2000, lines.len()));
        assert_eq!(summary.services, ["shop", "pay"]);
        for line in &lines {
            let records: usize = line
                .resource_logs
                .iter()
                .flat_map(|rl| &rl.scope_logs)
                .flat_map(|sl| &sl.log_records)
                .map(Message::encoded_len)
                .sum();
            assert!(records <= LINE_ITEMS, "{records}");
        }
        assert_eq!(
            merged_logs(&lines),
            merged_logs(std::slice::from_ref(&whole))
        );
        let small = logs_request(4, 10);
        let (lines, _) = split_logs(&small.encode_to_vec(), LINE_ITEMS).unwrap();
        assert_eq!(lines, [small]);
    }

    /// As for traces: what prost refuses is refused, the rest kept whole.
    #[test]
    fn broken_logs_requests_are_refused_as_prost_refuses_them() {
        let good = logs_request(20, 20).encode_to_vec();
        let mut refused = 0;
        for bytes in mangled(&good, 0x9e37_79b9_7f4a_7c15, 3000) {
            let whole = ExportLogsServiceRequest::decode(&bytes[..]);
            match (split_logs(&bytes, 150), whole) {
                (Ok((lines, _)), Ok(whole)) => {
                    assert_eq!(merged_logs(&lines), merged_logs(&[whole]));
                }
                (Err(Failed::Decode(_)), Err(_)) => refused += 1,
                (ours, prost) => panic!("split: {:?}, prost: {prost:?}", ours.map(|(_, s)| s)),
            }
        }
        assert!(refused > 500, "{refused} refused");
    }

    #[test]
    fn errors_name_the_logs_messages() {
        let Err(Failed::Decode(message)) = split_logs(&[0x08, 0x01], LINE_ITEMS) else {
            panic!("a varint where resources are is refused")
        };
        assert!(
            message.starts_with("ExportLogsServiceRequest.resource_logs"),
            "{message}"
        );
    }
}
