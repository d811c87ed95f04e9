//! The `file` exporter of spans: each batch becomes one OTLP/JSON line in
//! the local trace store (see [`crate::store`]).
//!
//! Spans are grouped and converted by opentelemetry-proto's `transform`
//! module, the code the OTLP exporter sends with, so a line holds exactly
//! the request a collector would have received for that batch.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::trace::SpanData;

use crate::store::{StoreBatch, TraceFile};

impl StoreBatch for Vec<SpanData> {
    fn append_to(
        self,
        store: &mut TraceFile,
        resource: &ResourceAttributesWithSchema,
    ) -> std::io::Result<()> {
        store.append(&ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(self, resource),
        })
    }
}
