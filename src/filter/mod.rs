//! Two filters, one subscriber: which spans exist (`TRACELINK_SPAN_FILTER`,
//! `info` by default) and which events become log lines (`RUST_LOG`).
//!
//! A production service runs at `RUST_LOG=warn`. With one filter for both,
//! that also turns off the `INFO` spans its `WARN` and `ERROR` lines happen
//! in: no span is exported and the very lines an operator wants to jump from
//! carry no ids. So spans have a filter of their own, and `RUST_LOG` only
//! decides which events are written as lines.
//!
//! Both layers see the same spans, so per-layer filtering
//! (`tracing-subscriber`'s `Filtered`) is not needed for them, and it would
//! cost a registry lookup per layer at every enter, exit and close. Instead
//! [`Filters`] is one global filter that lets through every span the span
//! filter enables and every event that either becomes a log line or a span
//! event (`TRACELINK_SPAN_EVENTS`), and the JSON layer drops the events
//! `RUST_LOG` does not enable. When the two filters are the same (the
//! default: both `info`), there is nothing to drop and the JSON layer checks
//! nothing.

pub(crate) mod quiet;

use std::sync::Arc;

use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Metadata, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::EnvFilter;

/// One set of directives, valid by construction (the configuration keeps
/// only the directives that parse).
#[derive(Debug)]
// Both are large (`Targets` keeps its directives inline); a `Directives` is
// built once, at setup, and shared.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Directives {
    /// Targets and levels only (`info,my_crate=debug`): no per-span state.
    Targets(Targets),
    /// With span or field filters (`[request{id=7}]=trace`): `EnvFilter`,
    /// which follows every span to know which are in scope.
    Env(EnvFilter),
}

impl Directives {
    /// Directives that only name targets and levels become a [`Targets`],
    /// which costs about 300 instructions less per span than an `EnvFilter`.
    pub(crate) fn new(directives: &str) -> Self {
        let targets = (!directives.contains(['[', '{']))
            .then(|| directives.parse::<Targets>().ok())
            .flatten();
        match targets {
            Some(targets) => Directives::Targets(targets),
            None => Directives::Env(EnvFilter::builder().parse_lossy(directives)),
        }
    }

    fn register_callsite<S: Subscriber>(&self, metadata: &'static Metadata<'static>) -> Interest {
        match self {
            Directives::Targets(targets) => Layer::<S>::register_callsite(targets, metadata),
            Directives::Env(env) => Layer::<S>::register_callsite(env, metadata),
        }
    }

    /// Whether these directives enable `metadata` here and now.
    pub(crate) fn enabled<S: Subscriber>(
        &self,
        metadata: &Metadata<'_>,
        ctx: &Context<'_, S>,
    ) -> bool {
        match self {
            Directives::Targets(targets) => {
                targets.would_enable(metadata.target(), metadata.level())
            }
            Directives::Env(env) => env.enabled(metadata, ctx.clone()),
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        match self {
            Directives::Targets(targets) => {
                Layer::<tracing_subscriber::Registry>::max_level_hint(targets)
            }
            Directives::Env(env) => EnvFilter::max_level_hint(env),
        }
    }

    fn env(&self) -> Option<&EnvFilter> {
        match self {
            Directives::Env(env) => Some(env),
            Directives::Targets(_) => None,
        }
    }
}

/// The global filter of tracelink's subscriber; see the module docs.
#[derive(Debug)]
pub(crate) struct Filters {
    spans: Directives,
    /// `None` when the log filter is the span filter.
    logs: Option<Arc<Directives>>,
    /// Events at or above this level also become span events.
    span_events: LevelFilter,
}

impl Filters {
    /// `logs` is shared with the JSON layer, which asks it about each event.
    pub(crate) fn new(
        spans: &str,
        logs: Option<Arc<Directives>>,
        span_events: LevelFilter,
    ) -> Self {
        Self {
            spans: Directives::new(spans),
            logs,
            span_events: span_events.max(LevelFilter::ERROR),
        }
    }

