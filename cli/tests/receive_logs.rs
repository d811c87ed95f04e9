//! `tracelink receive` takes OTLP logs beside traces, and `tracelink show`
//! draws a trace's log records under their spans: a Python service's
//! `logging` lines (the OpenTelemetry SDK, OTLP/HTTP with gzip) show under
//! the span each was written in; log records over OTLP/gRPC with gzip land
//! there too, a large request as lines of bounded size; the store line is
//! what the OpenTelemetry Collector's file exporter writes for the same
//! records; and `/v1/logs` answers errors and limits as `/v1/traces` does.
//!
//! Every process listens on a free port of 127.0.0.1 and is killed by its
//! PID when the test ends, failed or not. The Python SDK comes from the
//! venv `scripts/install-test-deps.sh` makes at `target/test-venv`.

mod support;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use prost::Message;
use support::*;

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const ROOT: &str = "00f067aa0ba902b7";
const CHILD: &str = "00f067aa0ba902b8";

/// The store's lines, each as JSON.
fn store_json(store: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(store)
        .expect("the store")
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

/// The store's lines of log records, read back with opentelemetry-proto's
/// own OTLP/JSON decoder.
fn stored_logs(store: &Path) -> Vec<ExportLogsServiceRequest> {
    std::fs::read_to_string(store)
        .expect("the store")
        .lines()
        .filter(|line| line.starts_with(r#"{"resourceLogs""#))
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

/// Exports `request` over OTLP/gRPC with gzip, from a runtime of its own.
fn export_logs(
    addr: std::net::SocketAddr,
    request: ExportLogsServiceRequest,
) -> Result<(), tonic::Status> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        LogsServiceClient::connect(format!("http://{addr}"))
            .await
            .expect("connects")
            .send_compressed(tonic::codec::CompressionEncoding::Gzip)
            .export(request)
            .await
            .map(drop)
    })
}

/// The `▸` lines under the span row of `name`.
fn records_under<'a>(output: &'a str, name: &str) -> Vec<&'a str> {
    details(output, name)
        .into_iter()
        .filter(|line| line.contains('▸'))
        .collect()
}

#[test]
fn python_log_records_show_under_their_spans() {
    let dir = TempDir::new("logs-python");
    let store = dir.path("store/traces.jsonl");
    let receiver = Receiver::start(&store);

    let mut process = Killed(
        Command::new(python())
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/send_logs.py"))
            .arg(format!("http://{}", receiver.http))
            .env_clear()
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python starts"),
    );
    let mut stdout = String::new();
    process
        .0
        .stdout
        .take()
        .expect("piped stdout")
        .read_to_string(&mut stdout)
        .expect("python's stdout");
    let status = process.0.wait().expect("python ends");
    assert!(status.success(), "python failed: {status}");
    let ids: serde_json::Value = serde_json::from_str(stdout.trim()).expect("the ids");
    let id = |name: &str| ids[name].as_str().expect("an id").to_owned();
    let (trace_id, root, charge) = (id("trace_id"), id("root"), id("charge"));

    let run = run(tracelink()
        .args(["show", &trace_id, "--store"])
        .arg(&store)
        .arg(WIDE));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let tree: Vec<(usize, String)> = rows(&run.stdout)
        .iter()
        .map(|r| (r.depth(), r.name().to_owned()))
        .collect();
    assert_eq!(
        tree,
        [(0, "GET /orders".to_owned()), (1, "charge".to_owned())]
    );
    assert!(run.stdout.contains("· 3 log records"), "{}", run.stdout);
    // Under the span each was written in, in time order, with severity,
    // body and attributes (the SDK's `code.*` ones left out).
    let root_records = records_under(&run.stdout, "GET /orders");
    assert_eq!(root_records.len(), 2, "{root_records:?}");
    assert!(
        root_records[0].contains("INFO  order 42 placed  order.id=42"),
        "{root_records:?}"
    );
    assert!(
        root_records[1].contains("WARN  slow response"),
        "{root_records:?}"
    );
    let charge_records = records_under(&run.stdout, "charge");
    assert_eq!(charge_records.len(), 1, "{charge_records:?}");
    assert!(
        charge_records[0].contains("ERROR card declined  card.brand=visa"),
        "{charge_records:?}"
    );
    assert!(!run.stdout.contains("code."), "{}", run.stdout);
    // The line before any span has no trace: not this trace's.
    assert!(!run.stdout.contains("before any span"));
    assert!(!run.stdout.contains("not under a span"), "{}", run.stdout);

    // The records carry the ids of their spans, in the store.
    let mut by_span: Vec<(String, String)> = stored_logs(&store)
        .iter()
        .flat_map(|r| &r.resource_logs)
        .flat_map(|rl| &rl.scope_logs)
        .flat_map(|sl| &sl.log_records)
        .filter(|r| !r.trace_id.is_empty())
        .map(|r| {
            let body = match r.body.as_ref().and_then(|b| b.value.as_ref()) {
                Some(any_value::Value::StringValue(s)) => s.clone(),
                other => panic!("a string body, not {other:?}"),
            };
            let span = tracelink::encode::hex::to_string(&r.span_id);
            (body, span)
        })
        .collect();
    by_span.sort();
    assert_eq!(
        by_span,
        [
            ("card declined".to_owned(), charge),
            ("order 42 placed".to_owned(), root.clone()),
            ("slow response".to_owned(), root),
        ]
    );

    // `traces` lists the trace once, its spans counted, the log lines not.
    let listing = support::run(tracelink().args(["traces", "--store"]).arg(&store));
    assert_eq!(listing.code, Some(0), "{}", listing.stderr);
    assert!(listing.stderr.is_empty(), "{}", listing.stderr);
    let listed: Vec<&str> = listing.stdout.lines().skip(1).collect();
    assert_eq!(listed.len(), 1, "{}", listing.stdout);
    assert!(listed[0].starts_with(&trace_id), "{}", listed[0]);
    let columns: Vec<&str> = listed[0].split_whitespace().collect();
    assert_eq!(columns[3], "2", "2 spans: {}", listed[0]);
}

