//! A discarding log writer every setup shares, with a switch that captures
//! what it is given, to check each setup writes what it should. Shared by
//! `log_line.rs` and `request.rs`.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use tracing_subscriber::fmt::MakeWriter;

static CAPTURE: AtomicBool = AtomicBool::new(false);
static CAPTURED: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// `std::io::sink`, behind one relaxed load that can divert it to `CAPTURED`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Out;

pub(crate) enum OutWriter {
    Sink(io::Sink),
    Capture,
}

impl io::Write for OutWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            OutWriter::Sink(sink) => sink.write(buf),
            OutWriter::Capture => {
                CAPTURED.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            OutWriter::Sink(sink) => sink.write_all(buf),
            OutWriter::Capture => self.write(buf).map(drop),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Out {
    type Writer = OutWriter;

    fn make_writer(&'a self) -> OutWriter {
        if CAPTURE.load(Ordering::Relaxed) {
            OutWriter::Capture
        } else {
            OutWriter::Sink(io::sink())
        }
    }
}

/// Runs `f` with `Out` capturing, and returns what was written.
pub(crate) fn capture(f: impl FnOnce()) -> String {
    CAPTURED.lock().unwrap().clear();
    CAPTURE.store(true, Ordering::Relaxed);
    f();
    CAPTURE.store(false, Ordering::Relaxed);
    String::from_utf8(std::mem::take(&mut *CAPTURED.lock().unwrap())).expect("UTF-8 output")
}
