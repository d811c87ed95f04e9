//! Reading big line files fast: each file is cut into ranges of whole lines,
//! read in large blocks by one thread per core, with no per-line work unless
//! the caller wants it (`tracelink show` looks for its trace id in a whole
//! block with `memchr::memmem`, and parses only the lines it is in).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Bytes a thread takes at a time.
const RANGE: u64 = 32 << 20;
/// The read buffer; it grows for a line longer than this.
const BLOCK: usize = 4 << 20;

/// Part of a file: the lines that start in `start..end`.
#[derive(Clone, Debug)]
pub(crate) struct Range {
    /// Index of the file in the list given to [`ranges`].
    pub(crate) file: usize,
    pub(crate) path: PathBuf,
    pub(crate) start: u64,
    pub(crate) end: u64,
}

/// Whole lines of a file, read together.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Block<'a> {
    /// Index of the file in the list given to [`ranges`].
    pub(crate) file: usize,
    /// Where `bytes` start in the file.
    pub(crate) offset: u64,
    pub(crate) bytes: &'a [u8],
}

/// Cuts `files` into ranges. A file that is not there (any more: a live
/// writer rotates its files) has none.
///
/// # Errors
///
/// A file that can not be read, naming it.
pub(crate) fn ranges(files: &[PathBuf]) -> Result<Vec<Range>, String> {
    let mut ranges = Vec::new();
    for (index, path) in files.iter().enumerate() {
        let len = match std::fs::metadata(path) {
            Ok(metadata) => metadata.len(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let mut start = 0;
        loop {
            let end = (start + RANGE).min(len);
            ranges.push(Range {
                file: index,
                path: path.clone(),
                start,
                end,
            });
            if end >= len {
                break;
            }
            start = end;
        }
    }
    Ok(ranges)
}

/// Runs `work` on every block of every range, on as many threads as there
/// are cores, each thread with its own state from `init`; returns the
/// states.
///
/// # Errors
///
/// The first I/O error, naming the file.
pub(crate) fn parallel<S: Send>(
    ranges: &[Range],
    init: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, Block<'_>) + Sync,
) -> Result<Vec<S>, String> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(ranges.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let error: Mutex<Option<String>> = Mutex::new(None);
    let states = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut state = init();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(range) = ranges.get(i) else { break };
                        let result = read_range(range, |offset, bytes| {
                            let block = Block {
                                file: range.file,
                                offset,
                                bytes,
                            };
                            work(&mut state, block);
                        });
                        if let Err(e) = result {
                            let mut error = error
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner);
                            error.get_or_insert(format!(
                                "cannot read {}: {e}",
                                range.path.display()
                            ));
                            break;
                        }
                    }
                    state
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect::<Vec<S>>()
    });
    match error
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
    {
        Some(error) => Err(error),
        None => Ok(states),
    }
}

/// Calls `f` with blocks of whole lines and where each starts in the file,
/// together exactly the lines that start in the range. Each line in a block
/// ends with `\n`, but a file's last line may not. A file that is not there
/// any more (rotated away by a live writer) has no lines.
pub(crate) fn read_range(range: &Range, mut f: impl FnMut(u64, &[u8])) -> io::Result<()> {
    let mut file = match open(&range.path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    // A range that does not start the file starts after the first newline
    // at or after `start - 1`: the line around `start` belongs to the range
    // before.
    let mut base = range.start.saturating_sub(1);
    file.seek(SeekFrom::Start(base))?;
    let mut skipping = range.start > 0;
    let mut buf = vec![0u8; BLOCK];
    let mut filled = 0;
    loop {
        if filled == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = read_some(&mut file, &mut buf[filled..])?;
        filled += n;
        let eof = n == 0;
        let mut first = 0;
        if skipping {
            match memchr::memchr(b'\n', &buf[..filled]) {
                Some(i) => {
                    first = i + 1;
                    skipping = false;
                }
                None if eof => return Ok(()),
                None => {
                    base += filled as u64;
                    filled = 0;
                    continue;
                }
            }
        }
        // Lines starting at `limit` or later belong to the next range.
        let limit = range.end.saturating_sub(base) as usize;
        if first >= limit {
            return Ok(());
        }
        let complete = if eof {
            filled
        } else {
            match memchr::memrchr(b'\n', &buf[first..filled]) {
                Some(i) => first + i + 1,
                None => first,
            }
        };
        let (end, done) = if complete >= limit && limit > first {
            // The line holding byte `limit - 1` is the range's last.
            match memchr::memchr(b'\n', &buf[limit - 1..complete]) {
                Some(i) => (limit + i, true),
                None if eof => (complete, true),
                None => (first, false),
            }
        } else {
            (complete, eof)
        };
        if end > first {
            // `buf` starts at `base` in the file.
            f(base + first as u64, &buf[first..end]);
        }
        if done {
            return Ok(());
        }
        buf.copy_within(end..filled, 0);
        filled -= end;
        base += end as u64;
    }
}

/// What `path` is when it is not a regular file (after links): `a FIFO`,
/// `a directory`, ...; `None` for a regular file, or one not there.
pub(crate) fn not_regular(path: &Path) -> Option<&'static str> {
    let kind = std::fs::metadata(path).ok()?.file_type();
    if kind.is_file() {
        return None;
    }
    if kind.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return Some("a FIFO");
        }
        if kind.is_socket() {
            return Some("a socket");
        }
        if kind.is_char_device() || kind.is_block_device() {
            return Some("a device");
        }
    }
    Some("not a file")
}

