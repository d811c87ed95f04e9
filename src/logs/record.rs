//! Log records over OTLP: every event that becomes a log line also becomes
//! one OpenTelemetry `LogRecord`, with the ids of the same span, queued for
//! the log export thread ([`Logs`], a [`Signal`] of `export/`).
//!
//! A record is built on the service's thread, as the SDK's own appender
//! builds it: the time, the severity by the specification's mapping of
//! `tracing` levels (TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17), the
//! message as the body, each field as an attribute of its own type, the
//! target (which the OTLP encoding makes the instrumentation scope), and
//! the span's trace id, span id and flags. Fields inline (up to five)
//! cost no allocation; each string (the message included) costs one.

use std::sync::Arc;
use std::time::SystemTime;

use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::{Key, SpanId, TraceFlags, TraceId};
use opentelemetry_sdk::logs::{SdkLogRecord, SdkLogger, SdkLoggerProvider};
use tracing::field::{Field, Visit};
use tracing::{Event, Level};

use super::export::{DynLogExporter, LogRecords};
use crate::context::SpanIds;
use crate::export::{BatchConfig, Names, Pipeline, Signal};

/// Log records, on their way to the log exporters.
#[derive(Debug, Default)]
pub(crate) struct Logs;

impl Signal for Logs {
    /// Boxed: the queue moves 8 bytes, not the record's 432, and its
    /// blocks stay small.
    type Item = Box<SdkLogRecord>;
    type Batch = LogRecords;
    type State = ();

    const NAMES: Names = Names {
        one: "log record",
        many: "log records",
        came: "logged",
        stats: "log_records",
        thread: "tracelink-logs",
        local_hint: "; is a Collector listening there? For local work without one, set \
                     OTEL_LOGS_EXPORTER=file and read them under their spans with \
                     `tracelink show TRACE_ID`",
    };

    fn name_of(record: &Box<SdkLogRecord>) -> &str {
        record.target().map_or("", |target| target.as_ref())
    }

    fn batch(&mut self, (): &(), records: Vec<Box<SdkLogRecord>>) -> LogRecords {
        Arc::new(records)
    }
}

/// Where the log layer sends its records: the pipeline, and a logger to
/// make records with (the SDK's only way to make one).
#[derive(Clone, Debug)]
pub(crate) struct Records {
    pipeline: Arc<Pipeline<Logs>>,
    logger: SdkLogger,
    /// Keeps the logger's provider, which has no processor of its own.
    _provider: Arc<SdkLoggerProvider>,
}

impl Records {
    /// Starts the log export thread with `exporters`; `None` without any.
    pub(crate) fn start(
        batch: &BatchConfig,
        exporters: Vec<Box<DynLogExporter>>,
        runtime: tokio::runtime::Runtime,
    ) -> std::io::Result<Option<Self>> {
        if exporters.is_empty() {
            runtime.shutdown_background();
            return Ok(None);
        }
        let pipeline = Pipeline::start(batch, Logs, exporters, runtime)?;
        let provider = SdkLoggerProvider::builder().build();
        let logger = provider.logger("tracelink");
        Ok(Some(Self {
            pipeline,
            logger,
            _provider: Arc::new(provider),
        }))
    }

    pub(crate) fn pipeline(&self) -> &Arc<Pipeline<Logs>> {
        &self.pipeline
    }

    /// Queues the record of `event`, logged at `time` in the span `ids`
    /// name; `extra` adds the fields the line adds (code location, thread).
    pub(crate) fn emit(
        &self,
        event: &Event<'_>,
        time: SystemTime,
        ids: Option<&SpanIds>,
        extra: impl FnOnce(&mut SdkLogRecord),
    ) {
        let meta = event.metadata();
        let mut record = Box::new(self.logger.create_log_record());
        record.set_timestamp(time);
        record.set_observed_timestamp(time);
        let (number, text) = severity(*meta.level());
        record.set_severity_number(number);
        record.set_severity_text(text);
        record.set_target(meta.target());
        event.record(&mut Attributes(&mut record));
        extra(&mut record);
        if let Some(ids) = ids {
            record.set_trace_context(
                TraceId::from(ids.trace_id()),
                SpanId::from(ids.span_id()),
                Some(TraceFlags::new(ids.flags())),
            );
        }
        self.pipeline.push(record);
    }
}

/// The specification's mapping of a `tracing` level
/// (<https://opentelemetry.io/docs/specs/otel/logs/data-model-appendix/>).
pub(crate) fn severity(level: Level) -> (Severity, &'static str) {
    match level {
        Level::TRACE => (Severity::Trace, "TRACE"),
        Level::DEBUG => (Severity::Debug, "DEBUG"),
        Level::INFO => (Severity::Info, "INFO"),
        Level::WARN => (Severity::Warn, "WARN"),
        Level::ERROR => (Severity::Error, "ERROR"),
    }
}

/// An event's fields as a record's body (`message`) and attributes, each
/// of its own type.
struct Attributes<'a>(&'a mut SdkLogRecord);

impl Attributes<'_> {
    fn add(&mut self, field: &Field, value: AnyValue) {
        let name = field.name();
        // tracing-opentelemetry's instructions to the span, and `log`
        // crate metadata, as on the line.
        if name.starts_with("otel.") || name.starts_with("log.") {
            return;
        }
        if name == "message" {
            self.0.set_body(value);
        } else {
            self.0.add_attribute(Key::from_static_str(name), value);
        }
    }
}

impl Visit for Attributes<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.add(field, AnyValue::Double(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.add(field, AnyValue::Int(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        // OTLP's ints are signed: a larger one goes as its decimal text.
        match i64::try_from(value) {
            Ok(value) => self.add(field, AnyValue::Int(value)),
            Err(_) => self.add(field, AnyValue::String(value.to_string().into())),
        }
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        match i64::try_from(value) {
            Ok(value) => self.add(field, AnyValue::Int(value)),
            Err(_) => self.add(field, AnyValue::String(value.to_string().into())),
        }
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        match i64::try_from(value) {
            Ok(value) => self.add(field, AnyValue::Int(value)),
            Err(_) => self.add(field, AnyValue::String(value.to_string().into())),
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.add(field, AnyValue::Boolean(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.add(field, AnyValue::String(value.to_owned().into()));
    }

    fn record_bytes(&mut self, field: &Field, value: &[u8]) {
        self.add(field, AnyValue::Bytes(Box::new(value.to_vec())));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let mut text = value.to_string();
        let mut source = value.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        self.add(field, AnyValue::String(text.into()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.add(field, AnyValue::String(format!("{value:?}").into()));
    }
}
