//! The non-blocking stdout writer (`TRACELINK_LOG_NON_BLOCKING=true`).
//!
//! A line is copied into a bounded buffer under a short lock and written by
//! one thread, `tracelink-log-writer`, so a reader of stdout that stalls
//! never stalls the service. Every line is written whole or counted:
//!
//! * the buffer is full → the line is **dropped** and counted at once;
//! * a write fails (the reader closed the pipe) → the lines of that write
//!   are **failed** and counted, with one warning on stderr;
//! * the shutdown deadline passes with lines still buffered → they are
//!   counted as **unwritten**, and [`Guard::shutdown`](crate::Guard::shutdown)
//!   says how many.
//!
//! Lines are written in chunks of whole lines of at most `PIPE_BUF` (4 KiB)
//! bytes: a write of that size to a pipe is atomic, so a process that exits
//! while the writer is blocked on a stalled pipe leaves no torn line behind.
//! A single line longer than 4 KiB is written alone and can be cut at such an
//! exit; it is then counted as unwritten, never as written.
//!
//! This replaces `tracing-appender`'s non-blocking writer, which loses the
//! lines still in its channel when its worker stalls or exits without
//! counting them, waits a fixed second at shutdown, and prints its own
//! message into stdout.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use super::writer::LineCounts;
use crate::diag::diag;

/// The buffer's bound: 8 MiB of lines (about 30,000 lines of 250 bytes).
/// It grows with use; after a burst it shrinks back.
pub(crate) const CAPACITY: usize = 8 << 20;

/// What one write to a pipe carries at most and still stays whole.
const PIPE_BUF: usize = 4096;

/// The writing end that the log layer holds. Clones share the buffer.
#[derive(Clone)]
pub(crate) struct NonBlocking {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    /// The writer waits here for lines or the stop.
    lines: Condvar,
    /// Flushers wait here for the buffer to be written out.
    written: Condvar,
    counts: Arc<LineCounts>,
    capacity: usize,
    /// One warning for write errors, not one per failed write.
    warned: AtomicBool,
}

#[derive(Default)]
struct State {
    pending: Vec<u8>,
    pending_lines: u64,
    /// Lines taken by the writer and not yet written or failed.
    in_flight: u64,
    stop: bool,
    /// The deadline passed with lines left: they are counted as failed, and
    /// the writer counts and writes nothing more.
    abandoned: bool,
    writer_waiting: bool,
}

impl std::fmt::Debug for NonBlocking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NonBlocking")
            .field("capacity", &self.shared.capacity)
            .finish_non_exhaustive()
    }
}

/// Where the writer thread writes: stdout, or a test's sink.
pub(crate) trait Sink: Send + 'static {
    /// Writes `chunk` whole or fails.
    fn write_chunk(&mut self, chunk: &[u8]) -> io::Result<()>;
}

/// The process's stdout, locked for each chunk so that the service's own
/// `println!` never lands inside a line.
pub(crate) struct Stdout;

impl Sink for Stdout {
    fn write_chunk(&mut self, chunk: &[u8]) -> io::Result<()> {
        let mut out = io::stdout().lock();
        out.write_all(chunk)?;
        out.flush()
    }
}

/// How shutting the writer down went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Unwritten(pub(crate) u64);

