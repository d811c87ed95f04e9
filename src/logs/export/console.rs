//! The `console` exporter of log records: one readable line per record on
//! stderr, for development.
//!
//! ```text
//! 2026-11-21T09:30:00.123456Z  WARN shop::payment: card declined order.id=7  trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7
//! ```

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::SdkLogRecord;
use opentelemetry_sdk::Resource;

use super::sink::LogRecords;
use crate::export::{ExportFuture, Exporter};

/// Prints each record on stderr.
#[derive(Debug)]
pub(crate) struct Console;

/// One record's line.
pub(crate) fn render(record: &SdkLogRecord, out: &mut String) {
    if let Some(time) = record.timestamp() {
        crate::encode::time::rfc3339_micros(out, time);
    }
    let _ = write!(
        out,
        " {:>5} {}:",
        record.severity_text().unwrap_or_default(),
        record.target().map_or("", |target| target.as_ref())
    );
    if let Some(body) = record.body() {
        let _ = write!(out, " {}", Shown(body));
    }
    for (key, value) in record.attributes_iter() {
        let _ = write!(out, " {key}={}", Shown(value));
    }
    if let Some(context) = record.trace_context() {
        let _ = write!(out, "  trace {} span {}", context.trace_id, context.span_id);
    }
    out.push('\n');
}

/// A value as a person reads it: strings without quotes.
struct Shown<'a>(&'a opentelemetry::logs::AnyValue);

impl std::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use opentelemetry::logs::AnyValue;
        match self.0 {
            AnyValue::String(s) => f.write_str(s.as_str()),
            AnyValue::Int(i) => write!(f, "{i}"),
            AnyValue::Double(d) => write!(f, "{d}"),
            AnyValue::Boolean(b) => write!(f, "{b}"),
            other => write!(f, "{other:?}"),
        }
    }
}

impl Exporter<LogRecords> for Console {
    fn export(&self, batch: LogRecords) -> ExportFuture<'_> {
        let mut text = String::new();
        for record in batch.iter() {
            render(record, &mut text);
        }
        // A closed stderr must not fail the service: the lines are just gone.
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
        Box::pin(std::future::ready(Ok(())))
    }

    fn shutdown(&mut self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }

    fn set_resource(&mut self, _resource: &Resource) {}

    fn describe(&self) -> String {
        "console (stderr)".into()
    }
}
