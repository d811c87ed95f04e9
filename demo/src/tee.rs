//! Log lines to stdout and to a file.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use tracing_subscriber::fmt::MakeWriter;

/// A `MakeWriter` that writes each line to stdout and to a file, with one
/// `write_all` to each, so lines from different threads never mix.
#[derive(Debug)]
pub(crate) struct Tee {
    file: Mutex<File>,
}

impl Tee {
    /// Creates the file, and its directory; empties it if it exists.
    pub(crate) fn create(path: &Path) -> io::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        Ok(Self {
            file: Mutex::new(File::create(path)?),
        })
    }
}

impl<'a> MakeWriter<'a> for Tee {
    type Writer = TeeLine<'a>;

    fn make_writer(&'a self) -> TeeLine<'a> {
        TeeLine(&self.file)
    }
}

/// Writes what it gets, a whole line, to both.
pub(crate) struct TeeLine<'a>(&'a Mutex<File>);

impl Write for TeeLine<'_> {
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        // Both, even if stdout is closed (`| head`).
        let stdout = io::stdout().lock().write_all(line);
        let file = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .write_all(line);
        stdout.and(file).map(|()| line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
