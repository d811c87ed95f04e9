//! The `file` exporter: each batch the export thread takes becomes one
//! OTLP/JSON line in the local trace store (see [`crate::store`]).
//!
//! Spans are grouped and converted by opentelemetry-proto's `transform`
//! module, the code the OTLP exporter sends with, so a line holds exactly
//! the request a collector would have received for that batch.

use std::future::ready;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_sdk::Resource;

use crate::export::{ExportFuture, Exporter};
use crate::store::TraceFile;

#[derive(Debug)]
pub(crate) struct FileExporter {
    store: Mutex<TraceFile>,
    resource: ResourceAttributesWithSchema,
}

impl FileExporter {
    /// An exporter to the store at `path`. The file is opened now if it can
    /// be; if not, tracelink warns, and each export tries again.
    pub(crate) fn new(path: PathBuf, max_bytes: u64) -> Self {
        let store = match TraceFile::open(&path, max_bytes) {
            Ok(store) => store,
            Err(error) => {
                crate::diag::diag!(
                    Warn,
                    "cannot open the trace file {}: {error}; trying again at each export",
                    path.display()
                );
                TraceFile::lazy(path, max_bytes)
            }
        };
        Self {
            store: Mutex::new(store),
            resource: ResourceAttributesWithSchema::default(),
        }
    }
}

impl Exporter<Vec<SpanData>> for FileExporter {
    fn export(&self, batch: Vec<SpanData>) -> ExportFuture<'_> {
        let request = ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(batch, &self.resource),
        };
        let mut store = self
            .store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let result = store.append(&request).map_err(|error| {
            OTelSdkError::InternalFailure(format!(
                "cannot write to {}: {error}",
                store.path().display()
            ))
        });
        Box::pin(ready(result))
    }

    fn shutdown(&mut self, _timeout: Duration) -> OTelSdkResult {
        // Every line is in the file once `append` returns: nothing to flush.
        Ok(())
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = resource.into();
    }

    fn describe(&self) -> String {
        let store = self
            .store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        format!("file {}", store.path().display())
    }
}
