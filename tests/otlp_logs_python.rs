//! Log records over OTLP as a receiver nobody here wrote decodes them:
//! Python's official `opentelemetry-proto` messages behind `grpcio` and
//! `http.server` (tests/tools/otlp_receiver.py through
//! [`support::PyReceiver`], run with the venv of
//! `scripts/install-test-deps.sh`), over gRPC and HTTP/protobuf, gzip or
//! not. The workload and its checks are the Rust receiver's too
//! ([`support::workloads::check_log_records`]): every record names a span
//! the same receiver got (nested, in a task that moves between the threads
//! of a multi-thread runtime, under a remote parent, with an explicit
//! parent), with the ids of its JSON line; a record outside spans names
//! none; one under an unsampled remote parent keeps its ids with flags 0 and
//! its span is not exported. Severity numbers and texts, body, attribute
//! types (compared as protobuf values, not text), the scope (the workload's
//! target) and the resource are as tracelink sent them.

mod support;

use support::workloads::check_log_records;
use support::{PyReceiver, Transport};

/// Runs the workload against a fresh Python receiver and checks everything
/// it decoded.
fn check(protocol: &str, compression: &str, transport: Transport) {
    let python = PyReceiver::start();
    // grpcio decompresses before the handler sees the request.
    let gzip = transport == Transport::Http && compression == "gzip";
    check_log_records(&python, protocol, compression, transport, gzip);
}

#[test]
fn python_decodes_records_naming_their_spans_over_grpc() {
    check("grpc", "none", Transport::Grpc);
}

#[test]
fn python_decodes_records_naming_their_spans_over_grpc_gzip() {
    check("grpc", "gzip", Transport::Grpc);
}

#[test]
fn python_decodes_records_naming_their_spans_over_http() {
    check("http/protobuf", "none", Transport::Http);
}

#[test]
fn python_decodes_records_naming_their_spans_over_http_gzip() {
    check("http/protobuf", "gzip", Transport::Http);
}