/// Log records over OTLP/gRPC with gzip, of spans already in the store:
/// under their spans, the one of a span not in the store after the tree.
/// 3,000 records of 1 KB arrive as one request, and are stored as lines of
/// at most about 1 MiB of records, each shown once.
#[test]
fn log_records_over_grpc_reach_their_spans() {
    let dir = TempDir::new("logs-grpc");
    let store = dir.path("traces.jsonl");
    write_store(
        &store,
        1 << 30,
        &[request(vec![(
            "orders",
            vec![
                span(TRACE, ROOT, None, "POST /orders", 0.0, 50.0),
                span(TRACE, CHILD, Some(ROOT), "INSERT orders", 10.0, 20.0),
            ],
        )])],
    );
    let receiver = Receiver::start(&store);
    let mut records = vec![
        log_record(TRACE, Some(CHILD), 12.0, 5, "DEBUG", "inserting"),
        log_record(TRACE, Some(ROOT), 1.0, 9, "INFO", "order received"),
        log_record(TRACE, Some("00000000000000ff"), 30.0, 13, "", "retrying"),
    ];
    records[1].attributes = vec![int("order.id", 7)];
    export_logs(
        receiver.grpc,
        logs_request(vec![("orders", records.clone())]),
    )
    .expect("the receiver takes the records");

    // Many, in one request of about 3 MB.
    let many: Vec<_> = (0..3000)
        .map(|i| {
            log_record(
                TRACE,
                Some(CHILD),
                15.0,
                9,
                "INFO",
                &format!("row {i:04} {}", "x".repeat(1000)),
            )
        })
        .collect();
    export_logs(receiver.grpc, logs_request(vec![("orders", many)])).expect("stored");

    let lines = stored_logs(&store);
    assert!(lines.len() >= 4, "{} lines of records", lines.len());
    let longest = std::fs::read_to_string(&store)
        .unwrap()
        .lines()
        .map(str::len)
        .max()
        .unwrap();
    assert!(longest < 4 << 20, "{longest} bytes");

    let run = run(tracelink()
        .args(["show", TRACE, "--store"])
        .arg(&store)
        .arg(WIDE));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("· 3003 log records"), "{}", run.stdout);
    let root = records_under(&run.stdout, "POST /orders");
    assert_eq!(root.len(), 1, "{root:?}");
    assert!(
        root[0].ends_with("▸ +1.000ms INFO  order received  order.id=7"),
        "{root:?}"
    );
    let child = records_under(&run.stdout, "INSERT orders");
    assert_eq!(child.len(), 3001);
    assert!(
        child[0].ends_with("▸ +2.000ms DEBUG inserting"),
        "{:?}",
        child[0]
    );
    let rows: Vec<String> = child[1..]
        .iter()
        .map(|line| {
            let at = line.find("row ").expect("a row");
            line[at..at + 8].to_owned()
        })
        .collect();
    let expected: Vec<String> = (0..3000).map(|i| format!("row {i:04}")).collect();
    assert_eq!(rows, expected, "each once, in the order sent");
    // The record of a span not in the store, under its id, from the
    // trace's start; WARN from its number alone.
    let after: Vec<&str> = run
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("log records not under a span of the store (1)"))
        .collect();
    assert_eq!(
        after[1].trim(),
        "⚠ span 00000000000000ff is not in the store"
    );
    assert!(
        after[2].ends_with("▸ +30.000ms WARN  orders  retrying"),
        "{after:?}"
    );

    // A request that is not one is refused, and nothing written.
    let size = std::fs::metadata(&store).unwrap().len();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = runtime
        .block_on(async {
            let channel =
                tonic::transport::Endpoint::from_shared(format!("http://{}", receiver.grpc))
                    .unwrap()
                    .connect()
                    .await
                    .expect("connects");
            let mut grpc = tonic::client::Grpc::new(channel);
            grpc.ready().await.expect("ready");
            let path = tonic::codegen::http::uri::PathAndQuery::from_static(
                "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
            );
            // A varint where the resources are.
            grpc.unary(
                tonic::Request::new(RawBytes(vec![0x08, 0x01])),
                path,
                RawCodec,
            )
            .await
            .map(drop)
        })
        .expect_err("refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    assert!(
        status
            .message()
            .starts_with("not an ExportLogsServiceRequest"),
        "{status:?}"
    );
    assert_eq!(std::fs::metadata(&store).unwrap().len(), size);
}

