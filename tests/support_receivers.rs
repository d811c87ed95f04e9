//! The test receivers themselves: the Rust [`support::Receiver`] and the
//! Python [`support::PyReceiver`] take OTLP traces, logs and metrics over
//! gRPC and HTTP/protobuf, gzip or not, and give back exactly what was sent.
//!
//! The requests are built here by hand with the official protos and sent by
//! raw clients (a TcpStream speaking HTTP/1.1, tonic's generated gRPC
//! clients), so these tests do not depend on tracelink's exporters: each
//! received body must equal the one sent, field for field and type for type
//! (an `intValue` 200 is not the string "200"), and the accessors the other
//! tests use must read the right fields.

mod support;
#[path = "support/tls.rs"]
mod tls;

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    exemplar, exponential_histogram_data_point, metric, number_data_point, summary_data_point,
    AggregationTemporality, Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge,
    Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    Summary, SummaryDataPoint,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;
use support::{MetricKind, PyReceiver, Receiver, Signal, Transport};
use tonic::codec::CompressionEncoding;

const WAIT: Duration = Duration::from_secs(10);

const TRACE_ID: [u8; 16] = [
    0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36,
];
const SPAN_ID: [u8; 8] = [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7];
const TRACE_HEX: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_HEX: &str = "00f067aa0ba902b7";

// ------------------------------------------------------------ what is sent

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

fn string(s: &str) -> Value {
    Value::StringValue(s.into())
}

/// Attributes of every OTLP type, with values that lose something when a
/// decoder is careless: the extreme i64, a double that is not short in
/// decimal, a subnormal, an infinity, bytes, nesting, an empty value and a
/// key without any value.
fn typed_attributes() -> Vec<KeyValue> {
    vec![
        kv("str", string("eu-west")),
        kv("int.min", Value::IntValue(i64::MIN)),
        kv("int.max", Value::IntValue(i64::MAX)),
        kv("status", Value::IntValue(200)),
        kv("status.text", string("200")),
        kv("ratio", Value::DoubleValue(0.1 + 0.2)),
        kv("tiny", Value::DoubleValue(1e-310)),
        kv("inf", Value::DoubleValue(f64::NEG_INFINITY)),
        kv("flag", Value::BoolValue(false)),
        kv("raw", Value::BytesValue(vec![0, 1, 0xfe, 0xff])),
        kv(
            "list",
            Value::ArrayValue(ArrayValue {
                values: vec![
                    AnyValue {
                        value: Some(Value::IntValue(1)),
                    },
                    AnyValue {
                        value: Some(string("two")),
                    },
                    AnyValue { value: None },
                ],
            }),
        ),
        kv(
            "map",
            Value::KvlistValue(KeyValueList {
                values: vec![kv("inner", Value::DoubleValue(2.5))],
            }),
        ),
        kv("empty", Value::StringValue(String::new())),
        KeyValue {
            key: "no.value".into(),
            value: None,
            ..KeyValue::default()
        },
    ]
}

fn resource() -> Resource {
    Resource {
        attributes: vec![
            kv("service.name", string("receivers-test")),
            kv("service.instance.id", Value::IntValue(7)),
        ],
        ..Resource::default()
    }
}

fn scope() -> InstrumentationScope {
    InstrumentationScope {
        name: "support-receivers".into(),
        version: "1.2.3".into(),
        attributes: vec![kv("scope.kind", string("test"))],
        dropped_attributes_count: 1,
    }
}

/// Two records: one with every field set, one nearly empty.
fn sample_logs() -> ExportLogsServiceRequest {
    let full = LogRecord {
        time_unix_nano: 1_700_000_000_123_456_789,
        observed_time_unix_nano: u64::MAX,
        severity_number: 17,
        severity_text: "ERROR".into(),
        body: Some(AnyValue {
            value: Some(string("payment refused")),
        }),
        attributes: typed_attributes(),
        dropped_attributes_count: 2,
        flags: 1,
        trace_id: TRACE_ID.to_vec(),
        span_id: SPAN_ID.to_vec(),
        event_name: "payment.refused".into(),
    };
    let bare = LogRecord {
        body: Some(AnyValue {
            value: Some(Value::KvlistValue(KeyValueList {
                values: vec![kv("k", Value::BoolValue(true))],
            })),
        }),
        ..LogRecord::default()
    };
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(resource()),
            scope_logs: vec![ScopeLogs {
                scope: Some(scope()),
                log_records: vec![full, bare],
                schema_url: "https://opentelemetry.io/schemas/1.26.0".into(),
            }],
            schema_url: String::new(),
        }],
    }
}

