//! The `file` exporter of log records: each batch becomes one OTLP/JSON
//! `resourceLogs` line in the local store, beside the spans' lines (see
//! [`crate::store`]), converted by opentelemetry-proto's `transform` code
//! as the OTLP exporter sends it.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::logs::tonic::group_logs_by_resource_and_scope;
use opentelemetry_sdk::logs::LogBatch;

use super::sink::{pairs, LogRecords};
use crate::store::{StoreBatch, TraceFile};

impl StoreBatch for LogRecords {
    fn append_to(
        self,
        store: &mut TraceFile,
        resource: &ResourceAttributesWithSchema,
    ) -> std::io::Result<()> {
        let pairs = pairs(&self);
        store.append_logs(&ExportLogsServiceRequest {
            resource_logs: group_logs_by_resource_and_scope(&LogBatch::new(&pairs), resource),
        })
    }
}