/// Bytes sent, or received, as a gRPC message as they are.
struct RawBytes(Vec<u8>);

/// Sends and reads [`RawBytes`].
#[derive(Clone, Default)]
struct RawCodec;

impl tonic::codec::Codec for RawCodec {
    type Encode = RawBytes;
    type Decode = RawBytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }

    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

impl tonic::codec::Encoder for RawCodec {
    type Item = RawBytes;
    type Error = tonic::Status;

    fn encode(
        &mut self,
        item: RawBytes,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        use prost::bytes::BufMut;
        dst.put_slice(&item.0);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawCodec {
    type Item = RawBytes;
    type Error = tonic::Status;

    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<RawBytes>, tonic::Status> {
        use prost::bytes::Buf;
        let len = src.remaining();
        Ok(Some(RawBytes(src.copy_to_bytes(len).to_vec())))
    }
}

/// A line of log records as the OpenTelemetry Collector's file exporter
/// writes it (pdata's OTLP/JSON: lowerCamelCase keys in `.proto` order,
/// ids in lowercase hex, `severityNumber` and `flags` numbers, 64-bit
/// integers decimal strings, defaults left out but `resource`, `scope`
/// and `body`): every field of a record, every kind of value, a record
/// with no span and one with nothing but a time.
const COLLECTOR_LINE: &str = concat!(
    r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"collector-fixture"}},"#,
    r#"{"key":"host.pid","value":{"intValue":"4242"}}],"droppedAttributesCount":1},"#,
    r#""scopeLogs":[{"scope":{"name":"shop.orders","version":"1.2.0","attributes":[{"key":"k","value":{"boolValue":true}}]},"#,
    r#""logRecords":[{"timeUnixNano":"1795253400001000000","observedTimeUnixNano":"1795253400001000500","#,
    r#""severityNumber":17,"severityText":"ERROR","body":{"kvlistValue":{"values":["#,
    r#"{"key":"message","value":{"stringValue":"card declined"}},{"key":"amount","value":{"doubleValue":12.5}}]}},"#,
    r#""attributes":[{"key":"card.brand","value":{"stringValue":"visa"}},{"key":"retries","value":{"intValue":"-2"}},"#,
    r#"{"key":"tags","value":{"arrayValue":{"values":[{"stringValue":"a"},{"intValue":"1"}]}}},"#,
    r#"{"key":"raw","value":{"bytesValue":"AP8H"}}],"droppedAttributesCount":3,"flags":1,"#,
    r#""traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7","eventName":"payment.declined"},"#,
    r#"{"timeUnixNano":"1795253400002000000","severityNumber":9,"body":{"stringValue":"no span"},"#,
    r#""traceId":"4bf92f3577b34da6a3ce929d0e0e4736"},"#,
    r#"{"observedTimeUnixNano":"1795253400003000000","body":{}}],"#,
    r#""schemaUrl":"https://opentelemetry.io/schemas/1.26.0"}],"#,
    r#""schemaUrl":"https://opentelemetry.io/schemas/1.26.0"}]}"#
);

