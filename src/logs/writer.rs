//! Where lines go: stdout, stderr, a non-blocking stdout, or your own writer.

use std::io::{self, Write};
use std::sync::Arc;

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
}

#[derive(Clone)]
enum Kind {
    Stdout,
    Stderr,
    NonBlocking(tracing_appender::non_blocking::NonBlocking),
    Custom(Arc<dyn WriteLine>),
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
        Self { kind: Kind::Stdout }
    }

    /// Standard error, written directly.
    pub fn stderr() -> Self {
        Self { kind: Kind::Stderr }
    }

    /// Any [`MakeWriter`], for example a `Mutex<File>` or a test buffer.
    pub fn custom<W>(make_writer: W) -> Self
    where
        W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
    {
        Self {
            kind: Kind::Custom(Arc::new(make_writer)),
        }
    }

    pub(crate) fn non_blocking(writer: tracing_appender::non_blocking::NonBlocking) -> Self {
        Self {
            kind: Kind::NonBlocking(writer),
        }
    }

    /// Writes one whole line.
    pub(crate) fn write_line(&self, meta: &tracing::Metadata<'_>, line: &[u8]) -> io::Result<()> {
        match &self.kind {
            Kind::Stdout => io::stdout().lock().write_all(line),
            Kind::Stderr => io::stderr().lock().write_all(line),
            Kind::NonBlocking(writer) => writer.make_writer_for(meta).write_all(line),
            Kind::Custom(make) => make.write_line(meta, line),
        }
    }
}
