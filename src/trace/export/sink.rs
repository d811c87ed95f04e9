//! The one shape every exporter takes for the export thread: an object-safe
//! [`SpanExporter`], so OTLP, the console, the local file and the service's
//! own exporters sit in one list.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

pub(crate) type ExportFuture<'a> = Pin<Box<dyn Future<Output = OTelSdkResult> + Send + 'a>>;

/// An object-safe [`SpanExporter`].
pub(crate) trait DynExporter: Send + Sync + std::fmt::Debug {
    fn export(&self, batch: Vec<SpanData>) -> ExportFuture<'_>;
    fn shutdown(&mut self, timeout: Duration) -> OTelSdkResult;
    fn set_resource(&mut self, resource: &Resource);
    /// Names the exporter in diagnostics.
    fn describe(&self) -> String;
}

impl<E: SpanExporter + 'static> DynExporter for E {
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
        let name = std::any::type_name::<E>();
        name.rsplit("::").next().unwrap_or(name).to_owned()
    }
}
