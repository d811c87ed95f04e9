//! Where a span was made: its instrumentation scope (the `tracing` target)
//! and, if asked, its `code.*` attributes, added by the export thread
//! instead of the thread that made the span.
//!
//! `tracing-opentelemetry` can write a span's source location and target
//! into its attributes when the span is created: four attributes written per
//! span on the request path and, for the many spans without fields, an
//! attribute vector allocated there only to be freed by the export thread —
//! glibc then serves each new one from its arena, under the lock the export
//! thread takes to free the last ones. On `cargo bench --bench request` (a
//! root span, three children, two log lines) that was a fifth of
//! tracelink's time per request.
//!
//! So tracelink turns both off in `tracing-opentelemetry` and keeps the
//! callsite's `&'static` [`Metadata`] instead: [`OtelLayer`](super::OtelLayer)
//! names the span's metadata while `tracing-opentelemetry` starts the span
//! (at its first enter, or at its close if it was never entered), the
//! [`LinkTracer`](super::LinkTracer) keeps the pointer in the span's record, and the
//! export thread, turning the record into `SpanData`, makes the target the
//! span's instrumentation scope — what OpenTelemetry calls a target, and how
//! its own `tracing` log bridge maps it — and, with
//! [`Builder::with_span_code_location`](crate::Builder::with_span_code_location),
//! adds `code.file.path`, `code.module.name` and `code.line.number`
//! ([`append_location`]).
//!
//! Looking a span's metadata up in the registry at every enter and close
//! would cost more than the attributes did, so the layer notes each span it
//! sees made in a small per-thread table ([`Recent`]): a span entered or
//! closed on the thread that made it, soon after (nearly all of them), is
//! answered from there, and only the others are looked up.
//!
//! One case goes without: a span whose OpenTelemetry context you take with
//! `tracing-opentelemetry`'s `span.context()` before the span is first
//! entered is started there, out of tracelink's sight; it is sent under
//! tracelink's own scope, without `code.*` attributes.
//! [`inject_span`](crate::propagation::inject_span) (and with it the HTTP
//! client and the messaging helpers) names the callsite itself, so spans
//! injected before they are entered keep theirs.

use std::cell::Cell;

use opentelemetry::{Key, KeyValue, Value};
use tracing_core::Metadata;

type Callsite = &'static Metadata<'static>;

thread_local! {
    /// The callsite of the span being started on this thread, if known.
    static STARTING: Cell<Option<Callsite>> = const { Cell::new(None) };
}

/// Runs `f`, in which a span made at `callsite` may be started; the
/// [`LinkTracer`](super::LinkTracer) picks the callsite up with [`take`].
pub(crate) fn starting<R>(callsite: Option<Callsite>, f: impl FnOnce() -> R) -> R {
    /// Puts back what was there before, even if `f` unwinds.
    struct Restore(Option<Callsite>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = STARTING.try_with(|cell| cell.set(self.0));
        }
    }
    let _restore = Restore(
        STARTING
            .try_with(|cell| cell.replace(callsite))
            .ok()
            .flatten(),
    );
    f()
}

/// The callsite [`starting`] named, once: a second span started in the same
/// call (there is none today) gets none rather than the wrong one.
pub(crate) fn take() -> Option<Callsite> {
    STARTING.try_with(Cell::take).ok().flatten()
}

/// The spans made last on this thread, by subscriber and span id, with
/// their callsite and whether they have been entered (and so started).
struct Recent {
    entries: [Cell<Entry>; RECENT],
    next: Cell<usize>,
}

const RECENT: usize = 8;

#[derive(Clone, Copy)]
struct Entry {
    subscriber: u64,
    /// 0: free (`tracing` span ids are never 0).
    id: u64,
    callsite: Option<Callsite>,
    entered: bool,
}

const FREE: Entry = Entry {
    subscriber: 0,
    id: 0,
    callsite: None,
    entered: false,
};

thread_local! {
    static RECENT_SPANS: Recent = const {
        Recent {
            entries: [const { Cell::new(FREE) }; RECENT],
            next: Cell::new(0),
        }
    };
}

/// What the table knows of a span at its enter or close.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Known {
    /// Not in the table: look its callsite up.
    Unknown,
    /// Entered before, on this thread: already started.
    Started,
    /// Not entered yet: it starts now, here.
    Starts(Callsite),
}

impl Recent {
    fn find(&self, subscriber: u64, id: u64) -> Option<&Cell<Entry>> {
        self.entries.iter().find(|entry| {
            let entry = entry.get();
            entry.id == id && entry.subscriber == subscriber
        })
    }
}

/// Notes a span `subscriber` made on this thread, replacing the oldest.
pub(crate) fn made(subscriber: u64, id: u64, callsite: Callsite) {
    note(Entry {
        subscriber,
        id,
        callsite: Some(callsite),
        entered: false,
    });
}

/// Notes a span made elsewhere and entered here (looked up once): its next
/// enters here need no lookup.
pub(crate) fn entered_here(subscriber: u64, id: u64) {
    note(Entry {
        subscriber,
        id,
        callsite: None,
        entered: true,
    });
}

fn note(entry: Entry) {
    let _ = RECENT_SPANS.try_with(|recent| {
        let next = recent.next.get();
        recent.entries[next].set(entry);
        recent.next.set((next + 1) % RECENT);
    });
}