/// Opens `path` for reading, if it is a regular file: without waiting
/// for a writer, as opening a FIFO would (`O_NONBLOCK`, which a regular
/// file's reads ignore), and checked on the open file, so a file replaced
/// by something else after it was listed is refused too.
///
/// # Errors
///
/// When it can not be opened, or is not a regular file.
pub(crate) fn open(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    let file = options.open(path)?;
    if file.metadata()?.is_file() {
        Ok(file)
    } else {
        Err(io::Error::other("not a regular file"))
    }
}

fn read_some(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match file.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

/// The lines of a block, without their newline; empty ones skipped.
pub(crate) fn lines(block: &[u8]) -> impl Iterator<Item = &[u8]> {
    block
        .split(|&b| b == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
}

/// The line of `block` around byte `at`, without its newline, and where it ends.
pub(crate) fn line_at(block: &[u8], at: usize) -> (&[u8], usize) {
    let start = memchr::memrchr(b'\n', &block[..at]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &block[at..]).map_or(block.len(), |i| at + i);
    (&block[start..end], end)
}

/// A file's display name: the path as given.
pub(crate) fn name(path: &Path) -> String {
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str, content: &[u8]) -> PathBuf {
        let path =
            std::env::temp_dir().join(format!("tracelink-cli-scan-{name}-{}", std::process::id()));
        std::fs::write(&path, content).unwrap();
        path
    }

    /// Every line, read through ranges cut at every possible offset.
    #[test]
    fn ranges_split_anywhere_give_each_line_once() {
        let content = b"alpha\nbeta\n\ngamma delta\nepsilon\nlast-without-newline";
        let path = temp_file("split", content);
        let expected: Vec<&[u8]> = lines(content).collect();
        for a in 0..=content.len() as u64 {
            for b in a..=content.len() as u64 {
                let cuts = [(0, a), (a, b), (b, content.len() as u64)];
                let mut got: Vec<Vec<u8>> = Vec::new();
                for (start, end) in cuts {
                    let range = Range {
                        file: 0,
                        path: path.clone(),
                        start,
                        end,
                    };
                    read_range(&range, |_, block| {
                        got.extend(lines(block).map(<[u8]>::to_vec));
                    })
                    .unwrap();
                }
                assert_eq!(got, expected, "cut at {a} and {b}");
            }
        }
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn a_line_longer_than_the_block_is_read_whole() {
        let mut content = vec![b'x'; BLOCK * 2 + 17];
        content.push(b'\n');
        content.extend_from_slice(b"short\n");
        let path = temp_file("long", &content);
        let range = ranges(std::slice::from_ref(&path)).unwrap();
        let mut got = Vec::new();
        for range in &range {
            read_range(range, |_, block| got.extend(lines(block).map(<[u8]>::len))).unwrap();
        }
        assert_eq!(got, [BLOCK * 2 + 17, 5]);
        std::fs::remove_file(path).unwrap();
    }

    /// Each block says where it starts: its lines are found there in the
    /// file, also past the first block of a range.
    #[test]
    fn block_offsets_are_where_the_blocks_start_in_the_file() {
        let mut content = Vec::new();
        let mut i = 0;
        while content.len() < BLOCK * 2 + BLOCK / 2 {
            content.extend_from_slice(format!("line {i:07} {}\n", "x".repeat(i % 300)).as_bytes());
            i += 1;
        }
        let path = temp_file("offsets", &content);
        let ranges = ranges(std::slice::from_ref(&path)).unwrap();
        let mut blocks = 0;
        let mut next = 0;
        for range in &ranges {
            read_range(range, |offset, block| {
                blocks += 1;
                assert_eq!(offset, next, "blocks follow each other");
                let start = offset as usize;
                assert_eq!(&content[start..start + block.len()], block);
                next = offset + block.len() as u64;
            })
            .unwrap();
        }
        assert!(blocks >= 3, "{blocks} blocks");
        assert_eq!(next, content.len() as u64);
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn a_file_gone_has_no_lines() {
        let path = temp_file("gone", b"one\ntwo\n");
        let missing = path.with_extension("missing");
        let ranges = ranges(&[missing.clone(), path.clone()]).unwrap();
        assert!(ranges.iter().all(|r| r.path == path), "{ranges:?}");
        // Rotated away between listing and reading.
        std::fs::remove_file(&path).unwrap();
        let mut got = 0;
        for range in &ranges {
            read_range(range, |_, block| got += block.len()).unwrap();
        }
        assert_eq!(got, 0);
        let states = parallel(&ranges, || 0, |n: &mut usize, b| *n += b.bytes.len()).unwrap();
        assert_eq!(states.iter().sum::<usize>(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn only_regular_files_are_opened() {
        let dir =
            std::env::temp_dir().join(format!("tracelink-cli-scan-kinds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let zero = dir.join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let file = dir.join("file");
        std::fs::write(&file, "line\n").unwrap();
        assert_eq!(not_regular(&fifo), Some("a FIFO"));
        assert_eq!(not_regular(&dir), Some("a directory"));
        assert_eq!(not_regular(&zero), Some("a device"));
        assert_eq!(not_regular(&file), None);
        // Opening the FIFO returns at once, refused; it does not wait for
        // a writer.
        for path in [&fifo, &dir, &zero] {
            assert_eq!(open(path).unwrap_err().to_string(), "not a regular file");
        }
        assert!(open(&file).is_ok());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn line_at_finds_the_whole_line() {
        let block = b"one\ntwo three\nfour";
        assert_eq!(line_at(block, 6), (&b"two three"[..], 13));
        assert_eq!(line_at(block, 0), (&b"one"[..], 3));
        assert_eq!(line_at(block, 16), (&b"four"[..], 18));
    }
}
