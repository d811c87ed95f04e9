//! Spans as a [`Signal`] of the export pipeline (`export/`): what the
//! tracers queue ([`Finished`]), and its conversion into the SDK's
//! `SpanData` on the export thread, with its instrumentation scope.
//!
//! ```text
//! mod.rs      Spans: the signal; Pipeline = export::Pipeline<Spans>
//!   ▼
//! record.rs   Record → SpanData
//!   ▼
//! scopes.rs   instrumentation scopes
//! ```

mod record;
mod scopes;

use std::sync::Arc;

use opentelemetry::trace::SpanContext;
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::trace::SpanData;

pub(crate) use record::Record;

use record::Finished;
use scopes::{ScopeRegistry, Scopes};

use super::export::DynExporter;

use crate::export::{BatchConfig, Names, Signal};

/// The span pipeline, shared by every tracer and the guard.
pub(crate) type Pipeline = crate::export::Pipeline<Spans>;

/// Sampled spans, on their way to the span exporters.
#[derive(Debug, Default)]
pub(crate) struct Spans {
    /// The export thread's view of the scopes.
    scopes: Scopes,
    /// Whether `tracing` spans get `code.*` attributes.
    code_location: bool,
}

impl Signal for Spans {
    type Item = Finished;
    type Batch = Vec<SpanData>;
    /// Every instrumentation scope a tracer was made for, once each.
    type State = ScopeRegistry;

    const NAMES: Names = Names {
        one: "span",
        many: "spans",
        came: "started or ended",
        stats: "spans",
        thread: "tracelink-export",
        local_hint: "; is a Collector listening there? For local work without one, set \
                     OTEL_TRACES_EXPORTER=file and read traces with `tracelink traces`",
    };

    fn name_of(span: &Finished) -> &str {
        span.name()
    }

    fn batch(&mut self, registry: &ScopeRegistry, spans: Vec<Finished>) -> Vec<SpanData> {
        self.scopes.refresh(registry);
        spans
            .into_iter()
            .map(|span| span.into_span_data(&mut self.scopes, self.code_location))
            .collect()
    }
}

/// Starts the span pipeline; with no exporters there is no thread and
/// sampled spans are simply not recorded.
pub(crate) fn start(
    batch: &BatchConfig,
    exporters: Vec<Box<DynExporter>>,
    runtime: tokio::runtime::Runtime,
    code_location: bool,
) -> std::io::Result<Arc<Pipeline>> {
    let spans = Spans {
        scopes: Scopes::default(),
        code_location,
    };
    Pipeline::start(batch, spans, exporters, runtime)
}

impl Pipeline {
    /// The index of `scope` in the scope table, added if new.
    pub(crate) fn register_scope(&self, scope: InstrumentationScope) -> u32 {
        self.state().register(scope)
    }

    /// The tracers' hot path: queue an ended span, or count it as dropped.
    #[inline]
    pub(crate) fn push_span(&self, context: SpanContext, record: Record) {
        self.push(Finished::new(context, record));
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::record::number_of;
    use super::*;
    use crate::export::{Answer, Outcome, Recorder};

    #[test]
    fn spans_reach_their_exporter_with_their_tracer_scope() {
        // UNWRAP: a test can not go on without a runtime.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a test runtime");
        let recorder: Recorder<Vec<SpanData>> = Recorder::new(Answer::Take);
        let batch = BatchConfig::default().with_scheduled_delay(Duration::from_secs(3600));
        let started = start(&batch, vec![Box::new(recorder.clone())], runtime, false);
        // UNWRAP: the only error is the OS refusing a thread.
        let pipeline = started.expect("the export thread starts");
        let shop = InstrumentationScope::builder("shop").build();
        let index = pipeline.register_scope(shop.clone());
        for n in 0..3 {
            let (context, mut record) = record::numbered(n);
            record.scope = index;
            pipeline.push_span(context, record);
        }
        let outcome = pipeline.shutdown(Instant::now() + Duration::from_secs(5));
        assert_eq!(outcome, Outcome::Clean);
        let spans: Vec<SpanData> = recorder.batches().into_iter().flatten().collect();
        assert_eq!(spans.iter().map(number_of).collect::<Vec<_>>(), [0, 1, 2]);
        assert!(spans.iter().all(|span| span.instrumentation_scope == shop));
        assert_eq!(pipeline.stats().exported(), 3);
    }
}
