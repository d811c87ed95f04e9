//! [`LogLayer`]: one JSON line per event.

use std::any::TypeId;
use std::cell::RefCell;
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use tracing::dispatcher::WeakDispatch;
use tracing::span::{Attributes, Id, Record};
use tracing::{Dispatch, Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::{LookupSpan, SpanRef};
use tracing_subscriber::Layer;

use super::json::{self, FieldWriter, Segments};
use super::record::Records;
use super::{LogStats, LogStyle, LogWriter};
use crate::context::{span_ids, OtelLayerMark, SpanIds, StackKey};

/// The ECS version the `ecs` style writes.
const ECS_VERSION: &str = "8.11.0";

/// A span's fields, each rendered once as `,"name":value`; every line in the
/// span copies their concatenation.
struct SpanFields(Segments);

/// Span field names the span object itself uses.
const SPAN_RESERVED: &[&str] = &["name"];

/// Writes one JSON line per `tracing` event, with the ids of the span it
/// happened in.
///
/// `tracelink::init()` installs it; [`Parts::log_layer`](crate::Parts::log_layer)
/// gives it to you to compose your own subscriber.
///
/// ```text
/// {"timestamp":"2026-11-21T09:30:00.123456Z","level":"INFO","target":"shop",
///  "message":"order placed","order.id":42,"span":{"name":"checkout","user":"ada"},
///  "trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","trace_flags":"03"}
/// ```
///
/// Outside any span a line has no id fields.
#[derive(Clone, Debug)]
pub struct LogLayer {
    writer: LogWriter,
    style: LogStyle,
    gcp_project: Arc<str>,
    service_name: Option<Arc<str>>,
    span_list: bool,
    code_location: bool,
    thread: bool,
    clock: fn() -> SystemTime,
    /// The subscriber this layer is part of, to ask `tracing-opentelemetry`
    /// for span contexts.
    dispatch: OnceLock<WeakDispatch>,
    /// The key under which the OpenTelemetry layer of the same subscriber
    /// notes the spans it enters, learned with the dispatcher.
    stack: OnceLock<Option<StackKey>>,
    /// Off for `TRACELINK_LOG_FORMAT=none`: the layer stays in the stack (an
    /// `Option` layer would not learn its dispatcher) and does nothing.
    enabled: bool,
    /// The log filter (`RUST_LOG`), when it differs from the span filter:
    /// the subscriber's filter then lets through events that only become
    /// span events, and this layer writes no line for them (`filter.rs`).
    events: Option<Arc<crate::filter::Directives>>,
    /// Whether registering with a subscriber without tracelink's
    /// OpenTelemetry layer panics (see `with_otel_layer_required`).
    require_otel: bool,
    /// Human-readable lines instead of JSON (`TRACELINK_LOG_FORMAT=pretty`),
    /// and whether to colour them.
    pretty: Option<Colour>,
    /// Where each event's OpenTelemetry log record goes, when
    /// `OTEL_LOGS_EXPORTER` names any exporter.
    records: Option<Records>,
}

/// Whether pretty lines are coloured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Colour(bool);

thread_local! {
    static LINE: RefCell<String> = RefCell::new(String::with_capacity(512));
    static THREAD_ID: u64 = thread_id();
}

fn thread_id() -> u64 {
    // `ThreadId::as_u64` is unstable; its Debug form is `ThreadId(N)`.
    let debug = format!("{:?}", std::thread::current().id());
    debug
        .trim_start_matches("ThreadId(")
        .trim_end_matches(')')
        .parse()
        .unwrap_or(0)
}

impl LogLayer {
    /// A layer writing `style` lines to `writer`.
    pub fn new(writer: LogWriter, style: LogStyle) -> Self {
        Self {
            writer,
            style,
            gcp_project: Arc::from("unknown"),
            service_name: None,
            span_list: false,
            code_location: false,
            thread: false,
            clock: SystemTime::now,
            dispatch: OnceLock::new(),
            stack: OnceLock::new(),
            enabled: true,
            events: None,
            require_otel: true,
            pretty: None,
            records: None,
        }
    }

    /// Also makes an OpenTelemetry log record of every event it writes a
    /// line for (or would, when lines are off), for the log pipeline.
    pub(crate) fn with_records(mut self, records: Option<Records>) -> Self {
        self.records = records;
        self
    }

    /// Whether it does anything: lines, records, or both.
    fn is_active(&self) -> bool {
        self.enabled || self.records.is_some()
    }

    /// Writes lines only for the events `filter` enables; `None`: for every
    /// event the subscriber's filter lets through.
    pub(crate) fn with_event_filter(
        mut self,
        filter: Option<Arc<crate::filter::Directives>>,
    ) -> Self {
        self.events = filter;
        self
    }

    /// Writes human-readable lines for a developer at a terminal instead of
    /// JSON: time of day, level, target, message, fields, the span with its
    /// fields and the first 8 hex digits of the trace id, coloured with ANSI
    /// escapes if `colour`. The log style and the span list do not apply.
    /// Defaults to JSON. `TRACELINK_LOG_FORMAT=pretty` turns it on, coloured
    /// when the output is a terminal and `NO_COLOR` is not set.
    ///
    /// ```text
    /// 09:30:00.123456Z  INFO shop: payment captured amount_cents=2500 in charge{order_id=1} trace=8078c29a
    /// ```
    ///
    /// ```
    /// use tracelink::{logs::LogLayer, logs::LogStyle, logs::LogWriter};
    ///
    /// let layer = LogLayer::new(LogWriter::stderr(), LogStyle::Otel).with_pretty(false);
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn with_pretty(mut self, colour: bool) -> Self {
        self.pretty = Some(Colour(colour));
        self
    }

    /// Whether the subscriber must hold tracelink's OpenTelemetry layer
    /// ([`Parts::otel_layer`](crate::Parts::otel_layer), or
    /// [`Parts::layer`](crate::Parts::layer) for the whole stack). The ids
    /// on each line are those that layer noted for the span; without it, no
    /// line carries any, and nothing would say so. So by default adding this
    /// layer to a subscriber that does not hold that one under it panics, with
    /// a message saying what to add. Turn it off for a subscriber that writes
    /// lines without trace ids on purpose, or that takes them from
    /// `tracing-opentelemetry`'s own layer.
    ///
    /// Defaults to `true`.
    ///
    /// ```
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// # fn main() -> Result<(), tracelink::Error> {
    /// let parts = tracelink::builder()
    ///     .with_env([("OTEL_TRACES_EXPORTER", "none")])
    ///     .build()?;
    /// // Lines without ids, on purpose.
    /// let logs_only = tracing_subscriber::registry()
    ///     .with(parts.log_layer().with_otel_layer_required(false));
    /// let _dispatch = tracing::Dispatch::new(logs_only);
    /// # Ok(()) }
    /// ```
    ///
    /// ```should_panic
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// let parts = tracelink::builder()
    ///     .with_env([("OTEL_TRACES_EXPORTER", "none")])
    ///     .build()
    ///     .unwrap();
    /// // Panics: the lines would carry no ids.
    /// let _subscriber = tracing_subscriber::registry().with(parts.log_layer());
    /// ```
    #[must_use]
    pub fn with_otel_layer_required(mut self, required: bool) -> Self {
        // (`Parts::layer` turns it off: it puts both in place itself.)
        self.require_otel = required;
        self
    }

    /// Lists every span from the root to the event's, each with its fields,
    /// under `spans`. Defaults to `false` (only the current span, under `span`).
    #[must_use]
    pub fn with_span_list(mut self, on: bool) -> Self {
        self.span_list = on;
        self
    }

    /// Adds `code.file.path` and `code.line.number`. Defaults to `false`.
    #[must_use]
    pub fn with_code_location(mut self, on: bool) -> Self {
        self.code_location = on;
        self
    }

    /// Adds `thread.name` and `thread.id`. Defaults to `false`.
    #[must_use]
    pub fn with_thread(mut self, on: bool) -> Self {
        self.thread = on;
        self
    }

    /// Adds `service.name` to each line. Defaults to none.
    #[must_use]
    pub fn with_service_name(mut self, name: Option<&str>) -> Self {
        self.service_name = name.map(Arc::from);
        self
    }

    /// The Google Cloud project in `logging.googleapis.com/trace`, for the
    /// `gcp` style. Defaults to `unknown`.
    #[must_use]
    pub fn with_gcp_project(mut self, project: &str) -> Self {
        self.gcp_project = Arc::from(project);
        self
    }

    /// Takes the time from `clock`, for tests. Defaults to `SystemTime::now`.
    #[must_use]
    pub fn with_clock(mut self, clock: fn() -> SystemTime) -> Self {
        self.clock = clock;
        self
    }

    /// Turns the layer on or off; off, it writes nothing and costs nothing.
    /// Defaults to `true`.
    #[must_use]
    pub fn with_enabled(mut self, on: bool) -> Self {
        self.enabled = on;
        self
    }

    /// Lines the writer refused (a closed pipe, a full disk), or that the
    /// non-blocking writer could not write by the shutdown deadline.
    pub fn write_errors(&self) -> u64 {
        self.writer.counts().stats().failed()
    }

    /// What happened to this layer's lines so far.
    pub fn stats(&self) -> LogStats {
        self.writer.counts().stats()
    }

    pub(crate) fn line_counts(&self) -> &Arc<super::writer::LineCounts> {
        self.writer.counts()
    }

    /// Writes the JSON line; returns the ids it carries.
    fn format<S>(
        &self,
        event: &Event<'_>,
        ctx: &Context<'_, S>,
        time: SystemTime,
        out: &mut String,
    ) -> Option<SpanIds>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let meta = event.metadata();
        let style = self.style;
        out.push('{');
        json::static_key(out, style.time_key());
        out.push('"');
        crate::encode::time::rfc3339_micros(out, time);
        out.push_str("\",");
        json::static_key(out, style.level_key());
        out.push('"');
        out.push_str(style.level(*meta.level()));
        out.push('"');
        out.push(',');
        json::static_key(out, style.target_key());
        json::string(out, meta.target());
        if style == LogStyle::Ecs {
            out.push_str(",\"ecs.version\":\"");
            out.push_str(ECS_VERSION);
            out.push('"');
        }
        event.record(&mut FieldWriter {
            out,
            message_key: Some("message"),
            reserved: style.reserved(),
        });
        if self.code_location {
            if let Some(file) = meta.file() {
                out.push_str(",\"code.file.path\":");
                json::string(out, file);
            }
            if let Some(line) = meta.line() {
                out.push_str(",\"code.line.number\":");
                out.push_str(itoa::Buffer::new().format(line));
            }
        }
        if self.thread {
            if let Some(name) = std::thread::current().name() {
                out.push_str(",\"thread.name\":");
                json::string(out, name);
            }
            out.push_str(",\"thread.id\":");
            out.push_str(itoa::Buffer::new().format(THREAD_ID.with(|id| *id)));
        }
        if let Some(service) = &self.service_name {
            out.push_str(",\"service.name\":");
            json::string(out, service);
        }
        let ids = Self::event_span(event, ctx).and_then(|span| self.write_span_part(&span, out));
        out.push_str("}\n");
        ids
    }

    /// The human-readable line (`pretty.rs`); returns the ids it names.
    fn format_pretty<S>(
        &self,
        event: &Event<'_>,
        ctx: &Context<'_, S>,
        time: SystemTime,
        out: &mut String,
        colour: bool,
    ) -> Option<SpanIds>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let meta = event.metadata();
        super::pretty::head(out, time, *meta.level(), meta.target(), colour);
        event.record(&mut super::pretty::Fields { out, colour });
        let mut written = None;
        if let Some(span) = Self::event_span(event, ctx) {
            let cached = {
                let extensions = span.extensions();
                super::pretty::span(
                    out,
                    span.name(),
                    extensions.get::<SpanFields>().map(|f| &f.0),
                    colour,
                );
                extensions.get::<SpanIds>().copied()
            };
            if let Some(ids) = self.ids(&span, cached) {
                super::pretty::trace(out, &ids, colour);
                written = Some(ids);
            }
        }
        out.push('\n');
        written
    }

    /// The ids of the span `event` happened in, without writing a line.
    fn event_ids<S>(&self, event: &Event<'_>, ctx: &Context<'_, S>) -> Option<SpanIds>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let span = Self::event_span(event, ctx)?;
        let cached = span.extensions().get::<SpanIds>().copied();
        self.ids(&span, cached)
    }

    /// What a record adds beside the event's own fields, as the line does.
    fn record_extras(&self, event: &Event<'_>, record: &mut opentelemetry_sdk::logs::SdkLogRecord) {
        use opentelemetry::logs::{AnyValue, LogRecord as _};
        let meta = event.metadata();
        if self.code_location {
            if let Some(file) = meta.file() {
                record.add_attribute("code.file.path", AnyValue::String(file.into()));
            }
            if let Some(line) = meta.line() {
                record.add_attribute("code.line.number", AnyValue::Int(i64::from(line)));
            }
        }
        if self.thread {
            if let Some(name) = std::thread::current().name() {
                record.add_attribute("thread.name", AnyValue::String(name.to_owned().into()));
            }
            let id = THREAD_ID.with(|id| *id);
            record.add_attribute("thread.id", AnyValue::Int(id as i64));
        }
    }

    /// The span an event happened in: its explicit parent, or the current one.
    fn event_span<'a, S>(event: &Event<'_>, ctx: &'a Context<'_, S>) -> Option<SpanRef<'a, S>>
    where
        S: Subscriber + for<'b> LookupSpan<'b>,
    {
        match event.parent() {
            Some(id) => ctx.span(id),
            None if event.is_contextual() => ctx.lookup_current(),
            None => None,
        }
    }

    /// Writes the span object and ids; returns the ids.
    fn write_span_part<S>(&self, span: &SpanRef<'_, S>, out: &mut String) -> Option<SpanIds>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let cached = self.write_spans(span, out);
        let ids = self.ids(span, cached)?;
        self.write_ids(&ids, out);
        Some(ids)
    }

    /// The ids of the span as exported: those the OpenTelemetry layer noted
    /// when it entered the span on this thread, else the span's cached ids,
    /// else asked of `tracing-opentelemetry`.
    fn ids<S>(&self, span: &SpanRef<'_, S>, cached: Option<SpanIds>) -> Option<SpanIds>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let innermost = self
            .stack
            .get()
            .copied()
            .flatten()
            .and_then(|stack| crate::context::innermost(stack, &span.id()));
        match innermost {
            Some(ids) => ids,
            None => cached
                .or_else(|| span_ids(span, || self.dispatch.get().and_then(WeakDispatch::upgrade))),
        }
    }

    fn write_span<S>(span: &SpanRef<'_, S>, out: &mut String) -> Option<SpanIds>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        out.push_str("{\"name\":");
        json::string(out, span.name());
        let extensions = span.extensions();
        if let Some(fields) = extensions.get::<SpanFields>() {
            out.push_str(fields.0.text());
        }
        out.push('}');
        extensions.get::<SpanIds>().copied()
    }

    /// Writes the span object (and list); returns the span's cached ids.
    fn write_spans<S>(&self, span: &SpanRef<'_, S>, out: &mut String) -> Option<SpanIds>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        out.push(',');
        json::static_key(out, self.style.span_key());
        let cached = Self::write_span(span, out);
        if self.span_list {
            out.push(',');
            json::static_key(out, self.style.spans_key());
            out.push('[');
            for (i, ancestor) in span.scope().from_root().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                Self::write_span(&ancestor, out);
            }
            out.push(']');
        }
        cached
    }

    fn write_ids(&self, ids: &SpanIds, out: &mut String) {
        match self.style {
            LogStyle::Otel => {
                out.push_str(",\"trace_id\":\"");
                out.push_str(ids.trace_id_hex());
                out.push_str("\",\"span_id\":\"");
                out.push_str(ids.span_id_hex());
                // The W3C flags as sent on the wire: `01` sampled, `03`
                // sampled with the Level 2 random-trace-id bit.
                out.push_str("\",\"trace_flags\":\"");
                out.push_str(ids.flags_hex());
                out.push('"');
            }
            LogStyle::Ecs => {
                out.push_str(",\"trace.id\":\"");
                out.push_str(ids.trace_id_hex());
                out.push_str("\",\"span.id\":\"");
                out.push_str(ids.span_id_hex());
                out.push('"');
            }
            LogStyle::Gcp => {
                out.push_str(",\"logging.googleapis.com/trace\":\"projects/");
                json::escape_into(out, &self.gcp_project);
                out.push_str("/traces/");
                out.push_str(ids.trace_id_hex());
                out.push_str("\",\"logging.googleapis.com/spanId\":\"");
                out.push_str(ids.span_id_hex());
                out.push_str("\",\"logging.googleapis.com/trace_sampled\":");
                out.push_str(if ids.is_sampled() { "true" } else { "false" });
            }
            LogStyle::Datadog => {
                out.push_str(",\"dd.trace_id\":\"");
                out.push_str(itoa::Buffer::new().format(ids.trace_id() as u64));
                out.push_str("\",\"dd.span_id\":\"");
                out.push_str(itoa::Buffer::new().format(ids.span_id()));
                out.push('"');
            }
        }
    }
}