impl NonBlocking {
    /// Starts the writer thread on `sink`, with a buffer of `capacity` bytes.
    pub(crate) fn start(
        sink: impl Sink,
        capacity: usize,
        counts: Arc<LineCounts>,
    ) -> io::Result<(Self, WriterThread)> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            lines: Condvar::new(),
            written: Condvar::new(),
            counts,
            capacity,
            warned: AtomicBool::new(false),
        });
        let thread = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("tracelink-log-writer".into())
                .spawn(move || shared.run(sink))?
        };
        let writer = Self {
            shared: Arc::clone(&shared),
        };
        Ok((
            writer,
            WriterThread {
                shared,
                thread: Some(thread),
            },
        ))
    }

    /// Buffers one whole line, or drops and counts it when the buffer is full
    /// or the writer has stopped. Never waits for the writer.
    pub(crate) fn write_line(&self, line: &[u8]) {
        let shared = &*self.shared;
        let mut state = shared.lock();
        if state.stop || state.pending.len() + line.len() > shared.capacity {
            drop(state);
            shared.counts.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        state.pending.extend_from_slice(line);
        state.pending_lines += 1;
        let wake = std::mem::take(&mut state.writer_waiting);
        drop(state);
        if wake {
            shared.lines.notify_one();
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock leaves only bytes and counts
        // behind, which stay consistent: go on with them.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The writer thread: takes everything buffered, writes it, repeats.
    fn run(&self, mut sink: impl Sink) {
        let mut batch = Vec::new();
        loop {
            let lines = {
                let mut state = self.lock();
                while state.pending.is_empty() && !state.stop {
                    state.writer_waiting = true;
                    state = self
                        .lines
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                if state.pending.is_empty() {
                    return; // stopped, and everything is written
                }
                std::mem::swap(&mut state.pending, &mut batch);
                let lines = std::mem::take(&mut state.pending_lines);
                state.in_flight = lines;
                lines
            };
            self.write_batch(&mut sink, &batch, lines);
            if self.lock().abandoned {
                return;
            }
            // After a burst, give the memory back.
            if batch.capacity() > 1 << 20 && batch.len() < batch.capacity() / 4 {
                batch.shrink_to(batch.len().max(64 << 10));
            }
            batch.clear();
            self.lock().in_flight = 0;
            self.written.notify_all();
        }
    }

    /// Writes `batch` (`lines` whole lines) in chunks that a pipe keeps
    /// whole, counting each chunk once: written or failed.
    fn write_batch(&self, sink: &mut impl Sink, batch: &[u8], lines: u64) {
        let mut rest = batch;
        let mut done = 0;
        while !rest.is_empty() {
            let (len, count) = chunk(rest);
            let result = sink.write_chunk(&rest[..len]);
            let mut state = self.lock();
            if state.abandoned {
                return; // counted by `stop`
            }
            let counter = match result {
                Ok(()) => &self.counts.written,
                Err(error) => {
                    if !self.warned.swap(true, Ordering::Relaxed) {
                        diag!(
                            Error,
                            "log lines could not be written to stdout ({error}): they are counted \
                             as failed in Guard::stats(), and this is said only once"
                        );
                    }
                    &self.counts.failed
                }
            };
            counter.fetch_add(count, Ordering::Relaxed);
            done += count;
            state.in_flight = lines - done;
            drop(state);
            rest = &rest[len..];
        }
    }
}

/// The longest run of whole lines at the start of `bytes` that fits in
/// `PIPE_BUF`, or the first line alone when it is longer: its length, and
/// how many lines it holds.
fn chunk(bytes: &[u8]) -> (usize, u64) {
    let mut len = 0;
    let mut count = 0;
    for end in memchr::memchr_iter(b'\n', bytes).map(|i| i + 1) {
        if end > PIPE_BUF && count > 0 {
            break;
        }
        len = end;
        count += 1;
        if end >= PIPE_BUF {
            break;
        }
    }
    if count == 0 {
        // Every line ends with '\n'; a stray tail is written as one line.
        (bytes.len(), 1)
    } else {
        (len, count)
    }
}

/// The writer thread, owned by the [`Guard`](crate::Guard).
pub(crate) struct WriterThread {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for WriterThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterThread").finish_non_exhaustive()
    }
}

impl WriterThread {
    /// Waits until every line buffered so far is written, or `deadline`;
    /// the lines still buffered then.
    pub(crate) fn flush(&self, deadline: Instant) -> Unwritten {
        Unwritten(self.wait(self.shared.lock(), deadline).1)
    }

    /// Waits with `state` until nothing is left to write or `deadline`.
    fn wait<'a>(
        &'a self,
        mut state: MutexGuard<'a, State>,
        deadline: Instant,
    ) -> (MutexGuard<'a, State>, u64) {
        loop {
            let left = state.pending_lines + state.in_flight;
            let now = Instant::now();
            if left == 0 || now >= deadline || state.abandoned {
                return (state, left);
            }
            state = self
                .shared
                .written
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Stops taking lines (later ones are dropped and counted); the thread
    /// goes on writing what is buffered. Returns at once.
    pub(crate) fn begin_stop(&self) {
        self.shared.lock().stop = true;
        self.shared.lines.notify_one();
    }

    /// Stops taking lines and writes what is buffered until `deadline`. What
    /// is left then is counted as failed and abandoned: the lines of the one
    /// write under way may still reach the reader if it wakes before the
    /// process exits. Joins the thread when it finished in time; a thread
    /// still blocked on a stalled pipe is left to the process's exit.
    pub(crate) fn stop(&mut self, deadline: Instant) -> Unwritten {
        self.begin_stop();
        let (mut state, left) = self.wait(self.shared.lock(), deadline);
        if left > 0 && !state.abandoned {
            state.abandoned = true;
            state.pending = Vec::new();
            state.pending_lines = 0;
            state.in_flight = 0;
            self.shared.counts.failed.fetch_add(left, Ordering::Relaxed);
        }
        drop(state);
        if left == 0 {
            if let Some(thread) = self.thread.take() {
                // Nothing is left to write: the thread returns now.
                let _ = thread.join();
            }
        }
        Unwritten(left)
    }
}

impl Drop for WriterThread {
    /// A writer whose guard is gone (an `init` that failed later) must not
    /// wait for lines forever.
    fn drop(&mut self) {
        self.begin_stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    /// Collects what is written; blocks while `gate` holds.
    struct Gated {
        out: Arc<Mutex<Vec<u8>>>,
        gate: mpsc::Receiver<()>,
        open: bool,
        fail: bool,
    }

    impl Sink for Gated {
        fn write_chunk(&mut self, chunk: &[u8]) -> io::Result<()> {
            if !self.open {
                // Wait for the test to open the gate (or to give up).
                self.open = self.gate.recv().is_ok();
            }
            if self.fail {
                return Err(io::Error::from(io::ErrorKind::BrokenPipe));
            }
            assert!(chunk.ends_with(b"\n"));
            self.out
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend_from_slice(chunk);
            Ok(())
        }
    }

    /// A writer on a gated sink: what it wrote, the gate, the counts.
    type Started = (
        NonBlocking,
        WriterThread,
        Arc<Mutex<Vec<u8>>>,
        mpsc::Sender<()>,
        Arc<LineCounts>,
    );

    fn start(capacity: usize, fail: bool) -> Started {
        let out = Arc::new(Mutex::new(Vec::new()));
        let (open, gate) = mpsc::channel();
        let counts = Arc::new(LineCounts::default());
        let sink = Gated {
            out: Arc::clone(&out),
            gate,
            open: false,
            fail,
        };
        let (writer, thread) =
            NonBlocking::start(sink, capacity, Arc::clone(&counts)).expect("thread");
        (writer, thread, out, open, counts)
    }

    fn line(i: usize) -> Vec<u8> {
        format!("{{\"i\":{i}}}\n").into_bytes()
    }

    #[test]
    fn chunks_are_whole_lines_within_pipe_buf() {
        let lines: Vec<u8> = (0..1000).flat_map(line).collect();
        let mut rest = &lines[..];
        let mut total = 0;
        while !rest.is_empty() {
            let (len, count) = chunk(rest);
            assert!(len <= PIPE_BUF && rest[len - 1] == b'\n');
            assert_eq!(
                memchr::memchr_iter(b'\n', &rest[..len]).count() as u64,
                count
            );
            total += count;
            rest = &rest[len..];
        }
        assert_eq!(total, 1000);
        let long = [vec![b'x'; 10_000], b"\n".to_vec(), line(1)].concat();
        assert_eq!(chunk(&long), (10_001, 1));
        assert_eq!(chunk(b"tail without newline"), (20, 1));
    }

    #[test]
    fn a_stalled_sink_drops_and_counts_then_shutdown_counts_the_rest() {
        let (writer, mut thread, out, open, counts) = start(1000, false);
        for i in 0..500 {
            writer.write_line(&line(i));
        }
        // The first batch is taken and blocks; the buffer fills behind it.
        let unwritten = thread.flush(Instant::now() + Duration::from_millis(20));
        assert!(unwritten.0 > 0);
        let dropped = counts.dropped.load(Ordering::Relaxed);
        assert!(dropped > 0, "a 1000-byte buffer can not hold 500 lines");
        let unwritten = thread.stop(Instant::now() + Duration::from_millis(20));
        assert_eq!(
            dropped + unwritten.0,
            500,
            "every line not written is dropped or unwritten"
        );
        assert_eq!(counts.failed.load(Ordering::Relaxed), unwritten.0);
        writer.write_line(&line(500));
        assert_eq!(
            counts.dropped.load(Ordering::Relaxed),
            dropped + 1,
            "after stop"
        );
        drop(open);
        assert_eq!(counts.written.load(Ordering::Relaxed), 0);
        drop(out);
    }

    #[test]
    fn an_open_sink_gets_every_line_in_order() {
        let (writer, mut thread, out, open, counts) = start(CAPACITY, false);
        open.send(()).expect("gate");
        let lines: Vec<Vec<u8>> = (0..20_000).map(line).collect();
        for l in &lines {
            writer.write_line(l);
        }
        assert_eq!(
            thread.stop(Instant::now() + Duration::from_secs(30)),
            Unwritten(0)
        );
        assert_eq!(
            *out.lock().unwrap_or_else(PoisonError::into_inner),
            lines.concat()
        );
        assert_eq!(counts.written.load(Ordering::Relaxed), 20_000);
        assert_eq!(counts.dropped.load(Ordering::Relaxed), 0);
        assert!(thread.thread.is_none(), "joined");
    }

    #[test]
    fn a_closed_pipe_fails_and_counts_each_line_once() {
        let (writer, mut thread, _out, open, counts) = start(CAPACITY, true);
        open.send(()).expect("gate");
        for i in 0..1000 {
            writer.write_line(&line(i));
        }
        assert_eq!(
            thread.stop(Instant::now() + Duration::from_secs(30)),
            Unwritten(0)
        );
        assert_eq!(counts.failed.load(Ordering::Relaxed), 1000);
        assert_eq!(counts.written.load(Ordering::Relaxed), 0);
    }
}
