//! [`PyReceiver`]: OTLP traces, logs and metrics received by Python's
//! official protos (`tests/tools/otlp_receiver.py`, run with the venv of
//! `scripts/install-test-deps.sh`), read back here as the same types the Rust
//! [`Receiver`](super::Receiver) gives: [`ExportRequest`], [`LogsRequest`],
//! [`MetricsRequest`] and their flat views.
//!
//! The script writes each request as one JSON line, field by field with
//! each value's protobuf type kept (see its doc); this module rebuilds the
//! prost messages from those lines, every field of every message (a struct
//! literal each: a field added to the protos fails to compile here). So a
//! test can compare what Python decoded with what was sent, by type and
//! value:
//!
//! ```ignore
//! let python = support::PyReceiver::start();
//! // ... export to python.http_endpoint() or python.grpc_endpoint() ...
//! let logs = python.wait_for_logs(1, Duration::from_secs(10));
//! assert_eq!(logs[0].attr_value("http.response.status_code"), Some(&IntValue(200)));
//! ```

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    any_value, AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    exemplar, exponential_histogram_data_point, metric, number_data_point, summary_data_point,
    Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};
use serde_json::Value as Json;

use super::{ExportRequest, Inboxes, LogsRequest, MetricsRequest, Transport};

/// The Python OTLP receiver, as a child process on two free ports of
/// 127.0.0.1; stopped (its stdin closed, then killed by its process id if it
/// lingers) when dropped.
#[derive(Debug)]
pub struct PyReceiver {
    child: Child,
    stdin: Option<ChildStdin>,
    grpc_port: u16,
    http_port: u16,
    tls: bool,
    received: Arc<Received>,
    reader: Option<JoinHandle<()>>,
}

/// What the thread reading the script's stdout shares with the test.
#[derive(Debug, Default)]
struct Received {
    inboxes: Inboxes,
    /// Requests the script refused, and lines this side could not read.
    problems: Mutex<Vec<String>>,
}

impl Received {
    fn problem(&self, problem: String) {
        eprintln!("python receiver: {problem}");
        self.problems
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(problem);
    }

    /// One line of the script's output, after the ports.
    fn line(&self, line: &str) {
        let read = serde_json::from_str::<Json>(line)
            .map_err(|e| e.to_string())
            .and_then(|json| self.request(&json));
        if let Err(error) = read {
            let start: String = line.chars().take(300).collect();
            self.problem(format!("unreadable line ({error}): {start}..."));
        }
    }

    fn request(&self, json: &Json) -> Result<(), String> {
        let line = Msg::new("line", json)?;
        if let Some(problem) = line.opt("problem") {
            self.problem(format!("refused: {}", problem.as_str().unwrap_or_default()));
            return Ok(());
        }
        let transport = match line.string("transport")?.as_str() {
            "grpc" => Transport::Grpc,
            "http" => Transport::Http,
            other => return Err(format!("transport {other:?}")),
        };
        let headers = line.list("headers", |pair| match pair.as_array().map(Vec::as_slice) {
            Some([Json::String(name), Json::String(value)]) => Ok((name.clone(), value.clone())),
            _ => Err(format!("header {pair}")),
        })?;
        let gzip = line.bool("gzip")?;
        let request = line.get("request")?;
        match line.string("signal")?.as_str() {
            "traces" => self.inboxes.traces.push(ExportRequest {
                transport,
                headers,
                gzip,
                body: traces_request(request)?,
            }),
            "logs" => self.inboxes.logs.push(LogsRequest {
                transport,
                headers,
                gzip,
                body: logs_request(request)?,
            }),
            "metrics" => self.inboxes.metrics.push(MetricsRequest {
                transport,
                headers,
                gzip,
                body: metrics_request(request)?,
            }),
            other => return Err(format!("signal {other:?}")),
        }
        Ok(())
    }
}

impl PyReceiver {
    /// Starts the Python receiver without TLS; its endpoints are
    /// `http://127.0.0.1:PORT`. Panics, naming the install script, if the
    /// venv is missing.
    pub fn start() -> Self {
        Self::launch(&[], false)
    }