impl<S> Layer<S> for LogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_layer(&mut self, subscriber: &mut S) {
        if !self.is_active() || !self.require_otel {
            return;
        }
        // Here, as the layer is added, and not when the dispatcher is made:
        // tracing-core holds its registry lock then, and a panic would
        // poison it for the whole process.
        // SAFETY: only asks whether the subscriber answers to the type; the
        // pointer is never dereferenced.
        #[allow(unsafe_code)]
        let has_otel = unsafe { subscriber.downcast_raw(TypeId::of::<OtelLayerMark>()) }.is_some();
        assert!(
            has_otel,
            "tracelink's LogLayer is in a subscriber without tracelink's OpenTelemetry \
             layer under it, so no log line would carry a trace id: compose with \
             Parts::layer() (filter, OpenTelemetry layer and log layer, in order), or \
             add Parts::otel_layer() to the same subscriber before Parts::log_layer(); \
             for lines without ids on purpose, use \
             parts.log_layer().with_otel_layer_required(false)"
        );
    }

    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        let _ = self.dispatch.set(subscriber.downgrade());
        // The key the OpenTelemetry layer of this subscriber notes entered
        // spans under, if it has one.
        let _ = self
            .stack
            .set(subscriber.downcast_ref::<StackKey>().copied());
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if !self.enabled {
            return;
        }
        let mut segments = Segments::new(SPAN_RESERVED);
        attrs.record(&mut segments);
        // Most spans carry no fields; they cost no extension, nor a lookup.
        if segments.is_empty() {
            return;
        }
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(segments));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if !self.enabled {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        // Format before taking the extensions: a Debug impl may log, and
        // logging inside this span reads them.
        let mut segments = Segments::new(SPAN_RESERVED);
        values.record(&mut segments);
        if segments.is_empty() {
            return;
        }
        let mut extensions = span.extensions_mut();
        match extensions.get_mut::<SpanFields>() {
            Some(fields) => fields.0.merge(segments),
            None => extensions.insert(SpanFields(segments)),
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if !self.is_active() {
            return;
        }
        if let Some(filter) = &self.events {
            if !filter.enabled(event.metadata(), &ctx) {
                return;
            }
        }
        let time = (self.clock)();
        let ids = if self.enabled {
            let write = |line: &mut String| {
                line.clear();
                let ids = match self.pretty {
                    None => self.format(event, &ctx, time, line),
                    Some(Colour(colour)) => self.format_pretty(event, &ctx, time, line, colour),
                };
                self.writer.write_line(event.metadata(), line.as_bytes());
                ids
            };
            // A fresh line when the reusable one is in use (a `Debug` impl
            // that logs) or already gone (an event from a thread-local's
            // destructor).
            let reused =
                LINE.try_with(|cell| cell.try_borrow_mut().ok().map(|mut line| write(&mut line)));
            match reused {
                Ok(Some(ids)) => ids,
                _ => write(&mut String::new()),
            }
        } else {
            self.event_ids(event, &ctx)
        };
        if let Some(records) = &self.records {
            records.emit(event, time, ids.as_ref(), |record| {
                self.record_extras(event, record);
            });
        }
    }
}
