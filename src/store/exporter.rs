//! [`StoreExporter`]: the `file` exporter of every signal. Each batch the
//! export thread takes becomes one OTLP/JSON line in the local store, as
//! the OTLP request a collector would have received for it.

use std::future::ready;
use std::io;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::Resource;

use super::TraceFile;
use crate::export::{ExportFuture, Exporter};

/// A batch the store can take: spans (`trace/export/file.rs`), log
/// records (`logs/export/file.rs`).
pub(crate) trait StoreBatch: Send + 'static {
    /// Appends the batch, as its OTLP request with `resource`, as one line.
    fn append_to(
        self,
        store: &mut TraceFile,
        resource: &ResourceAttributesWithSchema,
    ) -> io::Result<()>;
}

/// Appends each batch to the store at one path.
#[derive(Debug)]
pub(crate) struct StoreExporter {
    store: Mutex<TraceFile>,
    resource: ResourceAttributesWithSchema,
}

impl StoreExporter {
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

impl<B: StoreBatch> Exporter<B> for StoreExporter {
    fn export(&self, batch: B) -> ExportFuture<'_> {
        let mut store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        let result = batch
            .append_to(&mut store, &self.resource)
            .map_err(|error| {
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
        let store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        format!("file {}", store.path().display())
    }
}
