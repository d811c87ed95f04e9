//! What a pipeline says on stderr when spans or log records are lost,
//! through tracelink's own diagnostics (`diag.rs`), never through `tracing`.
//!
//! Each kind of loss is rate-limited, so a collector that is down for an
//! hour costs a few lines, not one per batch: export failures at most every
//! 10 s per exporter ([`diag_rate_limited`]), queue-full drops at most every
//! 10 s and in total at shutdown ([`LossReporter`]), items after shutdown
//! once per pipeline ([`warn_after_shutdown`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::stats::ExportStats;
use super::Names;
use crate::diag::diag;

/// An item that comes once the pipeline has shut down is lost: say so,
/// once (`warned` is the pipeline's), since the usual cause is a guard
/// dropped at once.
#[cold]
pub(crate) fn warn_after_shutdown(names: &Names, name: &str, warned: &AtomicBool) {
    if !warned.swap(true, Ordering::Relaxed) {
        diag!(
            Warn,
            "{} {name:?} {} after tracelink's Guard was dropped or shut down, \
             so it is not exported (nor are later ones; they are counted in \
             Guard::stats().{}().dropped()). `let _ = tracelink::init()?` drops the guard at once: \
             keep it with `let _guard = tracelink::init()?;` until the end of main",
            names.one,
            names.came,
            names.stats,
        );
    }
}

/// What to try when an OTLP export cannot reach its collector: errors that
/// say the connection failed, not that the collector refused the data.
fn unreachable_hint(names: &Names, exporter: &str, error: &str) -> &'static str {
    let error = error.to_ascii_lowercase();
    let unreachable = [
        "connect",
        "network",
        "transport",
        "refused",
        "dns",
        "unavailable",
        "no answer",
        "timed out",
        "tcp",
    ]
    .iter()
    .any(|word| error.contains(word));
    if exporter.starts_with("OTLP/") && unreachable {
        names.local_hint
    } else {
        ""
    }
}

/// Export errors: at most one line every 10 s per exporter, with what was lost since.
pub(crate) fn diag_rate_limited(names: &Names, exporter: String, error: &str, count: u64) {
    /// Per exporter: the last report, if any (the first failure is reported
    /// at once), and the spans lost since.
    type Reports = HashMap<String, (Option<Instant>, u64)>;
    static LAST: Mutex<Option<Reports>> = Mutex::new(None);
    let mut last = LAST.lock().unwrap_or_else(PoisonError::into_inner);
    let map = last.get_or_insert_with(HashMap::new);
    let now = Instant::now();
    let entry = map
        .entry(format!("{} {exporter}", names.many))
        .or_insert((None, 0));
    entry.1 += count;
    // (Not `now - 1 h` as "long ago": a monotonic clock may be younger than
    // that on a machine just booted, and the subtraction would panic.)
    if entry
        .0
        .is_none_or(|last| now.duration_since(last) >= Duration::from_secs(10))
    {
        match crate::transport::explain_tls(error) {
            Some(words) => diag!(
                Error,
                "export to {exporter} failed: {words} ({error}); {} {} lost since the last report",
                entry.1,
                names.many
            ),
            None => diag!(
                Error,
                "export to {exporter} failed: {error}; {} {} lost since the last report{}",
                entry.1,
                names.many,
                unreachable_hint(names, &exporter, error)
            ),
        }
        *entry = (Some(now), 0);
    }
}

/// Reports queue-full drops while they happen (at most every 10 s) and in total
/// at shutdown. The export thread asks it after every batch, so that a long
/// outage, when the queue refills faster than failed batches drain it and
/// the thread is never idle, is reported every 10 s rather than once after.
#[derive(Debug, Default)]
pub(crate) struct LossReporter {
    reported_dropped: u64,
    last: Option<Instant>,
    /// How many queue-full reports it made, for the tests.
    pub(super) reports: u64,
}

impl LossReporter {
    /// Says what was lost, if there is something to say: `now` is the
    /// export thread's clock.
    pub(crate) fn report(
        &mut self,
        names: &Names,
        stats: &ExportStats,
        at_shutdown: bool,
        now: Instant,
    ) {
        if at_shutdown {
            if stats.lost() > 0 {
                diag!(
                    Warn,
                    "at shutdown: {} {} exported, {} lost ({} dropped on a full queue or after shutdown, {} in failed exports)",
                    stats.exported,
                    names.many,
                    stats.lost(),
                    stats.dropped,
                    stats.failed
                );
            }
            return;
        }
        if stats.dropped > self.reported_dropped
            && self
                .last
                .is_none_or(|t| now.saturating_duration_since(t) >= Duration::from_secs(10))
        {
            diag!(
                Warn,
                "{} queue full: {} {} dropped since the last report ({} in all); \
                 the exporter is slower than the service, or the collector is down",
                names.one,
                stats.dropped - self.reported_dropped,
                names.many,
                stats.dropped
            );
            self.reported_dropped = stats.dropped;
            self.last = Some(now);
            self.reports += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_collector_hint_is_for_otlp_connection_errors_only() {
        let names = &super::super::tests::NUMBERS;
        let refused = "transport error: Connection refused (os error 111)";
        assert!(
            unreachable_hint(names, "OTLP/HTTP http://localhost:4318", refused)
                .contains("is a Collector listening there?")
        );
        assert!(
            unreachable_hint(names, "OTLP/gRPC", "no answer within the export timeout").len() > 1
        );
        // The collector answered, and refused the data: not a reachability problem.
        assert_eq!(
            unreachable_hint(names, "OTLP/HTTP", "HTTP 400 Bad Request"),
            ""
        );
        // Not OTLP: there is no collector to point at.
        assert_eq!(unreachable_hint(names, "FileExporter", refused), "");
    }

    #[test]
    fn queue_full_drops_are_reported_at_most_every_ten_seconds() {
        let mut reporter = LossReporter::default();
        let stats = |dropped| ExportStats {
            exported: 0,
            dropped,
            failed: 0,
        };
        let start = Instant::now();
        let at = |secs| start + Duration::from_secs(secs);
        // Nothing dropped: nothing to say.
        reporter.report(&super::super::tests::NUMBERS, &stats(0), false, at(0));
        assert_eq!((reporter.reported_dropped, reporter.last), (0, None));
        reporter.report(&super::super::tests::NUMBERS, &stats(5), false, at(1));
        assert_eq!((reporter.reported_dropped, reporter.last), (5, Some(at(1))));
        // More drops right after: held back until 10 s have passed.
        reporter.report(&super::super::tests::NUMBERS, &stats(8), false, at(10));
        assert_eq!((reporter.reported_dropped, reporter.last), (5, Some(at(1))));
        reporter.report(&super::super::tests::NUMBERS, &stats(8), false, at(11));
        assert_eq!(
            (reporter.reported_dropped, reporter.last),
            (8, Some(at(11)))
        );
        // No new drops: nothing more to say, however long it is.
        reporter.report(&super::super::tests::NUMBERS, &stats(8), false, at(100));
        assert_eq!(reporter.reports, 2);
    }
}
