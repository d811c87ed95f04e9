//! Log records over OTLP, through `opentelemetry-otlp` as `export/otlp.rs`
//! sets it up for every signal: the same TLS, headers, compression and
//! timeout rules as spans, with the logs' own variables first.

use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter};
use opentelemetry_sdk::Resource;

use super::sink::{pairs, LogRecords};
use crate::export::{ExportFuture, Exporter, Otlp};

crate::export::otlp_exporter!(opentelemetry_otlp::LogExporter, "log");

impl Exporter<LogRecords> for Otlp<opentelemetry_otlp::LogExporter> {
    fn export(&self, batch: LogRecords) -> ExportFuture<'_> {
        Box::pin(async move {
            let pairs = pairs(&batch);
            self.explain(LogExporter::export(&self.inner, LogBatch::new(&pairs)).await)
        })
    }

    fn shutdown(&mut self, timeout: Duration) -> OTelSdkResult {
        LogExporter::shutdown_with_timeout(&self.inner, timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        LogExporter::set_resource(&mut self.inner, resource);
    }

    fn describe(&self) -> String {
        Otlp::describe(self)
    }
}
