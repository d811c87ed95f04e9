//! The stock JSON formatter with trace ids, the way people add them today
//! (tokio-rs/tracing#1531): shared by `log_line.rs` and `request.rs`.

use std::io;

use opentelemetry::trace::TraceContextExt as _;
use serde::ser::{SerializeMap as _, SerializeSeq as _, Serializer as _};
use tracing::{Event, Subscriber};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_serde::fields::AsMap as _;
use tracing_serde::AsSerde as _;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime as _, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

/// `fmt::format::Json`'s event, field for field (timestamp, level, fields,
/// target, span, spans), with serde_json as the stock formatter writes it, plus
/// `trace_id` and `span_id` from `Span::current().context()`.
pub(crate) struct TraceIdFormat;

/// The stock formatter's private adaptor from `fmt::Write` to `io::Write`.
struct WriteAdaptor<'a>(&'a mut dyn std::fmt::Write);

impl io::Write for WriteAdaptor<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let s =
            std::str::from_utf8(buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        self.0.write_str(s).map_err(io::Error::other)?;
        Ok(s.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The stock `SerializableSpan`: the span's fields (kept as a JSON string by
/// `JsonFields`, parsed again for every line) and its name.
struct SpanFields<'a, 'b, R: LookupSpan<'a>, N>(&'b SpanRef<'a, R>, std::marker::PhantomData<N>);

impl<'a, R: LookupSpan<'a>, N: 'static> serde::Serialize for SpanFields<'a, '_, R, N> {
    fn serialize<Ser: serde::Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
        let mut map = serializer.serialize_map(None)?;
        let extensions = self.0.extensions();
        if let Some(fields) = extensions.get::<FormattedFields<N>>() {
            if let Ok(serde_json::Value::Object(fields)) =
                serde_json::from_str::<serde_json::Value>(fields)
            {
                for (key, value) in fields {
                    map.serialize_entry(&key, &value)?;
                }
            }
        }
        map.serialize_entry("name", self.0.metadata().name())?;
        map.end()
    }
}

/// The stock `SerializableContext`: every span from the root.
struct SpanList<'a, 'b, R: LookupSpan<'a>, N>(&'b SpanRef<'a, R>, std::marker::PhantomData<N>);

impl<'a, R: LookupSpan<'a>, N: 'static> serde::Serialize for SpanList<'a, '_, R, N> {
    fn serialize<Ser: serde::Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
        let mut list = serializer.serialize_seq(None)?;
        for span in self.0.scope().from_root() {
            list.serialize_element(&SpanFields::<R, N>(&span, std::marker::PhantomData))?;
        }
        list.end()
    }
}

impl<S, N> FormatEvent<S, N> for TraceIdFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'w> FormatFields<'w> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let mut timestamp = String::new();
        SystemTime.format_time(&mut Writer::new(&mut timestamp))?;
        let meta = event.metadata();
        let mut visit = || {
            let mut serializer = serde_json::Serializer::new(WriteAdaptor(&mut writer));
            let mut map = serializer.serialize_map(None)?;
            map.serialize_entry("timestamp", &timestamp)?;
            map.serialize_entry("level", &meta.level().as_serde())?;
            map.serialize_entry("fields", &event.field_map())?;
            map.serialize_entry("target", meta.target())?;
            let current = event
                .parent()
                .and_then(|id| ctx.span(id))
                .or_else(|| ctx.lookup_current());
            if let Some(span) = &current {
                map.serialize_entry("span", &SpanFields::<S, N>(span, std::marker::PhantomData))?;
                map.serialize_entry("spans", &SpanList::<S, N>(span, std::marker::PhantomData))?;
            }
            let context = tracing::Span::current().context();
            let otel_span = context.span();
            let span_context = otel_span.span_context();
            if span_context.is_valid() {
                map.serialize_entry("trace_id", &span_context.trace_id().to_string())?;
                map.serialize_entry("span_id", &span_context.span_id().to_string())?;
            }
            serde::ser::SerializeMap::end(map)
        };
        visit().map_err(|_| std::fmt::Error)?;
        writeln!(writer)
    }
}
