//! Where lines go: stdout, stderr, a non-blocking stdout, or your own writer;
//! and the count of what happened to them.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::non_blocking::NonBlocking;

use tracing_subscriber::fmt::MakeWriter;

/// A `MakeWriter` behind one virtual call per line, with no box per line.
trait WriteLine: Send + Sync {
    fn write_line(&self, meta: &tracing::Metadata<'_>, line: &[u8]) -> io::Result<()>;
}

impl<M> WriteLine for M
where
    M: for<'a> MakeWriter<'a> + Send + Sync,
{
    fn write_line(&self, meta: &tracing::Metadata<'_>, line: &[u8]) -> io::Result<()> {
        self.make_writer_for(meta).write_all(line)
    }
}

/// The destination of JSON lines.
///
/// Each line reaches the writer in one `write_all`, so lines from different
/// threads never interleave on stdout or stderr.
///
/// ```
/// use tracelink::logs::LogWriter;
///
/// // Into a file, through any `MakeWriter`.
/// let file = std::sync::Mutex::new(std::io::sink());
/// let writer = LogWriter::custom(file);
/// # let _ = writer;
/// ```
#[derive(Clone)]
pub struct LogWriter {
    kind: Kind,
    counts: Arc<LineCounts>,
}

#[derive(Clone)]
enum Kind {
    Stdout,
    Stderr,
    NonBlocking(NonBlocking),
    Custom(Arc<dyn WriteLine>),
}

/// What happened to the lines given to one [`LogWriter`] (and its clones).
#[derive(Debug, Default)]
pub(crate) struct LineCounts {
    pub(crate) written: AtomicU64,
    /// The non-blocking buffer was full, or the writer had stopped.
    pub(crate) dropped: AtomicU64,
    /// The write failed, or the line was still buffered at the deadline.
    pub(crate) failed: AtomicU64,
}

impl LineCounts {
    pub(crate) fn stats(&self) -> LogStats {
        LogStats {
            written: self.written.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
        }
    }
}

/// What happened to log lines so far: written whole, dropped, failed.
/// Every line the log layer formats is exactly one of the three.
///
/// ```
/// # fn main() -> Result<(), tracelink::Error> {
/// # let guard = tracelink::builder().with_env([("OTEL_TRACES_EXPORTER", "none")]).build()?.into_guard();
/// let lines = guard.stats().log_lines();
/// if lines.lost() > 0 {
///     eprintln!("{} log lines were lost", lines.lost());
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogStats {
    written: u64,
    dropped: u64,
    failed: u64,
}

impl LogStats {
    /// Lines written whole.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Lines dropped because the non-blocking writer's buffer was full (or
    /// it had shut down); always 0 when lines are written directly.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Lines whose write failed (a closed pipe, a full disk), or that were
    /// still buffered when the shutdown deadline passed.
    pub fn failed(&self) -> u64 {
        self.failed
    }

    /// Lines that did not reach the writer's destination: dropped + failed.
    pub fn lost(&self) -> u64 {
        self.dropped + self.failed
    }
}

impl std::fmt::Debug for LogWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.kind {
            Kind::Stdout => "LogWriter::Stdout",
            Kind::Stderr => "LogWriter::Stderr",
            Kind::NonBlocking(_) => "LogWriter::NonBlocking",
            Kind::Custom(_) => "LogWriter::Custom",
        })
    }
}

impl LogWriter {
    /// Standard output, written directly. The default.
    pub fn stdout() -> Self {
        Self::of(Kind::Stdout)
    }

    /// Standard error, written directly.
    pub fn stderr() -> Self {
        Self::of(Kind::Stderr)
    }

    /// Any [`MakeWriter`], for example a `Mutex<File>` or a test buffer.
    pub fn custom<W>(make_writer: W) -> Self
    where
        W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
    {
        Self::of(Kind::Custom(Arc::new(make_writer)))
    }

    fn of(kind: Kind) -> Self {
        Self {
            kind,
            counts: Arc::default(),
        }
    }

    /// Standard output through the non-blocking writer thread, which counts
    /// into `counts`.
    pub(crate) fn non_blocking(writer: NonBlocking, counts: Arc<LineCounts>) -> Self {
        Self {
            kind: Kind::NonBlocking(writer),
            counts,
        }
    }

    /// What happened to this writer's lines.
    pub(crate) fn counts(&self) -> &Arc<LineCounts> {
        &self.counts
    }

    /// Writes one whole line, and counts it: written or failed (or, through
    /// the non-blocking writer, buffered: that thread counts it).
    pub(crate) fn write_line(&self, meta: &tracing::Metadata<'_>, line: &[u8]) {
        let result = match &self.kind {
            Kind::Stdout => io::stdout().lock().write_all(line),
            Kind::Stderr => io::stderr().lock().write_all(line),
            Kind::NonBlocking(writer) => return writer.write_line(line),
            Kind::Custom(make) => make.write_line(meta, line),
        };
        let counter = match result {
            Ok(()) => &self.counts.written,
            Err(_) => &self.counts.failed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}
