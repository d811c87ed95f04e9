//! Spans over OTLP, through `opentelemetry-otlp` as `export/otlp.rs` sets
//! it up for every signal.

use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use crate::export::{ExportFuture, Exporter, Otlp};

crate::export::otlp_exporter!(opentelemetry_otlp::SpanExporter, "span");

impl Exporter<Vec<SpanData>> for Otlp<opentelemetry_otlp::SpanExporter> {
    fn export(&self, batch: Vec<SpanData>) -> ExportFuture<'_> {
        Box::pin(async move { self.explain(SpanExporter::export(&self.inner, batch).await) })
    }

    fn shutdown(&mut self, timeout: Duration) -> OTelSdkResult {
        SpanExporter::shutdown_with_timeout(&self.inner, timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        SpanExporter::set_resource(&mut self.inner, resource);
    }

    fn describe(&self) -> String {
        Otlp::describe(self)
    }
}
