//! Every SDK [`SpanExporter`] as the export thread's [`Exporter`] of span
//! batches, so OTLP, the console, the local file and the service's own
//! exporters sit in one list.

use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use crate::export::{ExportFuture, Exporter};

/// What the span export thread holds: any exporter of span batches.
pub(crate) type DynExporter = dyn Exporter<Vec<SpanData>>;

impl<E: SpanExporter + 'static> Exporter<Vec<SpanData>> for E {
    fn export(&self, batch: Vec<SpanData>) -> ExportFuture<'_> {
        Box::pin(SpanExporter::export(self, batch))
    }

    fn shutdown(&mut self, timeout: Duration) -> OTelSdkResult {
        SpanExporter::shutdown_with_timeout(self, timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        SpanExporter::set_resource(self, resource);
    }

    fn describe(&self) -> String {
        crate::export::type_name::<E>()
    }
}