fn number(attributes: Vec<KeyValue>, value: number_data_point::Value) -> NumberDataPoint {
    NumberDataPoint {
        attributes,
        start_time_unix_nano: 1_700_000_000_000_000_000,
        time_unix_nano: 1_700_000_010_000_000_000,
        value: Some(value),
        ..NumberDataPoint::default()
    }
}

fn exemplar_of(span_id: &[u8], value: exemplar::Value) -> Exemplar {
    Exemplar {
        filtered_attributes: vec![kv("user", string("ada"))],
        time_unix_nano: 1_700_000_005_000_000_001,
        span_id: span_id.to_vec(),
        trace_id: TRACE_ID.to_vec(),
        value: Some(value),
    }
}

/// A counter whose `/a` point has reached `count`, with one exemplar naming
/// the span of [`sample_traces`] and one naming a span never sent.
fn counter(count: i64) -> Metric {
    let mut a = number(
        vec![kv("route", string("/a"))],
        number_data_point::Value::AsInt(count),
    );
    a.exemplars = vec![
        exemplar_of(&SPAN_ID, exemplar::Value::AsInt(1)),
        exemplar_of(&[9; 8], exemplar::Value::AsInt(1)),
    ];
    let b = number(
        vec![kv("route", string("/b"))],
        number_data_point::Value::AsInt(1),
    );
    Metric {
        name: "requests".into(),
        description: "Requests served".into(),
        unit: "{request}".into(),
        metadata: vec![kv("origin", string("hand-made"))],
        data: Some(metric::Data::Sum(Sum {
            data_points: vec![a, b],
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
            is_monotonic: true,
        })),
    }
}

