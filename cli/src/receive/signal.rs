//! The signals `tracelink receive` takes, traces and logs, and what tells
//! them apart: where they arrive (the gRPC method, the HTTP path), how
//! their messages are named, and how a line of each goes into the store.
//!
//! Their requests have one shape, field numbers included: a request holds
//! resources (field 1); a resource its `Resource` (1), its scopes (2) and a
//! schema (3); a scope its `InstrumentationScope` (1), its items (2, spans
//! or log records) and a schema (3). So [`split`](super::split) walks
//! either with one piece of code, generic over [`Signal`], and the
//! handlers serve either by its [`Kind`].

use std::io;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use tracelink::store::TraceFile;

/// A signal, as a request arrives: by its gRPC method or HTTP path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `ExportTraceServiceRequest`s: spans.
    Traces,
    /// `ExportLogsServiceRequest`s: log records.
    Logs,
}

impl Kind {
    /// Every signal, in the order help and errors name them.
    pub(crate) const ALL: [Kind; 2] = [Kind::Traces, Kind::Logs];

    /// The gRPC method that takes it.
    pub(crate) fn grpc_path(self) -> &'static str {
        match self {
            Kind::Traces => "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            Kind::Logs => "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
        }
    }

    /// The OTLP/HTTP path that takes it.
    pub(crate) fn http_path(self) -> &'static str {
        match self {
            Kind::Traces => "/v1/traces",
            Kind::Logs => "/v1/logs",
        }
    }

    /// The signal of a gRPC method, if it is one served.
    pub(crate) fn of_grpc_path(path: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.grpc_path() == path)
    }

    /// The signal of an HTTP path, if it is one served.
    pub(crate) fn of_http_path(path: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.http_path() == path)
    }

    /// The request's message name, for errors.
    pub(crate) fn request_name(self) -> &'static str {
        match self {
            Kind::Traces => Traces::NAMES.request,
            Kind::Logs => Logs::NAMES.request,
        }
    }

    /// What its items are called: `span`, `log record`.
    pub(crate) fn item_name(self) -> &'static str {
        match self {
            Kind::Traces => "span",
            Kind::Logs => "log record",
        }
    }
}

/// The names of a signal's messages and fields, as prost writes them in
/// its errors (`ExportTraceServiceRequest.resource_spans`).
#[derive(Debug)]
pub(crate) struct Names {
    pub(crate) request: &'static str,
    pub(crate) resources: &'static str,
    pub(crate) resource: &'static str,
    pub(crate) scopes: &'static str,
    pub(crate) scope: &'static str,
    pub(crate) items: &'static str,
}

/// A resource of a request being built: its resource, schema and scopes.
#[derive(Debug)]
pub(crate) struct Resourced<I> {
    pub(crate) resource: Option<Resource>,
    pub(crate) schema_url: String,
    pub(crate) scopes: Vec<Scoped<I>>,
}

/// A scope of a request being built: its scope, schema and items.
#[derive(Debug)]
pub(crate) struct Scoped<I> {
    pub(crate) scope: Option<InstrumentationScope>,
    pub(crate) schema_url: String,
    pub(crate) items: Vec<I>,
}

/// One signal's request, built from its pieces and written to the store.
pub(crate) trait Signal {
    /// A span, a log record.
    type Item: prost::Message + Default;
    /// The request a store line holds.
    type Request;
    /// Its names, for errors.
    const NAMES: Names;

    /// The request of `resources`.
    fn request(resources: Vec<Resourced<Self::Item>>) -> Self::Request;

    /// Appends `request` to the store, as one line.
    fn append(file: &mut TraceFile, request: &Self::Request) -> io::Result<()>;
}

/// Spans.
#[derive(Debug)]
pub(crate) struct Traces;

/// Log records.
#[derive(Debug)]
pub(crate) struct Logs;

impl Signal for Traces {
    type Item = Span;
    type Request = ExportTraceServiceRequest;
    const NAMES: Names = Names {
        request: "ExportTraceServiceRequest",
        resources: "resource_spans",
        resource: "ResourceSpans",
        scopes: "scope_spans",
        scope: "ScopeSpans",
        items: "spans",
    };

    fn request(resources: Vec<Resourced<Span>>) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: resources
                .into_iter()
                .map(|r| ResourceSpans {
                    resource: r.resource,
                    scope_spans: r
                        .scopes
                        .into_iter()
                        .map(|s| ScopeSpans {
                            scope: s.scope,
                            spans: s.items,
                            schema_url: s.schema_url,
                        })
                        .collect(),
                    schema_url: r.schema_url,
                })
                .collect(),
        }
    }

    fn append(file: &mut TraceFile, request: &ExportTraceServiceRequest) -> io::Result<()> {
        file.append(request)
    }
}

impl Signal for Logs {
    type Item = LogRecord;
    type Request = ExportLogsServiceRequest;
    const NAMES: Names = Names {
        request: "ExportLogsServiceRequest",
        resources: "resource_logs",
        resource: "ResourceLogs",
        scopes: "scope_logs",
        scope: "ScopeLogs",
        items: "log_records",
    };

    fn request(resources: Vec<Resourced<LogRecord>>) -> ExportLogsServiceRequest {
        ExportLogsServiceRequest {
            resource_logs: resources
                .into_iter()
                .map(|r| ResourceLogs {
                    resource: r.resource,
                    scope_logs: r
                        .scopes
                        .into_iter()
                        .map(|s| ScopeLogs {
                            scope: s.scope,
                            log_records: s.items,
                            schema_url: s.schema_url,
                        })
                        .collect(),
                    schema_url: r.schema_url,
                })
                .collect(),
        }
    }

    fn append(file: &mut TraceFile, request: &ExportLogsServiceRequest) -> io::Result<()> {
        file.append_logs(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_signal_by_its_path() {
        for kind in Kind::ALL {
            assert_eq!(Kind::of_grpc_path(kind.grpc_path()), Some(kind));
            assert_eq!(Kind::of_http_path(kind.http_path()), Some(kind));
        }
        assert_eq!(Kind::of_http_path("/v1/metrics"), None);
        assert_eq!(Kind::of_http_path("/v1/logs/"), None);
        assert_eq!(
            Kind::of_grpc_path("/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"),
            None
        );
    }
}