    fn each_env(&self, mut f: impl FnMut(&EnvFilter)) {
        if let Some(env) = self.spans.env() {
            f(env);
        }
        if let Some(env) = self.logs.as_deref().and_then(Directives::env) {
            f(env);
        }
    }
}

impl<S: Subscriber> Layer<S> for Filters {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        let Some(logs) = self.logs.as_deref() else {
            return self.spans.register_callsite::<S>(metadata);
        };
        if metadata.is_span() {
            // The log filter learns the span callsites its span-scoped
            // directives (`[request]=debug`) match; the span filter decides.
            logs.register_callsite::<S>(metadata);
            return self.spans.register_callsite::<S>(metadata);
        }
        let as_line = logs.register_callsite::<S>(metadata);
        let on_span = if self.span_events >= *metadata.level() {
            self.spans.register_callsite::<S>(metadata)
        } else {
            Interest::never()
        };
        if as_line.is_always() || on_span.is_always() {
            Interest::always()
        } else if as_line.is_never() && on_span.is_never() {
            Interest::never()
        } else {
            Interest::sometimes()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        match self.logs.as_deref().filter(|_| metadata.is_event()) {
            None => self.spans.enabled(metadata, &ctx),
            Some(logs) => {
                logs.enabled(metadata, &ctx)
                    || (self.span_events >= *metadata.level() && self.spans.enabled(metadata, &ctx))
            }
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        let spans = self.spans.max_level_hint();
        match &self.logs {
            None => spans,
            Some(logs) => Option::zip(spans, logs.max_level_hint()).map(|(a, b)| a.max(b)),
        }
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        self.each_env(|env| env.on_new_span(attrs, id, ctx.clone()));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        self.each_env(|env| env.on_record(id, values, ctx.clone()));
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        self.each_env(|env| env.on_enter(id, ctx.clone()));
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        self.each_env(|env| env.on_exit(id, ctx.clone()));
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        self.each_env(|env| env.on_close(id.clone(), ctx.clone()));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    /// Names of the spans made and the events seen, with what the log filter
    /// said of each event.
    #[derive(Clone, Default)]
    struct Seen {
        logs: Option<Arc<Directives>>,
        seen: Arc<Mutex<Vec<String>>>,
    }

    impl<S: Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>> Layer<S> for Seen {
        fn on_new_span(&self, attrs: &Attributes<'_>, _: &Id, _: Context<'_, S>) {
            self.seen
                .lock()
                .unwrap()
                .push(format!("span {}", attrs.metadata().name()));
        }

        fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
            let line = self
                .logs
                .as_ref()
                .is_none_or(|logs| logs.enabled(event.metadata(), &ctx));
            let level = event.metadata().level();
            self.seen
                .lock()
                .unwrap()
                .push(format!("event {level} line={line}"));
        }
    }

    fn run(spans: &str, logs: Option<&str>) -> Vec<String> {
        let logs = logs.map(|d| Arc::new(Directives::new(d)));
        let seen = Seen {
            logs: logs.clone(),
            ..Seen::default()
        };
        let subscriber = tracing_subscriber::registry()
            .with(Filters::new(spans, logs, LevelFilter::WARN))
            .with(seen.clone());
        tracing::subscriber::with_default(subscriber, || {
            tracing::info_span!("request").in_scope(|| {
                tracing::debug_span!("detail").in_scope(|| {});
                tracing::info!("info");
                tracing::warn!("warn");
                tracing::error!("error");
            });
        });
        let seen = seen.seen.lock().unwrap().clone();
        seen
    }

    #[test]
    fn one_filter_for_both_by_default() {
        assert_eq!(
            run("info", None),
            [
                "span request",
                "event INFO line=true",
                "event WARN line=true",
                "event ERROR line=true"
            ]
        );
    }

    #[test]
    fn spans_outlive_a_quieter_log_filter() {
        assert_eq!(
            run("info", Some("warn")),
            [
                "span request",
                "event WARN line=true",
                "event ERROR line=true"
            ]
        );
        // With logs off, WARN and ERROR still reach the span as span events,
        // and no line is written for them.
        assert_eq!(
            run("info", Some("off")),
            [
                "span request",
                "event WARN line=false",
                "event ERROR line=false"
            ]
        );
    }

    #[test]
    fn a_louder_log_filter_adds_lines_not_spans() {
        let mut seen = run("info", Some("debug"));
        seen.retain(|s| s.starts_with("span"));
        assert_eq!(seen, ["span request"]);
        assert_eq!(
            run("debug", Some("info"))[..2],
            ["span request", "span detail"]
        );
    }

    #[test]
    fn span_scoped_log_directives_follow_their_spans() {
        assert_eq!(
            run("info", Some("[request]=warn")),
            [
                "span request",
                "event WARN line=true",
                "event ERROR line=true"
            ]
        );
    }
}
