//! Writes a large local trace store through tracelink's own writer
//! (`tracelink::store::TraceFile`, what the `file` exporter and
//! `tracelink receive` use), for `scripts/bench-store.sh`.
//!
//! Run with
//!
//! ```sh
//! cargo run --release -p tracelink-cli --example generate_store -- \
//!     --spans 1000000 --store /tmp/store/traces.jsonl --max-bytes 256MiB
//! ```
//!
//! Each trace has 10 spans in three services (frontend, orders, payments),
//! with HTTP and database attributes; one in 50 has a failed charge with an
//! exception event. Lines carry 512 spans each, as the export thread's
//! batches do. Prints the ids of the first, middle and last trace.

#[path = "../tests/support/proto.rs"]
mod proto;

use std::path::PathBuf;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};
use proto::{error_status, event, int, s};

const SPANS_PER_TRACE: usize = 10;
const BATCH: usize = 512;
const SERVICES: [&str; 3] = ["frontend", "orders", "payments"];
/// 2026-11-21T09:00:00Z.
const EPOCH: u64 = 1_795_251_600_000_000_000;
const MS: u64 = 1_000_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut spans = 1_000_000usize;
    let mut store = PathBuf::from(".tracelink/bench/traces.jsonl");
    let mut max_bytes: u64 = 256 << 20;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--spans" => spans = value()?.parse()?,
            "--store" => store = PathBuf::from(value()?),
            "--max-bytes" => {
                let text = value()?;
                max_bytes = match text.strip_suffix("MiB") {
                    Some(mib) => mib.parse::<u64>()? << 20,
                    None => text.parse()?,
                }
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let mut file = tracelink::store::TraceFile::open(&store, max_bytes)?;
    let traces = spans.div_ceil(SPANS_PER_TRACE);
    let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
    let mut pending: Vec<(usize, Span)> = Vec::with_capacity(BATCH);
    let mut ids = Vec::new();
    let mut written = 0;
    for t in 0..traces {
        let trace_id: Vec<u8> = (0..2).flat_map(|_| next(&mut rng).to_be_bytes()).collect();
        ids.push(trace_id.clone());
        for (service, span) in trace(t, &trace_id, &mut rng) {
            if written == spans {
                break;
            }
            pending.push((service, span));
            written += 1;
            if pending.len() == BATCH {
                file.append(&request(&mut pending))?;
            }
        }
    }
    if !pending.is_empty() {
        file.append(&request(&mut pending))?;
    }
    let hex = |id: &[u8]| {
        id.iter().fold(String::new(), |mut out, b| {
            let _ = std::fmt::Write::write_fmt(&mut out, format_args!("{b:02x}"));
            out
        })
    };
    println!(
        "wrote {written} spans in {traces} traces to {}",
        store.display()
    );
    println!("first  {}", hex(&ids[0]));
    println!("middle {}", hex(&ids[ids.len() / 2]));
    println!("last   {}", hex(&ids[ids.len() - 1]));
    Ok(())
}

/// xorshift64*: deterministic, no dependency.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