    /// Starts the Python receiver speaking TLS on both ports with this
    /// certificate chain and key (`support/tls.rs` makes throwaway ones),
    /// requiring a client certificate signed by `client_ca` if given; its
    /// endpoints are `https://localhost:PORT`.
    pub fn start_tls(cert: &Path, key: &Path, client_ca: Option<&Path>) -> Self {
        let mut args = vec![
            "--cert".into(),
            cert.to_path_buf(),
            "--key".into(),
            key.to_path_buf(),
        ];
        if let Some(ca) = client_ca {
            args.extend(["--client-ca".into(), ca.to_path_buf()]);
        }
        Self::launch(&args, true)
    }

    fn launch(args: &[PathBuf], tls: bool) -> Self {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let python = root.join("target/test-venv/bin/python");
        assert!(
            python.exists(),
            "{} is missing: run scripts/install-test-deps.sh",
            python.display()
        );
        let mut child = Command::new(python)
            .arg(root.join("tests/tools/otlp_receiver.py"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python runs");
        let stdin = child.stdin.take();
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let ports: Json = lines
            .next()
            .and_then(Result::ok)
            .and_then(|line| serde_json::from_str(&line).ok())
            .expect("the Python receiver prints its ports (its errors are above)");
        let port = |name: &str| {
            ports[name]
                .as_u64()
                .and_then(|p| u16::try_from(p).ok())
                .unwrap_or_else(|| panic!("no {name} port in {ports}"))
        };
        let received = Arc::new(Received::default());
        let reader = std::thread::Builder::new()
            .name("py-receiver-stdout".into())
            .spawn({
                let received = received.clone();
                move || {
                    for line in lines.map_while(Result::ok) {
                        received.line(&line);
                    }
                }
            })
            .expect("reader thread starts");
        Self {
            grpc_port: port("grpc"),
            http_port: port("http"),
            child,
            stdin,
            tls,
            received,
            reader: Some(reader),
        }
    }

    /// The OTLP/gRPC endpoint, `http://127.0.0.1:PORT` (or
    /// `https://localhost:PORT` with TLS).
    pub fn grpc_endpoint(&self) -> String {
        self.url(self.grpc_port)
    }

    /// The OTLP/HTTP base URL, `http://127.0.0.1:PORT` (or
    /// `https://localhost:PORT` with TLS); signals go to `/v1/traces`,
    /// `/v1/logs` and `/v1/metrics`.
    pub fn http_endpoint(&self) -> String {
        self.url(self.http_port)
    }

    /// The endpoint for an `OTEL_EXPORTER_OTLP_PROTOCOL` value: `"grpc"`
    /// gives the gRPC one, anything else (`"http/protobuf"`) the HTTP one.
    pub fn endpoint(&self, protocol: &str) -> String {
        if protocol == "grpc" {
            self.grpc_endpoint()
        } else {
            self.http_endpoint()
        }
    }

    fn url(&self, port: u16) -> String {
        if self.tls {
            format!("https://localhost:{port}")
        } else {
            format!("http://127.0.0.1:{port}")
        }
    }

    /// Requests the script refused (wrong path, content type, body), and
    /// lines of its output this side could not read back.
    pub fn problems(&self) -> Vec<String> {
        self.received
            .problems
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl std::ops::Deref for PyReceiver {
    type Target = Inboxes;

    /// What it received: `receiver.spans()`, `receiver.logs()`, ...
    fn deref(&self) -> &Inboxes {
        &self.received.inboxes
    }
}

impl Drop for PyReceiver {
    fn drop(&mut self) {
        // Closing stdin asks the script to stop; a script that does not is
        // killed by its pid.
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

// ---------------------------------------------------------------- JSON -> proto
//
// One function per message, reading the fields the script writes (see
// tests/tools/otlp_receiver.py): numbers exact, doubles as repr strings,
// bytes as hex, a oneof as its one set member, null for a message not sent.

/// A JSON object standing for the protobuf message `name`.
struct Msg<'a> {
    name: &'static str,
    fields: &'a serde_json::Map<String, Json>,
}

impl<'a> Msg<'a> {
    fn new(name: &'static str, json: &'a Json) -> Result<Self, String> {
        json.as_object()
            .map(|fields| Self { name, fields })
            .ok_or_else(|| format!("{name} is not an object: {json}"))
    }

    fn get(&self, key: &str) -> Result<&'a Json, String> {
        self.fields
            .get(key)
            .ok_or_else(|| format!("{}.{key} missing", self.name))
    }

    /// The field, `None` if missing or null.
    fn opt(&self, key: &str) -> Option<&'a Json> {
        self.fields.get(key).filter(|v| !v.is_null())
    }

    fn bad(&self, key: &str, what: &str) -> String {
        format!(
            "{}.{key} is not {what}: {:?}",
            self.name,
            self.fields.get(key)
        )
    }

    fn string(&self, key: &str) -> Result<String, String> {
        self.get(key)?
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| self.bad(key, "a string"))
    }

    fn bool(&self, key: &str) -> Result<bool, String> {
        self.get(key)?
            .as_bool()
            .ok_or_else(|| self.bad(key, "a boolean"))
    }

    fn u64(&self, key: &str) -> Result<u64, String> {
        self.get(key)?
            .as_u64()
            .ok_or_else(|| self.bad(key, "a u64"))
    }

    fn u32(&self, key: &str) -> Result<u32, String> {
        u32::try_from(self.u64(key)?).map_err(|_| self.bad(key, "a u32"))
    }

    fn i64(&self, key: &str) -> Result<i64, String> {
        self.get(key)?
            .as_i64()
            .ok_or_else(|| self.bad(key, "an i64"))
    }

    fn i32(&self, key: &str) -> Result<i32, String> {
        i32::try_from(self.i64(key)?).map_err(|_| self.bad(key, "an i32"))
    }

    fn f64(&self, key: &str) -> Result<f64, String> {
        double(self.get(key)?).ok_or_else(|| self.bad(key, "a double string"))
    }

    /// A proto3 `optional double`: null when not set.
    fn opt_f64(&self, key: &str) -> Result<Option<f64>, String> {
        self.opt(key)
            .map(|v| double(v).ok_or_else(|| self.bad(key, "a double string")))
            .transpose()
    }

    fn bytes(&self, key: &str) -> Result<Vec<u8>, String> {
        self.get(key)?
            .as_str()
            .and_then(unhex)
            .ok_or_else(|| self.bad(key, "hex"))
    }

    fn list<T>(
        &self,
        key: &str,
        item: impl Fn(&'a Json) -> Result<T, String>,
    ) -> Result<Vec<T>, String> {
        self.get(key)?
            .as_array()
            .ok_or_else(|| self.bad(key, "a list"))?
            .iter()
            .map(item)
            .collect()
    }

    /// A message field: `None` when it was not sent.
    fn message<T>(
        &self,
        key: &str,
        read: impl Fn(&'a Json) -> Result<T, String>,
    ) -> Result<Option<T>, String> {
        self.opt(key).map(read).transpose()
    }
}

/// A double as the script writes it: Python's repr ("0.5", "inf", "nan").
fn double(json: &Json) -> Option<f64> {
    json.as_str().and_then(|s| s.parse().ok())
}

/// A bucket count: a JSON number.
fn count(json: &Json) -> Result<u64, String> {
    json.as_u64()
        .ok_or_else(|| format!("count {json} is not a u64"))
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn any_value(json: &Json) -> Result<AnyValue, String> {
    let msg = Msg::new("AnyValue", json)?;
    let mut set = msg.fields.keys();
    let value = match (set.next().map(String::as_str), set.next()) {
        (None, _) => None,
        (Some(_), Some(_)) => return Err(format!("AnyValue with two values: {json}")),
        (Some("string_value"), None) => {
            Some(any_value::Value::StringValue(msg.string("string_value")?))
        }
        (Some("bool_value"), None) => Some(any_value::Value::BoolValue(msg.bool("bool_value")?)),
        (Some("int_value"), None) => Some(any_value::Value::IntValue(msg.i64("int_value")?)),
        (Some("double_value"), None) => {
            Some(any_value::Value::DoubleValue(msg.f64("double_value")?))
        }
        (Some("bytes_value"), None) => {
            Some(any_value::Value::BytesValue(msg.bytes("bytes_value")?))
        }
        (Some("string_value_strindex"), None) => Some(any_value::Value::StringValueStrindex(
            msg.i32("string_value_strindex")?,
        )),
        (Some("array_value"), None) => {
            let array = Msg::new("ArrayValue", msg.get("array_value")?)?;
            Some(any_value::Value::ArrayValue(ArrayValue {
                values: array.list("values", any_value)?,
            }))
        }
        (Some("kvlist_value"), None) => {
            let list = Msg::new("KeyValueList", msg.get("kvlist_value")?)?;
            Some(any_value::Value::KvlistValue(KeyValueList {
                values: list.list("values", key_value)?,
            }))
        }
        (Some(other), None) => return Err(format!("AnyValue.{other}?")),
    };
    Ok(AnyValue { value })
}

fn key_value(json: &Json) -> Result<KeyValue, String> {
    let msg = Msg::new("KeyValue", json)?;
    Ok(KeyValue {
        key: msg.string("key")?,
        value: msg.message("value", any_value)?,
        key_strindex: msg.i32("key_strindex")?,
    })
}

fn scope(json: &Json) -> Result<InstrumentationScope, String> {
    let msg = Msg::new("InstrumentationScope", json)?;
    Ok(InstrumentationScope {
        name: msg.string("name")?,
        version: msg.string("version")?,
        attributes: msg.list("attributes", key_value)?,
        dropped_attributes_count: msg.u32("dropped_attributes_count")?,
    })
}

fn resource(json: &Json) -> Result<Resource, String> {
    let msg = Msg::new("Resource", json)?;
    Ok(Resource {
        attributes: msg.list("attributes", key_value)?,
        dropped_attributes_count: msg.u32("dropped_attributes_count")?,
        entity_refs: msg.list("entity_refs", |json| {
            let msg = Msg::new("EntityRef", json)?;
            let strings = |key| {
                msg.list(key, |s| {
                    s.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| format!("EntityRef.{key}: {s} is not a string"))
                })
            };
            Ok(EntityRef {
                schema_url: msg.string("schema_url")?,
                r#type: msg.string("type")?,
                id_keys: strings("id_keys")?,
                description_keys: strings("description_keys")?,
            })
        })?,
    })
}

// ------------------------------------------------------------------- traces

fn traces_request(json: &Json) -> Result<ExportTraceServiceRequest, String> {
    let msg = Msg::new("ExportTraceServiceRequest", json)?;
    Ok(ExportTraceServiceRequest {
        resource_spans: msg.list("resource_spans", |json| {
            let msg = Msg::new("ResourceSpans", json)?;
            Ok(ResourceSpans {
                resource: msg.message("resource", resource)?,
                scope_spans: msg.list("scope_spans", |json| {
                    let msg = Msg::new("ScopeSpans", json)?;
                    Ok(ScopeSpans {
                        scope: msg.message("scope", scope)?,
                        spans: msg.list("spans", span)?,
                        schema_url: msg.string("schema_url")?,
                    })
                })?,
                schema_url: msg.string("schema_url")?,
            })
        })?,
    })
}

fn span(json: &Json) -> Result<Span, String> {
    let msg = Msg::new("Span", json)?;
    Ok(Span {
        trace_id: msg.bytes("trace_id")?,
        span_id: msg.bytes("span_id")?,
        trace_state: msg.string("trace_state")?,
        parent_span_id: msg.bytes("parent_span_id")?,
        flags: msg.u32("flags")?,
        name: msg.string("name")?,
        kind: msg.i32("kind")?,
        start_time_unix_nano: msg.u64("start_time_unix_nano")?,
        end_time_unix_nano: msg.u64("end_time_unix_nano")?,
        attributes: msg.list("attributes", key_value)?,
        dropped_attributes_count: msg.u32("dropped_attributes_count")?,
        events: msg.list("events", |json| {
            let msg = Msg::new("Span.Event", json)?;
            Ok(span::Event {
                time_unix_nano: msg.u64("time_unix_nano")?,
                name: msg.string("name")?,
                attributes: msg.list("attributes", key_value)?,
                dropped_attributes_count: msg.u32("dropped_attributes_count")?,
            })
        })?,
        dropped_events_count: msg.u32("dropped_events_count")?,
        links: msg.list("links", |json| {
            let msg = Msg::new("Span.Link", json)?;
            Ok(span::Link {
                trace_id: msg.bytes("trace_id")?,
                span_id: msg.bytes("span_id")?,
                trace_state: msg.string("trace_state")?,
                attributes: msg.list("attributes", key_value)?,
                dropped_attributes_count: msg.u32("dropped_attributes_count")?,
                flags: msg.u32("flags")?,
            })
        })?,
        dropped_links_count: msg.u32("dropped_links_count")?,
        status: msg.message("status", |json| {
            let msg = Msg::new("Status", json)?;
            Ok(Status {
                message: msg.string("message")?,
                code: msg.i32("code")?,
            })
        })?,
    })
}

// --------------------------------------------------------------------- logs

fn logs_request(json: &Json) -> Result<ExportLogsServiceRequest, String> {
    let msg = Msg::new("ExportLogsServiceRequest", json)?;
    Ok(ExportLogsServiceRequest {
        resource_logs: msg.list("resource_logs", |json| {
            let msg = Msg::new("ResourceLogs", json)?;
            Ok(ResourceLogs {
                resource: msg.message("resource", resource)?,
                scope_logs: msg.list("scope_logs", |json| {
                    let msg = Msg::new("ScopeLogs", json)?;
                    Ok(ScopeLogs {
                        scope: msg.message("scope", scope)?,
                        log_records: msg.list("log_records", log_record)?,
                        schema_url: msg.string("schema_url")?,
                    })
                })?,
                schema_url: msg.string("schema_url")?,
            })
        })?,
    })
}

fn log_record(json: &Json) -> Result<LogRecord, String> {
    let msg = Msg::new("LogRecord", json)?;
    Ok(LogRecord {
        time_unix_nano: msg.u64("time_unix_nano")?,
        observed_time_unix_nano: msg.u64("observed_time_unix_nano")?,
        severity_number: msg.i32("severity_number")?,
        severity_text: msg.string("severity_text")?,
        body: msg.message("body", any_value)?,
        attributes: msg.list("attributes", key_value)?,
        dropped_attributes_count: msg.u32("dropped_attributes_count")?,
        flags: msg.u32("flags")?,
        trace_id: msg.bytes("trace_id")?,
        span_id: msg.bytes("span_id")?,
        event_name: msg.string("event_name")?,
    })
}

// ------------------------------------------------------------------ metrics

fn metrics_request(json: &Json) -> Result<ExportMetricsServiceRequest, String> {
    let msg = Msg::new("ExportMetricsServiceRequest", json)?;
    Ok(ExportMetricsServiceRequest {
        resource_metrics: msg.list("resource_metrics", |json| {
            let msg = Msg::new("ResourceMetrics", json)?;
            Ok(ResourceMetrics {
                resource: msg.message("resource", resource)?,
                scope_metrics: msg.list("scope_metrics", |json| {
                    let msg = Msg::new("ScopeMetrics", json)?;
                    Ok(ScopeMetrics {
                        scope: msg.message("scope", scope)?,
                        metrics: msg.list("metrics", metric)?,
                        schema_url: msg.string("schema_url")?,
                    })
                })?,
                schema_url: msg.string("schema_url")?,
            })
        })?,
    })
}

fn metric(json: &Json) -> Result<Metric, String> {
    let msg = Msg::new("Metric", json)?;
    let data = if let Some(json) = msg.opt("gauge") {
        let msg = Msg::new("Gauge", json)?;
        Some(metric::Data::Gauge(Gauge {
            data_points: msg.list("data_points", number_point)?,
        }))
    } else if let Some(json) = msg.opt("sum") {
        let msg = Msg::new("Sum", json)?;
        Some(metric::Data::Sum(Sum {
            data_points: msg.list("data_points", number_point)?,
            aggregation_temporality: msg.i32("aggregation_temporality")?,
            is_monotonic: msg.bool("is_monotonic")?,
        }))
    } else if let Some(json) = msg.opt("histogram") {
        let msg = Msg::new("Histogram", json)?;
        Some(metric::Data::Histogram(Histogram {
            data_points: msg.list("data_points", histogram_point)?,
            aggregation_temporality: msg.i32("aggregation_temporality")?,
        }))
    } else if let Some(json) = msg.opt("exponential_histogram") {
        let msg = Msg::new("ExponentialHistogram", json)?;
        Some(metric::Data::ExponentialHistogram(ExponentialHistogram {
            data_points: msg.list("data_points", exponential_point)?,
            aggregation_temporality: msg.i32("aggregation_temporality")?,
        }))
    } else if let Some(json) = msg.opt("summary") {
        let msg = Msg::new("Summary", json)?;
        Some(metric::Data::Summary(Summary {
            data_points: msg.list("data_points", summary_point)?,
        }))
    } else {
        None
    };
    Ok(Metric {
        name: msg.string("name")?,
        description: msg.string("description")?,
        unit: msg.string("unit")?,
        metadata: msg.list("metadata", key_value)?,
        data,
    })
}

fn number_point(json: &Json) -> Result<NumberDataPoint, String> {
    let msg = Msg::new("NumberDataPoint", json)?;
    let value = if msg.opt("as_int").is_some() {
        Some(number_data_point::Value::AsInt(msg.i64("as_int")?))
    } else if msg.opt("as_double").is_some() {
        Some(number_data_point::Value::AsDouble(msg.f64("as_double")?))
    } else {
        None
    };
    Ok(NumberDataPoint {
        attributes: msg.list("attributes", key_value)?,
        start_time_unix_nano: msg.u64("start_time_unix_nano")?,
        time_unix_nano: msg.u64("time_unix_nano")?,
        exemplars: msg.list("exemplars", exemplar)?,
        flags: msg.u32("flags")?,
        value,
    })
}

fn histogram_point(json: &Json) -> Result<HistogramDataPoint, String> {
    let msg = Msg::new("HistogramDataPoint", json)?;
    Ok(HistogramDataPoint {
        attributes: msg.list("attributes", key_value)?,
        start_time_unix_nano: msg.u64("start_time_unix_nano")?,
        time_unix_nano: msg.u64("time_unix_nano")?,
        count: msg.u64("count")?,
        sum: msg.opt_f64("sum")?,
        bucket_counts: msg.list("bucket_counts", count)?,
        explicit_bounds: msg.list("explicit_bounds", |b| {
            double(b).ok_or_else(|| format!("bound {b} is not a double string"))
        })?,
        exemplars: msg.list("exemplars", exemplar)?,
        flags: msg.u32("flags")?,
        min: msg.opt_f64("min")?,
        max: msg.opt_f64("max")?,
    })
}

fn exponential_point(json: &Json) -> Result<ExponentialHistogramDataPoint, String> {
    let msg = Msg::new("ExponentialHistogramDataPoint", json)?;
    let buckets = |json| {
        let msg = Msg::new("Buckets", json)?;
        Ok(exponential_histogram_data_point::Buckets {
            offset: msg.i32("offset")?,
            bucket_counts: msg.list("bucket_counts", count)?,
        })
    };
    Ok(ExponentialHistogramDataPoint {
        attributes: msg.list("attributes", key_value)?,
        start_time_unix_nano: msg.u64("start_time_unix_nano")?,
        time_unix_nano: msg.u64("time_unix_nano")?,
        count: msg.u64("count")?,
        sum: msg.opt_f64("sum")?,
        scale: msg.i32("scale")?,
        zero_count: msg.u64("zero_count")?,
        positive: msg.message("positive", buckets)?,
        negative: msg.message("negative", buckets)?,
        flags: msg.u32("flags")?,
        exemplars: msg.list("exemplars", exemplar)?,
        min: msg.opt_f64("min")?,
        max: msg.opt_f64("max")?,
        zero_threshold: msg.f64("zero_threshold")?,
    })
}

fn summary_point(json: &Json) -> Result<SummaryDataPoint, String> {
    let msg = Msg::new("SummaryDataPoint", json)?;
    Ok(SummaryDataPoint {
        attributes: msg.list("attributes", key_value)?,
        start_time_unix_nano: msg.u64("start_time_unix_nano")?,
        time_unix_nano: msg.u64("time_unix_nano")?,
        count: msg.u64("count")?,
        sum: msg.f64("sum")?,
        quantile_values: msg.list("quantile_values", |json| {
            let msg = Msg::new("ValueAtQuantile", json)?;
            Ok(summary_data_point::ValueAtQuantile {
                quantile: msg.f64("quantile")?,
                value: msg.f64("value")?,
            })
        })?,
        flags: msg.u32("flags")?,
    })
}

fn exemplar(json: &Json) -> Result<Exemplar, String> {
    let msg = Msg::new("Exemplar", json)?;
    let value = if msg.opt("as_int").is_some() {
        Some(exemplar::Value::AsInt(msg.i64("as_int")?))
    } else if msg.opt("as_double").is_some() {
        Some(exemplar::Value::AsDouble(msg.f64("as_double")?))
    } else {
        None
    };
    Ok(Exemplar {
        filtered_attributes: msg.list("filtered_attributes", key_value)?,
        time_unix_nano: msg.u64("time_unix_nano")?,
        span_id: msg.bytes("span_id")?,
        trace_id: msg.bytes("trace_id")?,
        value,
    })
}
