//! Keeps what tracelink's own threads (the export thread, `/metrics`) log
//! through their libraries (tonic, hyper, h2, the OpenTelemetry crates) out
//! of the service's subscriber, where it would become log lines, and at
//! `debug`/`trace` spans to export, forever.
//!
//! The export thread (and every thread of its runtime, DNS lookups included)
//! marks itself; this filter, part of [`Parts::filter`](crate::Parts::filter),
//! turns away events and spans from those crates' targets on those threads.
//! The service's own use of hyper or tonic, on its own threads, is untouched.
//!
//! What the OpenTelemetry crates say about themselves (their `internal-logs`
//! feature, on by default in `opentelemetry`, `opentelemetry_sdk` and
//! `opentelemetry-otlp`, so on whenever a service depends on one of them with
//! default features: `TracerProvider.GlobalSet`, exporter errors) is turned
//! away on every thread: it is the SDK's diagnostics, not the service's logs,
//! and tracelink reports what matters of it on stderr itself (`OTEL_LOG_LEVEL`). (A thread-local no-op dispatcher on
//! the export thread would do it too, but any scoped dispatcher sends every
//! thread of the process down tracing's slower dispatch path and makes
//! `Span::current()` answer nothing inside other people's layers.)

use std::cell::Cell;

use tracing::subscriber::Interest;
use tracing::{Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

thread_local! {
    static EXPORT_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Marks the current thread as tracelink's export thread.
pub(crate) fn mark_export_thread() {
    EXPORT_THREAD.with(|flag| flag.set(true));
}

/// Crates the export path runs through.
const EXPORT_STACK: &[&str] = &[
    "h2",
    "hyper",
    "hyper_util",
    "tonic",
    "tower",
    "tokio",
    "mio",
    "want",
    "opentelemetry",
    "opentelemetry_sdk",
    "opentelemetry_otlp",
    "opentelemetry_http",
    "opentelemetry_proto",
];

fn in_export_stack(target: &str) -> bool {
    let krate = target.split("::").next().unwrap_or(target);
    EXPORT_STACK.contains(&krate)
}

/// The OpenTelemetry crates' own diagnostics: their `internal-logs` events use
/// the package name as target (`opentelemetry-otlp`, with its hyphen).
fn is_sdk_diagnostic(target: &str) -> bool {
    let krate = target.split("::").next().unwrap_or(target);
    krate == "opentelemetry"
        || krate.starts_with("opentelemetry_")
        || krate.starts_with("opentelemetry-")
}

/// The filter layer; see the module docs.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct QuietExportThread;

impl<S: Subscriber> Layer<S> for QuietExportThread {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if is_sdk_diagnostic(metadata.target()) {
            Interest::never()
        } else if in_export_stack(metadata.target()) {
            // Asked again each time, so the thread can be told apart.
            Interest::sometimes()
        } else {
            Interest::always()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        let target = metadata.target();
        let quiet =
            is_sdk_diagnostic(target) || (in_export_stack(target) && EXPORT_THREAD.with(Cell::get));
        !quiet
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    #[derive(Clone, Default)]
    struct Seen(Arc<Mutex<Vec<String>>>);

    impl<S: Subscriber> Layer<S> for Seen {
        fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
            let target = event.metadata().target().to_owned();
            self.0.lock().unwrap().push(target);
        }
    }

    fn emit() {
        tracing::info!(target: "h2::proto", "from h2");
        tracing::info!(name: "Export.Failed", target: "opentelemetry-otlp", "from the SDK");
        tracing::info!(target: "opentelemetry_sdk", "from the SDK");
        tracing::info!(target: "my_service", "from the service");
    }

    #[test]
    fn only_the_export_thread_is_quieted() {
        let seen = Seen::default();
        let dispatch = tracing::Dispatch::new(
            tracing_subscriber::registry()
                .with(QuietExportThread)
                .with(seen.clone()),
        );
        tracing::dispatcher::with_default(&dispatch, emit);
        let on_export_thread = dispatch.clone();
        std::thread::spawn(move || {
            mark_export_thread();
            tracing::dispatcher::with_default(&on_export_thread, emit);
        })
        .join()
        .unwrap();
        let seen = seen.0.lock().unwrap().clone();
        assert_eq!(seen, ["h2::proto", "my_service", "my_service"]);
    }

    #[test]
    fn targets_match_by_crate() {
        assert!(in_export_stack("hyper_util::client::legacy"));
        assert!(in_export_stack("opentelemetry_otlp"));
        assert!(!in_export_stack("hyperion"));
        assert!(!in_export_stack("my_service::tonic"));
        assert!(is_sdk_diagnostic("opentelemetry-otlp"));
        assert!(is_sdk_diagnostic("opentelemetry_sdk::trace"));
        assert!(is_sdk_diagnostic("opentelemetry"));
        assert!(!is_sdk_diagnostic("opentelemetryish"));
        assert!(!is_sdk_diagnostic("tracing_opentelemetry"));
    }
}
