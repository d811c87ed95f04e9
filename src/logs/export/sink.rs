//! Every SDK [`LogExporter`] as the export thread's [`Exporter`] of log
//! record batches, beside OTLP, the console and the local store.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter, SdkLogRecord};
use opentelemetry_sdk::Resource;

use crate::export::{ExportFuture, Exporter};

/// A batch of log records, shared by every exporter it goes to.
pub(crate) type LogRecords = Arc<Vec<Box<SdkLogRecord>>>;

/// What the log export thread holds: any exporter of log record batches.
pub(crate) type DynLogExporter = dyn Exporter<LogRecords>;

/// The scope every record is made under. The OTLP encoding names each
/// record's scope after its target instead (`shop::cart`), so this one
/// carries no version: it would be tracelink's, not the target's.
static SCOPE: LazyLock<InstrumentationScope> =
    LazyLock::new(|| InstrumentationScope::builder("tracelink").build());

/// `records`, each with the scope, as the SDK's [`LogBatch`] borrows them.
pub(super) fn pairs(records: &[Box<SdkLogRecord>]) -> Vec<(&SdkLogRecord, &InstrumentationScope)> {
    let scope = &*SCOPE;
    records.iter().map(|record| (&**record, scope)).collect()
}

impl<E: LogExporter + 'static> Exporter<LogRecords> for E {
    fn export(&self, batch: LogRecords) -> ExportFuture<'_> {
        Box::pin(async move {
            let pairs = pairs(&batch);
            LogExporter::export(self, LogBatch::new(&pairs)).await
        })
    }

    fn shutdown(&mut self, timeout: Duration) -> OTelSdkResult {
        LogExporter::shutdown_with_timeout(self, timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        LogExporter::set_resource(self, resource);
    }

    fn describe(&self) -> String {
        crate::export::type_name::<E>()
    }
}