/// The records of [`COLLECTOR_LINE`], sent over OTLP/HTTP and OTLP/gRPC,
/// are stored as that line: the same JSON, type and value, and the same
/// request to opentelemetry-proto's decoder.
#[test]
fn the_store_line_is_what_the_collector_writes() {
    let expected: serde_json::Value = serde_json::from_str(COLLECTOR_LINE).unwrap();
    let request: ExportLogsServiceRequest =
        serde_json::from_str(COLLECTOR_LINE).expect("the fixture is OTLP/JSON");
    let dir = TempDir::new("logs-collector");
    let store = dir.path("traces.jsonl");
    let receiver = Receiver::start(&store);
    let answer = post_to(
        receiver.http,
        "/v1/logs",
        PROTOBUF,
        &request.encode_to_vec(),
    );
    assert_eq!(answer.status, 200, "{answer:?} {}", answer.text());
    export_logs(receiver.grpc, request.clone()).expect("stored");

    let lines = store_json(&store);
    assert_eq!(lines.len(), 2);
    for line in &lines {
        assert_eq!(line, &expected, "type and value, member by member");
    }
    assert_eq!(stored_logs(&store), [request.clone(), request]);
    // Exactly, byte for byte, too.
    let text = std::fs::read_to_string(&store).unwrap();
    assert_eq!(text, format!("{COLLECTOR_LINE}\n{COLLECTOR_LINE}\n"));

    // And `show` reads it: the record of no span after the (empty) tree.
    let run = run(tracelink()
        .args(["show", TRACE, "--store"])
        .arg(&store)
        .arg(WIDE));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr.contains("only log records"),
        "no span of the trace: {}",
        run.stderr
    );
    assert!(
        run.stdout.contains("0 spans · 2 log records"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "ERROR collector-fixture  payment.declined: {message=card declined, amount=12.5}  \
             card.brand=visa  retries=-2  tags=[a, 1]  raw=base64:AP8H"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("INFO  collector-fixture  no span"),
        "{}",
        run.stdout
    );
}

/// `/v1/logs` answers as `/v1/traces`: a body that is not a request is a
/// 400 naming the logs message, OTLP/JSON a 415 saying what to send, a
/// body past the limit a 413; an unknown path a 404 naming both.
#[test]
fn logs_over_http_have_the_errors_and_limits_of_traces() {
    let dir = TempDir::new("logs-http-errors");
    let store = dir.path("traces.jsonl");
    let receiver = Receiver::with(&store, &["--max-in-flight", "1MiB"]);

    let answer = post_to(receiver.http, "/v1/logs", PROTOBUF, &[0x08, 0x01]);
    assert_eq!(answer.status, 400, "{answer:?}");
    assert!(
        answer.text().contains("not an ExportLogsServiceRequest"),
        "{}",
        answer.text()
    );
    let answer = post_to(
        receiver.http,
        "/v1/logs",
        "application/json",
        br#"{"resourceLogs":[]}"#,
    );
    assert_eq!(answer.status, 415, "{answer:?}");
    assert!(answer
        .text()
        .contains("OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf"));
    let mut reader = send_head_to(receiver.http, "/v1/logs", PROTOBUF, 2 << 20, false);
    let answer = read_answer(&mut reader);
    assert_eq!(answer.status, 413, "{answer:?}");
    assert!(answer.text().contains("1048576 bytes"), "{}", answer.text());
    let answer = post_to(receiver.http, "/v1/metrics", PROTOBUF, b"");
    assert_eq!(answer.status, 404, "{answer:?}");
    assert!(
        answer
            .text()
            .contains("POST /v1/traces and logs at POST /v1/logs"),
        "{}",
        answer.text()
    );
    // An empty request is answered 200, and writes nothing.
    let answer = post_to(receiver.http, "/v1/logs", PROTOBUF, b"");
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(std::fs::metadata(&store).unwrap().len(), 0);
}