/// The 10 spans of trace `t`, each with the index of its service.
fn trace(t: usize, trace_id: &[u8], rng: &mut u64) -> Vec<(usize, Span)> {
    let start = EPOCH + t as u64 * 10 * MS;
    let failed = t % 50 == 7;
    let order = t % 100_000;
    let id = |rng: &mut u64| next(rng).to_be_bytes().to_vec();
    let (root, auth, get_orders, orders, q1, q2, cache, post, charge, render) = (
        id(rng),
        id(rng),
        id(rng),
        id(rng),
        id(rng),
        id(rng),
        id(rng),
        id(rng),
        id(rng),
        id(rng),
    );
    let span = |span_id: &Vec<u8>,
                parent: Option<&Vec<u8>>,
                name: &str,
                kind: span::SpanKind,
                from: u64,
                to: u64| Span {
        trace_id: trace_id.to_vec(),
        span_id: span_id.clone(),
        parent_span_id: parent.cloned().unwrap_or_default(),
        flags: 0x101,
        name: name.into(),
        kind: kind as i32,
        start_time_unix_nano: start + from,
        end_time_unix_nano: start + to,
        status: Some(Status::default()),
        ..Default::default()
    };
    use span::SpanKind::{Client, Internal, Server};
    let mut root_span = span(&root, None, "GET /api/orders/{id}", Server, 0, 48 * MS);
    root_span.attributes = vec![
        s("http.request.method", "GET"),
        s("url.path", &format!("/api/orders/{order}")),
        s("http.route", "/api/orders/{id}"),
        int("http.response.status_code", if failed { 502 } else { 200 }),
    ];
    let mut get = span(&get_orders, Some(&root), "GET", Client, 2 * MS, 20 * MS);
    get.attributes = vec![
        s("http.request.method", "GET"),
        s("url.full", &format!("http://orders:8080/orders/{order}")),
        int("http.response.status_code", 200),
    ];
    let mut orders_span = span(
        &orders,
        Some(&get_orders),
        "GET /orders/{id}",
        Server,
        3 * MS,
        19 * MS,
    );
    orders_span.attributes = vec![
        s("http.request.method", "GET"),
        s("http.route", "/orders/{id}"),
        int("http.response.status_code", 200),
    ];
    let query = |span_id: &Vec<u8>, table: &str, from: u64, to: u64| {
        let mut select = span(
            span_id,
            Some(&orders),
            &format!("SELECT {table}"),
            Client,
            from,
            to,
        );
        select.attributes = vec![
            s("db.system.name", "postgresql"),
            s(
                "db.query.text",
                &format!("SELECT * FROM {table} WHERE order_id = $1"),
            ),
            s("server.address", "db"),
        ];
        select
    };
    let select_orders = query(&q1, "orders", 4 * MS, 9 * MS);
    let select_items = query(&q2, "items", 9 * MS + MS / 2, 16 * MS);
    let cache_span = span(
        &cache,
        Some(&orders),
        "cache.get",
        Internal,
        16 * MS,
        17 * MS,
    );
    let mut post_span = span(&post, Some(&root), "POST", Client, 21 * MS, 44 * MS);
    post_span.attributes = vec![
        s("http.request.method", "POST"),
        s("url.full", "http://payments:8080/charge"),
        int("http.response.status_code", if failed { 402 } else { 200 }),
    ];
    let mut charge_span = span(
        &charge,
        Some(&post),
        "POST /charge",
        Server,
        22 * MS,
        43 * MS,
    );
    charge_span.attributes = vec![
        s("http.request.method", "POST"),
        s("http.route", "/charge"),
        int("payment.amount_cents", 2500 + (t % 1000) as i64),
    ];
    if failed {
        charge_span.status = Some(error_status("card declined"));
        charge_span.events = vec![event(
            start + 40 * MS,
            "exception",
            vec![
                s("exception.type", "CardDeclined"),
                s("exception.message", "card declined"),
            ],
        )];
    }
    vec![
        (0, root_span),
        (
            0,
            span(&auth, Some(&root), "auth.check", Internal, MS / 2, 2 * MS),
        ),
        (0, get),
        (1, orders_span),
        (1, select_orders),
        (1, select_items),
        (1, cache_span),
        (0, post_span),
        (2, charge_span),
        (
            0,
            span(&render, Some(&root), "render", Internal, 45 * MS, 47 * MS),
        ),
    ]
}

/// One request of the pending spans, grouped by service, as the exporter
/// groups a batch by resource.
fn request(pending: &mut Vec<(usize, Span)>) -> ExportTraceServiceRequest {
    let mut by_service: Vec<Vec<Span>> = vec![Vec::new(); SERVICES.len()];
    for (service, span) in pending.drain(..) {
        by_service[service].push(span);
    }
    ExportTraceServiceRequest {
        resource_spans: by_service
            .into_iter()
            .enumerate()
            .filter(|(_, spans)| !spans.is_empty())
            .map(|(service, spans)| ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![
                        s("service.name", SERVICES[service]),
                        s(
                            "service.instance.id",
                            "5f1c8d4e-9a0b-4c2d-8e7f-1a2b3c4d5e6f",
                        ),
                        s("host.name", "bench-host"),
                        int("process.pid", 4242),
                        s("telemetry.sdk.name", "opentelemetry"),
                        s("telemetry.sdk.language", "rust"),
                        s("telemetry.sdk.version", "0.33"),
                        s("telemetry.distro.name", "tracelink"),
                    ],
                    dropped_attributes_count: 0,
                    entity_refs: Vec::new(),
                }),
                scope_spans: vec![ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: "tracelink".into(),
                        version: "0.1.0".into(),
                        attributes: Vec::new(),
                        dropped_attributes_count: 0,
                    }),
                    spans,
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            })
            .collect(),
    }
}