/// One metric of each kind (a counter, an up-down counter, a gauge, a
/// histogram, an exponential histogram, a summary).
fn sample_metrics(count: i64) -> ExportMetricsServiceRequest {
    let up_down = Metric {
        name: "queue.depth".into(),
        data: Some(metric::Data::Sum(Sum {
            data_points: vec![number(vec![], number_data_point::Value::AsDouble(-2.5))],
            aggregation_temporality: AggregationTemporality::Delta as i32,
            is_monotonic: false,
        })),
        ..Metric::default()
    };
    let no_value = NumberDataPoint {
        flags: 1,
        ..NumberDataPoint::default()
    };
    let gauge = Metric {
        name: "temperature".into(),
        unit: "Cel".into(),
        data: Some(metric::Data::Gauge(Gauge {
            data_points: vec![
                number(typed_attributes(), number_data_point::Value::AsDouble(21.5)),
                no_value,
            ],
        })),
        ..Metric::default()
    };
    let histogram = Metric {
        name: "latency".into(),
        unit: "s".into(),
        data: Some(metric::Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint {
                attributes: vec![kv("route", string("/a"))],
                start_time_unix_nano: 1,
                time_unix_nano: 2,
                count: 4,
                sum: Some(1.2),
                bucket_counts: vec![0, 1, 2, 1],
                explicit_bounds: vec![0.005, 0.1, 1.0],
                exemplars: vec![exemplar_of(&SPAN_ID, exemplar::Value::AsDouble(0.7))],
                flags: 0,
                min: Some(0.1),
                max: None,
            }],
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
        })),
        ..Metric::default()
    };
    let exponential = Metric {
        name: "sizes".into(),
        data: Some(metric::Data::ExponentialHistogram(ExponentialHistogram {
            data_points: vec![ExponentialHistogramDataPoint {
                count: 4,
                scale: -2,
                zero_count: 1,
                positive: Some(exponential_histogram_data_point::Buckets {
                    offset: -1,
                    bucket_counts: vec![1, 2],
                }),
                zero_threshold: 1e-9,
                ..ExponentialHistogramDataPoint::default()
            }],
            aggregation_temporality: AggregationTemporality::Delta as i32,
        })),
        ..Metric::default()
    };
    let summary = Metric {
        name: "rpc.duration".into(),
        data: Some(metric::Data::Summary(Summary {
            data_points: vec![SummaryDataPoint {
                count: 10,
                sum: 5.5,
                quantile_values: vec![
                    summary_data_point::ValueAtQuantile {
                        quantile: 0.5,
                        value: 0.4,
                    },
                    summary_data_point::ValueAtQuantile {
                        quantile: 0.99,
                        value: 1.25,
                    },
                ],
                ..SummaryDataPoint::default()
            }],
        })),
        ..Metric::default()
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(resource()),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(scope()),
                metrics: vec![
                    counter(count),
                    up_down,
                    gauge,
                    histogram,
                    exponential,
                    summary,
                ],
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

/// One span with an event, a link and a status.
fn sample_traces() -> ExportTraceServiceRequest {
    let span = Span {
        trace_id: TRACE_ID.to_vec(),
        span_id: SPAN_ID.to_vec(),
        trace_state: "vendor=1".into(),
        parent_span_id: vec![1; 8],
        flags: 0x301,
        name: "GET /a".into(),
        kind: span::SpanKind::Server as i32,
        start_time_unix_nano: 10,
        end_time_unix_nano: 20,
        attributes: typed_attributes(),
        dropped_attributes_count: 0,
        events: vec![span::Event {
            time_unix_nano: 15,
            name: "exception".into(),
            attributes: vec![kv("exception.type", string("Boom"))],
            dropped_attributes_count: 0,
        }],
        dropped_events_count: 3,
        links: vec![span::Link {
            trace_id: vec![2; 16],
            span_id: vec![3; 8],
            trace_state: String::new(),
            attributes: vec![],
            dropped_attributes_count: 0,
            flags: 1,
        }],
        dropped_links_count: 0,
        status: Some(Status {
            message: "boom".into(),
            code: 2,
        }),
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource()),
            scope_spans: vec![ScopeSpans {
                scope: Some(scope()),
                spans: vec![span],
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

// -------------------------------------------------------------- the clients

/// One export request of any signal, as the raw clients send it.
enum Export {
    Traces(ExportTraceServiceRequest),
    Logs(ExportLogsServiceRequest),
    Metrics(ExportMetricsServiceRequest),
}

impl Export {
    fn path(&self) -> &'static str {
        match self {
            Self::Traces(_) => Signal::Traces.http_path(),
            Self::Logs(_) => Signal::Logs.http_path(),
            Self::Metrics(_) => Signal::Metrics.http_path(),
        }
    }

    fn encode(&self) -> Vec<u8> {
        match self {
            Self::Traces(r) => r.encode_to_vec(),
            Self::Logs(r) => r.encode_to_vec(),
            Self::Metrics(r) => r.encode_to_vec(),
        }
    }

    /// Sends it with `transport`, gzip or not, with the header (metadata)
    /// `x-test: marker`; `Ok` if the receiver took it.
    fn send(
        &self,
        base: &str,
        transport: Transport,
        gzip: bool,
        marker: &str,
    ) -> Result<(), String> {
        match transport {
            Transport::Http => {
                let body = if gzip {
                    gzip_bytes(&self.encode())
                } else {
                    self.encode()
                };
                let encoding = if gzip { "gzip" } else { "identity" };
                let headers = [
                    ("content-type", "application/x-protobuf"),
                    ("content-encoding", encoding),
                    ("x-test", marker),
                ];
                match post(base, self.path(), &headers, &body) {
                    200 => Ok(()),
                    status => Err(format!("HTTP {status}")),
                }
            }
            Transport::Grpc => {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime
                    .block_on(self.send_grpc(base.to_owned(), gzip, marker))
                    .map_err(|status| format!("gRPC {:?}: {}", status.code(), status.message()))
            }
        }
    }

    async fn send_grpc(
        &self,
        endpoint: String,
        gzip: bool,
        marker: &str,
    ) -> Result<(), tonic::Status> {
        let channel = tonic::transport::Endpoint::from_shared(endpoint)
            .expect("a valid endpoint")
            .connect()
            .await
            .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
        let compression = gzip.then_some(CompressionEncoding::Gzip);
        fn with_marker<T>(message: T, marker: &str) -> tonic::Request<T> {
            let mut request = tonic::Request::new(message);
            request
                .metadata_mut()
                .insert("x-test", marker.parse().expect("ASCII marker"));
            request
        }
        match self {
            Self::Traces(r) => {
                let mut client = TraceServiceClient::new(channel);
                if let Some(c) = compression {
                    client = client.send_compressed(c);
                }
                client
                    .export(with_marker(r.clone(), marker))
                    .await
                    .map(drop)
            }
            Self::Logs(r) => {
                let mut client = LogsServiceClient::new(channel);
                if let Some(c) = compression {
                    client = client.send_compressed(c);
                }
                client
                    .export(with_marker(r.clone(), marker))
                    .await
                    .map(drop)
            }
            Self::Metrics(r) => {
                let mut client = MetricsServiceClient::new(channel);
                if let Some(c) = compression {
                    client = client.send_compressed(c);
                }
                client
                    .export(with_marker(r.clone(), marker))
                    .await
                    .map(drop)
            }
        }
    }
}

fn gzip_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip in memory");
    encoder.finish().expect("gzip in memory")
}

/// `POST path` to `base` (`http://127.0.0.1:PORT`) over one HTTP/1.1
/// connection; returns the status code.
fn post(base: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> u16 {
    let addr = base.strip_prefix("http://").expect("a plain-HTTP endpoint");
    let mut stream = TcpStream::connect(addr).expect("the receiver accepts");
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("request head");
    stream.write_all(body).expect("request body");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("a response");
    let response = String::from_utf8_lossy(&response);
    response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"))
}

/// The four ways a request can come: each protocol, gzip or not; with the
/// marker each sends as `x-test`.
const WAYS: [(Transport, bool, &str); 4] = [
    (Transport::Http, false, "http"),
    (Transport::Http, true, "http-gzip"),
    (Transport::Grpc, false, "grpc"),
    (Transport::Grpc, true, "grpc-gzip"),
];

fn base(receiver: &Receiver, transport: Transport) -> String {
    match transport {
        Transport::Grpc => receiver.grpc_endpoint(),
        Transport::Http => receiver.http_endpoint(),
    }
}

fn py_base(receiver: &PyReceiver, transport: Transport) -> String {
    match transport {
        Transport::Grpc => receiver.grpc_endpoint(),
        Transport::Http => receiver.http_endpoint(),
    }
}

// ------------------------------------------------------- what is checked

/// The accessors of [`support::ReceivedLog`] on the two records of
/// [`sample_logs`].
fn check_logs(logs: &[support::ReceivedLog], transport: Transport) {
    let [full, bare] = logs else {
        panic!("two records, got {logs:?}")
    };
    assert_eq!(full.transport, transport);
    assert_eq!(full.trace_id(), TRACE_HEX);
    assert_eq!(full.span_id(), SPAN_HEX);
    assert_eq!(full.flags(), 1);
    assert_eq!(full.severity_number(), 17);
    assert_eq!(full.severity_text(), "ERROR");
    assert_eq!(full.body(), Some(&string("payment refused")));
    assert_eq!(full.body_string().as_deref(), Some("payment refused"));
    assert_eq!(full.attr_value("status"), Some(&Value::IntValue(200)));
    assert_eq!(full.attr_value("status.text"), Some(&string("200")));
    assert_eq!(full.int_attr("status"), Some(200));
    assert_eq!(full.int_attr("status.text"), None, "a string is no int");
    assert_eq!(full.int_attr("int.min"), Some(i64::MIN));
    assert_eq!(
        full.attr_value("ratio"),
        Some(&Value::DoubleValue(0.1 + 0.2))
    );
    assert_eq!(full.attr_value("tiny"), Some(&Value::DoubleValue(1e-310)));
    assert_eq!(
        full.attr_value("raw"),
        Some(&Value::BytesValue(vec![0, 1, 0xfe, 0xff]))
    );
    assert_eq!(full.attr("flag").as_deref(), Some("false"));
    assert_eq!(full.attr_value("no.value"), None);
    assert_eq!(full.attr_count("status"), 1);
    assert_eq!(full.scope_name(), "support-receivers");
    assert_eq!(
        full.resource_attr("service.name").as_deref(),
        Some("receivers-test")
    );
    assert_eq!(full.time_unix_nano(), 1_700_000_000_123_456_789);
    assert_eq!(full.observed_time_unix_nano(), u64::MAX);
    assert_eq!(full.event_name(), "payment.refused");

    assert_eq!(bare.trace_id(), "", "no trace id reads empty");
    assert_eq!(bare.span_id(), "");
    assert_eq!(bare.severity_number(), 0);
    assert_eq!(bare.event_name(), "");
    assert!(
        matches!(bare.body(), Some(Value::KvlistValue(_))),
        "{:?}",
        bare.body()
    );
}

/// The flat view of [`sample_metrics`] as [`ReceivedMetric`] gives it.
fn check_metrics(metric: impl Fn(&str) -> Option<support::ReceivedMetric>, count: i64) {
    let requests = metric("requests").expect("the counter");
    assert_eq!(requests.kind(), MetricKind::Sum);
    assert!(requests.is_monotonic());
    assert_eq!(requests.temporality(), AggregationTemporality::Cumulative);
    assert_eq!(requests.description(), "Requests served");
    assert_eq!(requests.unit(), "{request}");
    assert_eq!(requests.scope_name(), "support-receivers");
    assert_eq!(
        requests.resource_attr("service.instance.id").as_deref(),
        Some("7")
    );
    let a = requests.point(&[("route", "/a")]).expect("the /a point");
    assert_eq!(a.as_int(), Some(count));
    assert_eq!(a.as_double(), None, "sent as an integer");
    assert_eq!(a.number(), Some(count as f64));
    assert_eq!(a.time_unix_nano, 1_700_000_010_000_000_000);
    let [linked, unlinked] = a.exemplars.as_slice() else {
        panic!("two exemplars: {:?}", a.exemplars)
    };
    assert_eq!(
        (linked.trace_id.as_str(), linked.span_id.as_str()),
        (TRACE_HEX, SPAN_HEX)
    );
    assert_eq!(linked.value, Some(exemplar::Value::AsInt(1)));
    assert_eq!(linked.time_unix_nano, 1_700_000_005_000_000_001);
    assert_eq!(linked.filtered_attributes, vec![kv("user", string("ada"))]);
    assert_eq!(unlinked.span_id, "0909090909090909");
    assert_eq!(requests.exemplars().len(), 2, "the /b point has none");
    assert_eq!(
        requests.point(&[("route", "/b")]).and_then(|p| p.as_int()),
        Some(1)
    );
    assert!(requests.point(&[("route", "/c")]).is_none());

    let depth = metric("queue.depth").expect("the up-down counter");
    assert_eq!(depth.kind(), MetricKind::Sum);
    assert!(!depth.is_monotonic());
    assert_eq!(depth.temporality(), AggregationTemporality::Delta);
    assert_eq!(depth.points()[0].as_double(), Some(-2.5));

    let temperature = metric("temperature").expect("the gauge");
    assert_eq!(temperature.kind(), MetricKind::Gauge);
    assert!(!temperature.is_monotonic());
    assert_eq!(
        temperature.temporality(),
        AggregationTemporality::Unspecified
    );
    let points = temperature.points();
    assert_eq!(points[0].as_double(), Some(21.5));
    assert_eq!(
        points[0].attr_value("int.max"),
        Some(&Value::IntValue(i64::MAX))
    );
    assert_eq!(
        points[0].attr_value("inf"),
        Some(&Value::DoubleValue(f64::NEG_INFINITY))
    );
    assert_eq!(
        (points[1].value, points[1].flags),
        (None, 1),
        "no recorded value"
    );

    let latency = metric("latency").expect("the histogram");
    assert_eq!(latency.kind(), MetricKind::Histogram);
    assert_eq!(latency.temporality(), AggregationTemporality::Cumulative);
    let point = &latency.points()[0];
    assert_eq!(point.count, Some(4));
    assert_eq!(
        (point.sum, point.min, point.max),
        (Some(1.2), Some(0.1), None)
    );
    assert_eq!(point.explicit_bounds, vec![0.005, 0.1, 1.0]);
    assert_eq!(point.bucket_counts, vec![0, 1, 2, 1]);
    assert_eq!(point.value, None);
    assert_eq!(point.exemplars[0].number(), Some(0.7));

    let sizes = metric("sizes").expect("the exponential histogram");
    assert_eq!(sizes.kind(), MetricKind::ExponentialHistogram);
    assert_eq!(sizes.points()[0].count, Some(4));

    let summary = metric("rpc.duration").expect("the summary");
    assert_eq!(summary.kind(), MetricKind::Summary);
    assert_eq!(
        summary.points()[0].quantiles,
        vec![(0.5, 0.4), (0.99, 1.25)]
    );
    assert_eq!(summary.points()[0].sum, Some(5.5));

    assert!(metric("never.sent").is_none());
}

// ------------------------------------------------------------- Rust receiver

#[test]
fn rust_receiver_takes_logs_by_both_protocols_gzip_or_not() {
    let receiver = Receiver::start();
    let sent = sample_logs();
    for (transport, gzip, marker) in WAYS {
        Export::Logs(sent.clone())
            .send(&base(&receiver, transport), transport, gzip, marker)
            .unwrap_or_else(|e| panic!("{marker}: {e}"));
    }
    let logs = receiver.wait_for_logs(8, WAIT);
    assert_eq!(logs.len(), 8);
    let requests = receiver.logs_requests();
    assert_eq!(requests.len(), 4);
    for (request, (transport, gzip, marker)) in requests.iter().zip(WAYS) {
        assert_eq!(request.transport, transport, "{marker}");
        assert_eq!(request.gzip, gzip, "{marker}");
        assert_eq!(request.header("x-test"), Some(marker));
        assert_eq!(request.record_count(), 2);
        assert_eq!(request.body, sent, "{marker}: received as sent");
    }
    for (chunk, (transport, _, _)) in logs.chunks(2).zip(WAYS) {
        check_logs(chunk, transport);
    }
    assert_eq!(receiver.logs().len(), 8);
    assert!(receiver.spans().is_empty(), "logs are no spans");
    assert!(receiver.metrics_requests().is_empty());
    assert!(receiver.problems().is_empty(), "{:?}", receiver.problems());
}

#[test]
fn rust_receiver_takes_metrics_by_both_protocols_gzip_or_not() {
    let receiver = Receiver::start();
    for (i, (transport, gzip, marker)) in WAYS.into_iter().enumerate() {
        Export::Metrics(sample_metrics(i as i64 + 1))
            .send(&base(&receiver, transport), transport, gzip, marker)
            .unwrap_or_else(|e| panic!("{marker}: {e}"));
        // The latest export is the one just sent, whatever came before.
        check_metrics(|name| receiver.metric(name), i as i64 + 1);
        assert_eq!(
            receiver.metric("requests").map(|m| m.transport),
            Some(transport)
        );
    }
    let requests = receiver.wait_for_metrics(4, WAIT);
    assert_eq!(requests.len(), 4);
    for (i, (request, (transport, gzip, marker))) in requests.iter().zip(WAYS).enumerate() {
        assert_eq!(
            (request.transport, request.gzip),
            (transport, gzip),
            "{marker}"
        );
        assert_eq!(request.header("x-test"), Some(marker));
        assert_eq!(
            request.body,
            sample_metrics(i as i64 + 1),
            "{marker}: received as sent"
        );
        assert_eq!(
            request.metric_names(),
            [
                "requests",
                "queue.depth",
                "temperature",
                "latency",
                "sizes",
                "rpc.duration"
            ]
        );
    }
    assert_eq!(
        receiver.metrics().len(),
        4 * 6,
        "every metric of every export"
    );
    assert!(receiver.logs().is_empty() && receiver.spans().is_empty());
    assert!(receiver.problems().is_empty(), "{:?}", receiver.problems());
}

#[test]
fn rust_receiver_waits_for_a_metric_and_checks_exemplars_against_spans() {
    let receiver = Receiver::start();
    let http = receiver.http_endpoint();
    Export::Metrics(sample_metrics(1))
        .send(&http, Transport::Http, false, "first")
        .expect("taken");
    let is_two = |m: &support::ReceivedMetric| {
        m.point(&[("route", "/a")]).and_then(|p| p.as_int()) == Some(2)
    };
    assert!(
        !receiver
            .wait_for_metric("requests", Duration::from_millis(100), is_two)
            .is_some_and(|m| is_two(&m)),
        "not yet 2"
    );
    Export::Metrics(sample_metrics(2))
        .send(&http, Transport::Http, false, "second")
        .expect("taken");
    let latest = receiver
        .wait_for_metric("requests", WAIT, is_two)
        .expect("the counter");
    assert!(is_two(&latest), "{latest:?}");

    // No span received yet: both exemplars name nothing.
    assert_eq!(receiver.exemplars_without_span("requests").len(), 2);
    Export::Traces(sample_traces())
        .send(&receiver.grpc_endpoint(), Transport::Grpc, false, "span")
        .expect("taken");
    assert_eq!(receiver.wait_for_spans(1, WAIT).len(), 1);
    let orphans = receiver.exemplars_without_span("requests");
    assert_eq!(orphans.len(), 1, "{orphans:?}");
    assert_eq!(orphans[0].span_id, "0909090909090909", "the one never sent");
    assert!(
        receiver.exemplars_without_span("latency").is_empty(),
        "the histogram's exemplar names the span"
    );
}

#[test]
fn fail_next_fails_logs_and_metrics_too() {
    let receiver = Receiver::start();
    let (http, grpc) = (receiver.http_endpoint(), receiver.grpc_endpoint());
    let logs = Export::Logs(sample_logs());
    let metrics = Export::Metrics(sample_metrics(1));
    let traces = Export::Traces(sample_traces());

    receiver.fail_next(2);
    assert_eq!(
        logs.send(&http, Transport::Http, false, "x"),
        Err("HTTP 503".into())
    );
    let failed = metrics.send(&grpc, Transport::Grpc, true, "x");
    assert!(
        failed
            .as_ref()
            .is_err_and(|e| e.starts_with("gRPC Unavailable")),
        "{failed:?}"
    );
    logs.send(&grpc, Transport::Grpc, false, "x")
        .expect("the third passes");
    metrics
        .send(&http, Transport::Http, false, "x")
        .expect("passes");
    assert_eq!(receiver.rejected(), 2);
    assert_eq!(
        (
            receiver.rejected_of(Signal::Logs),
            receiver.rejected_of(Signal::Metrics)
        ),
        (1, 1)
    );
    assert_eq!(
        receiver.logs_requests().len(),
        1,
        "a failed request is not recorded"
    );
    assert_eq!(receiver.metrics_requests().len(), 1);

    // Only the logs fail: spans and metrics pass meanwhile.
    receiver.fail_next_of(Signal::Logs, 1);
    traces
        .send(&http, Transport::Http, false, "x")
        .expect("spans pass");
    metrics
        .send(&grpc, Transport::Grpc, false, "x")
        .expect("metrics pass");
    assert_eq!(
        logs.send(&http, Transport::Http, true, "x"),
        Err("HTTP 503".into())
    );
    logs.send(&http, Transport::Http, true, "x")
        .expect("then logs pass");
    assert_eq!(receiver.rejected_of(Signal::Logs), 2);
    assert_eq!(receiver.rejected_of(Signal::Traces), 0);
    assert_eq!(receiver.rejected(), 3);
    assert_eq!(receiver.spans().len(), 1);
    assert!(receiver.problems().is_empty(), "{:?}", receiver.problems());
}

#[test]
fn rust_receiver_still_refuses_what_is_not_otlp() {
    let receiver = Receiver::start();
    let http = receiver.http_endpoint();
    let body = sample_logs().encode_to_vec();
    let protobuf = ("content-type", "application/x-protobuf");
    assert_eq!(post(&http, "/v1/profiles", &[protobuf], &body), 404);
    assert_eq!(
        post(
            &http,
            "/v1/logs",
            &[("content-type", "application/json")],
            b"{}"
        ),
        415
    );
    assert_eq!(
        post(&http, "/v1/metrics", &[protobuf], b"\xff\xff\xff"),
        400
    );
    assert_eq!(receiver.problems().len(), 3, "{:?}", receiver.problems());
    assert!(receiver.logs_requests().is_empty() && receiver.metrics_requests().is_empty());
    assert!(
        receiver
            .wait_for_logs(1, Duration::from_millis(50))
            .is_empty(),
        "the wait returns what arrived: nothing"
    );
    assert!(receiver
        .wait_for_metric("requests", Duration::from_millis(50), |_| true)
        .is_none());
}

// ----------------------------------------------------------- Python receiver

#[test]
fn python_receiver_decodes_all_three_signals_by_both_protocols_with_their_types() {
    let python = PyReceiver::start();
    for (i, (transport, gzip, marker)) in WAYS.into_iter().enumerate() {
        let base = py_base(&python, transport);
        for export in [
            Export::Traces(sample_traces()),
            Export::Logs(sample_logs()),
            Export::Metrics(sample_metrics(i as i64 + 1)),
        ] {
            export
                .send(&base, transport, gzip, marker)
                .unwrap_or_else(|e| panic!("{marker} {}: {e}", export.path()));
        }
    }
    let logs = python.wait_for_logs(8, WAIT);
    assert_eq!(python.wait_for_spans(4, WAIT).len(), 4);
    assert_eq!(python.wait_for_metrics(4, WAIT).len(), 4);
    assert!(python.problems().is_empty(), "{:?}", python.problems());

    for (i, (transport, gzip, marker)) in WAYS.into_iter().enumerate() {
        let traces = &python.requests()[i];
        let logs = &python.logs_requests()[i];
        let metrics = &python.metrics_requests()[i];
        assert_eq!(traces.body, sample_traces(), "{marker}: spans as sent");
        assert_eq!(logs.body, sample_logs(), "{marker}: logs as sent");
        assert_eq!(
            metrics.body,
            sample_metrics(i as i64 + 1),
            "{marker}: metrics as sent"
        );
        for (got, header) in [
            (traces.transport, traces.header("x-test")),
            (logs.transport, logs.header("x-test")),
            (metrics.transport, metrics.header("x-test")),
        ] {
            assert_eq!((got, header), (transport, Some(marker)));
        }
        // grpcio decompresses before the servicer sees the call.
        let seen_gzip = gzip && transport == Transport::Http;
        assert_eq!(
            (logs.gzip, metrics.gzip, traces.gzip),
            (seen_gzip, seen_gzip, seen_gzip)
        );
    }
    for (chunk, (transport, _, _)) in logs.chunks(2).zip(WAYS) {
        check_logs(chunk, transport);
    }
    check_metrics(|name| python.metric(name), 4);
    let span = &python.spans()[0];
    assert_eq!(
        (span.trace_id(), span.span_id()),
        (TRACE_HEX.into(), SPAN_HEX.into())
    );
    assert_eq!(span.int_attr("status"), Some(200));
    assert_eq!(span.attr_value("status.text"), Some(&string("200")));
    assert_eq!(python.exemplars_without_span("requests").len(), 1);
}

#[test]
fn python_receiver_reports_what_it_refuses() {
    let python = PyReceiver::start();
    let http = python.http_endpoint();
    let protobuf = ("content-type", "application/x-protobuf");
    assert_eq!(post(&http, "/v1/profiles", &[protobuf], b""), 404);
    assert_eq!(
        post(
            &http,
            "/v1/logs",
            &[("content-type", "application/json")],
            b"{}"
        ),
        415
    );
    assert_eq!(
        post(&http, "/v1/metrics", &[protobuf], b"\xff\xff\xff"),
        400
    );
    // The refusals are written before the answers: they are read by now,
    // unless the reader thread lags; wait for the last one through a request
    // that passes.
    Export::Logs(sample_logs())
        .send(&http, Transport::Http, false, "after")
        .expect("taken");
    assert_eq!(python.wait_for_logs(2, WAIT).len(), 2);
    let problems = python.problems();
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(problems[0].contains("path /v1/profiles"), "{problems:?}");
    assert!(
        problems[1].contains("content-type 'application/json'"),
        "{problems:?}"
    );
    assert!(problems[2].contains("body:"), "{problems:?}");
}

#[test]
fn python_receiver_with_tls_takes_tracelink_spans_by_both_protocols() {
    let pki = tls::Pki::new("support-receivers", tls::ServerCert::Valid);
    let python = PyReceiver::start_tls(&pki.server_cert, &pki.server_key, None);
    for protocol in ["grpc", "http/protobuf"] {
        let endpoint = python.endpoint(protocol);
        assert!(endpoint.starts_with("https://localhost:"), "{endpoint}");
        let ca = pki.ca.display().to_string();
        let env = [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", ca.as_str()),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "3000"),
            ("TRACELINK_LOG_FORMAT", "none"),
            ("OTEL_METRICS_EXPORTER", "none"),
        ];
        let parts = tracelink::builder()
            .with_env(env)
            .with_service_name("receivers-tls")
            .build()
            .expect("tracelink builds");
        tracing::dispatcher::with_default(&support::dispatch(&parts), || {
            drop(tracing::info_span!("over tls", status = 200u16).entered());
        });
        let _ = parts.guard().flush();
        assert_eq!(parts.guard().stats().spans().exported(), 1, "{protocol}");
    }
    let spans = python.wait_for_spans(2, WAIT);
    assert_eq!(spans.len(), 2);
    assert_eq!(
        spans.iter().map(|s| s.transport).collect::<Vec<_>>(),
        [Transport::Grpc, Transport::Http]
    );
    for span in &spans {
        assert_eq!(span.name(), "over tls");
        assert_eq!(span.int_attr("status"), Some(200));
        assert_eq!(
            span.resource_attr("service.name").as_deref(),
            Some("receivers-tls")
        );
    }
}