/// At an enter: what the table knows; it remembers the span as entered.
pub(crate) fn entering(subscriber: u64, id: u64) -> Known {
    RECENT_SPANS
        .try_with(|recent| match recent.find(subscriber, id) {
            None => Known::Unknown,
            Some(cell) => {
                let mut entry = cell.get();
                if entry.entered {
                    return Known::Started;
                }
                entry.entered = true;
                cell.set(entry);
                entry.callsite.map_or(Known::Unknown, Known::Starts)
            }
        })
        .unwrap_or(Known::Unknown)
}

/// At a close: what the table knows; it forgets the span.
pub(crate) fn closing(subscriber: u64, id: u64) -> Known {
    RECENT_SPANS
        .try_with(|recent| match recent.find(subscriber, id) {
            None => Known::Unknown,
            Some(cell) => {
                let entry = cell.replace(FREE);
                match (entry.entered, entry.callsite) {
                    (true, _) => Known::Started,
                    (false, Some(callsite)) => Known::Starts(callsite),
                    (false, None) => Known::Unknown,
                }
            }
        })
        .unwrap_or(Known::Unknown)
}

/// Adds the callsite's location after the span's own attributes, as
/// `tracing-opentelemetry`'s `with_location(true)` names them; a key the span
/// already has (set by hand) is kept, and past `limit` attributes the rest
/// are counted in `dropped`.
pub(crate) fn append_location(
    callsite: Callsite,
    attributes: &mut Vec<KeyValue>,
    limit: usize,
    dropped: &mut u32,
) {
    let own = attributes.len();
    attributes.reserve_exact(3);
    let mut add = |key: &'static str, value: Value| {
        if attributes[..own].iter().any(|kv| kv.key.as_str() == key) {
            return;
        }
        if attributes.len() < limit {
            attributes.push(KeyValue::new(Key::from_static_str(key), value));
        } else {
            *dropped += 1;
        }
    };
    if let Some(file) = callsite.file() {
        add("code.file.path", Value::from(file));
    }
    if let Some(module) = callsite.module_path() {
        add("code.module.name", Value::from(module));
    }
    if let Some(line) = callsite.line() {
        add("code.line.number", Value::I64(i64::from(line)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn callsite() -> Callsite {
        struct Cs;
        static CS: Cs = Cs;
        static META: Metadata<'static> = tracing_core::metadata! {
            name: "span",
            target: "my_target",
            level: tracing_core::Level::INFO,
            fields: &[],
            callsite: &CS,
            kind: tracing_core::metadata::Kind::SPAN,
        };
        impl tracing_core::Callsite for Cs {
            fn set_interest(&self, _: tracing_core::Interest) {}
            fn metadata(&self) -> &Metadata<'_> {
                &META
            }
        }
        &META
    }

    fn value<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Value> {
        attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| &kv.value)
    }

    #[test]
    fn adds_location_after_the_spans_own() {
        let mut attributes = vec![KeyValue::new("http.route", "/orders")];
        let mut dropped = 0;
        append_location(callsite(), &mut attributes, 128, &mut dropped);
        assert_eq!(attributes[0].key.as_str(), "http.route");
        assert_eq!(
            value(&attributes, "code.file.path"),
            Some(&Value::from(file!()))
        );
        assert_eq!(
            value(&attributes, "code.module.name"),
            Some(&Value::from(module_path!()))
        );
        assert!(matches!(
            value(&attributes, "code.line.number"),
            Some(Value::I64(line)) if *line > 0
        ));
        assert_eq!(attributes.len(), 4);
        assert_eq!(dropped, 0);
    }

    #[test]
    fn keeps_a_key_set_by_hand_and_counts_what_does_not_fit() {
        let mut attributes = vec![KeyValue::new("code.file.path", "mine")];
        let mut dropped = 0;
        append_location(callsite(), &mut attributes, 2, &mut dropped);
        assert_eq!(attributes.len(), 2);
        assert_eq!(
            value(&attributes, "code.file.path"),
            Some(&Value::from("mine"))
        );
        assert_eq!(dropped, 1, "code.line.number did not fit");
    }

    #[test]
    fn recent_spans_answer_enter_and_close_without_a_lookup() {
        let cs = callsite();
        made(1, 10, cs);
        assert_eq!(entering(1, 10), Known::Starts(cs));
        assert_eq!(entering(1, 10), Known::Started, "a second enter");
        assert_eq!(entering(2, 10), Known::Unknown, "another subscriber's span");
        assert_eq!(closing(1, 10), Known::Started);
        assert_eq!(closing(1, 10), Known::Unknown, "forgotten at close");

        made(1, 11, cs);
        assert_eq!(closing(1, 11), Known::Starts(cs), "closed, never entered");

        made(1, 12, cs);
        for id in 100..100 + RECENT as u64 {
            made(1, id, cs);
        }
        assert_eq!(entering(1, 12), Known::Unknown, "pushed out: looked up");
        entered_here(1, 12);
        assert_eq!(entering(1, 12), Known::Started);
        assert_eq!(closing(1, 12), Known::Started);
    }

    #[test]
    fn take_answers_once_and_starting_restores() {
        assert_eq!(take(), None);
        starting(Some(callsite()), || {
            starting(None, || assert_eq!(take(), None));
            assert!(take().is_some());
            assert_eq!(take(), None);
        });
        assert_eq!(take(), None);
    }
}
