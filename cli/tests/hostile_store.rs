//! `tracelink show` and `traces` on a store that is hostile or broken: a
//! 50,000-deep chain of parents, names made to fool a terminal, a value out
//! of range in one span of a line, and a FIFO, a directory and a link to
//! `/dev/zero` named like the store's rotated files. Each must come out
//! drawn, escaped, one span short, or skipped, never hung, crashed or
//! with the whole line lost.
//!
//! Every run is in a child process (the default 8 MiB main-thread stack),
//! killed by its PID if it hangs.

mod support;

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Duration;

use support::*;

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
/// Only stops a hung test.
const HANG: Duration = Duration::from_secs(300);

fn id(n: u64) -> String {
    format!("{:016x}", n + 1)
}

/// A chain of 50,000 spans, each the parent of the next, in batches of 512
/// as the export thread writes them: drawn whole, each at its place in the
/// tree, with no line wider than the terminal and no stack overflow. (The
/// tree lines used to grow with the depth, so drawing cost its square: at
/// 20,000 levels 28 s to a minute and 1.8 GiB, at 50,000 an abort.)
#[test]
fn a_tree_50000_deep_is_shown() {
    const DEPTH: u64 = 50_000;
    let dir = TempDir::new("deep");
    let store = dir.path("traces.jsonl");
    let spans: Vec<_> = (0..DEPTH)
        .map(|i| {
            let parent = (i > 0).then(|| id(i - 1));
            span(
                TRACE,
                &id(i),
                parent.as_deref(),
                &format!("s{i}"),
                i as f64 * 0.001,
                100.0 - i as f64 * 0.001,
            )
        })
        .collect();
    let requests: Vec<_> = spans
        .chunks(512)
        .map(|chunk| request(vec![("deep", chunk.to_vec())]))
        .collect();
    write_store(&store, 1 << 30, &requests);

    let run = run_within(
        tracelink().args(["show", TRACE, "--store"]).arg(&store),
        HANG,
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let rows = rows(&run.stdout);
    assert_eq!(rows.len(), DEPTH as usize);
    let names: Vec<&str> = rows.iter().map(Row::name).collect();
    assert_eq!(names[0], "s0");
    assert_eq!(names[DEPTH as usize - 1], "s49999");
    assert!(names.iter().enumerate().all(|(i, n)| *n == format!("s{i}")));
    // Deep rows draw the nearest levels after a `…`, and keep their name.
    assert!(rows[DEPTH as usize - 1].tree_name.starts_with('…'));
    for line in run.stdout.lines() {
        assert!(line.chars().count() <= 80, "{line}");
    }
    assert!(run.stdout.contains("50000 spans"), "the summary");

    let run = run_within(tracelink().args(["traces", "--store"]).arg(&store), HANG);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains(&format!("{TRACE}  ")), "{}", run.stdout);
}

/// Characters that would drive the terminal: ESC sequences (clear the
/// screen, retitle the window), C1 controls, BEL, and the bidirectional
/// overrides and isolates that make text show in another order.
const HOSTILE: &str = "a\u{1b}[2J\u{1b}]0;owned\u{7}\u{9b}31m\u{202e}gnp.exe\u{202c}\u{2066}x\u{2069}\u{202a}\u{202b}\u{202d}\u{2067}\u{2068}z";
/// How each shows, escaped.
const SHOWN: &str = "a\\x1b[2J\\x1b]0;owned\\x07\\x9b31m\\u{202e}gnp.exe\\u{202c}\\u{2066}x\\u{2069}\\u{202a}\\u{202b}\\u{202d}\\u{2067}\\u{2068}z";

fn unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\n') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Every string a store or a log line holds that `show` prints, made of
/// [`HOSTILE`] characters: each comes out escaped, and nothing but the
/// command's own colours reaches the terminal.
#[test]
fn hostile_names_are_escaped() {
    let dir = TempDir::new("hostile");
    let store = dir.path("traces.jsonl");
    let root_id = id(0);
    let mut root = span(TRACE, &root_id, None, HOSTILE, 0.0, 10.0);
    root.kind = 2;
    root.attributes = vec![s("http.route", HOSTILE), s(&format!("http.{HOSTILE}"), "v")];
    root.status = Some(error_status(HOSTILE));
    root.events = vec![event(T0 + MS, HOSTILE, vec![s("reason", HOSTILE)])];
    let child = span(TRACE, &id(1), Some(&root_id), "child", 1.0, 2.0);
    write_store(
        &store,
        1 << 30,
        &[request(vec![(HOSTILE, vec![root, child])])],
    );
    let json = |text: &str| serde_json_string(text);
    let log = dir.path("app.log");
    std::fs::write(
        &log,
        format!(
            r#"{{"timestamp":"2026-11-21T09:30:00.001Z","level":{h},"message":{h},"{hk}":{h},"span":{{"name":{h}}},"trace_id":"{TRACE}","span_id":"{}"}}
{{"timestamp":"2026-11-21T09:30:00.002Z","level":"INFO","message":"gone span","trace_id":"{TRACE}","span_id":"00000000000000ff","span":{{"name":{h}}}}}
"#,
            id(0),
            h = json(HOSTILE),
            hk = HOSTILE.replace('\u{1b}', "\\u001b").replace('\u{7}', "\\u0007").replace('\u{9b}', "\\u009b"),
        ),
    )
    .unwrap();

    for color in ["never", "always"] {
        let run = run_within(
            tracelink()
                .args(["show", TRACE, "--width=400", "--color", color, "--store"])
                .arg(&store)
                .arg("--logs")
                .arg(&log),
            HANG,
        );
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        // The name, the service, the route, the attribute key, the status,
        // the event and its value, the log line's level, message, field,
        // and the span names of the log lines.
        let shown = |text: &str| run.stdout.matches(text).count();
        assert!(shown(SHOWN) >= 4, "{color}: whole:\n{}", run.stdout);
        assert!(
            shown(&SHOWN[..24]) >= 10,
            "{color}: {}:\n{}",
            shown(&SHOWN[..24]),
            run.stdout
        );
        let mut chars = run.stdout.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' && color == "always" {
                // The command's own SGR colours: ESC [ digits ; m.
                assert_eq!(chars.next(), Some('['), "{}", run.stdout);
                let code: String = chars.by_ref().take_while(|c| *c != 'm').collect();
                assert!(
                    code.chars().all(|c| c.is_ascii_digit() || c == ';'),
                    "{code:?}"
                );
                continue;
            }
            assert!(
                !unsafe_char(c),
                "{color}: {c:?} reached the terminal:\n{}",
                run.stdout
            );
        }
    }

    // `traces` lists the root's name and service escaped too.
    let run = run_within(tracelink().args(["traces", "--store"]).arg(&store), HANG);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(!run.stdout.chars().any(unsafe_char), "{}", run.stdout);
    assert!(run.stdout.contains("a\\x1b[2J"), "{}", run.stdout);
}

/// `text` as a JSON string, quotes included.
fn serde_json_string(text: &str) -> String {
    let mut out = String::from('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A line of three spans, the second with an attribute out of the range of
/// an int64 and the third with a negative start time: those two are left
/// out and counted, the first is drawn; the line is not taken for one cut
/// short by a crash. (The whole line used to go, and with it the trace.)
#[test]
fn one_bad_value_skips_one_span() {
    let dir = TempDir::new("bad-value");
    let store = dir.path("traces.jsonl");
    let span_json = |n: u64, extra: &str| {
        format!(
            r#"{{"traceId":"{TRACE}","spanId":"{}","name":"span {n}","startTimeUnixNano":"{}","endTimeUnixNano":"{}"{extra}}}"#,
            id(n),
            T0 + n * MS,
            T0 + (n + 1) * MS
        )
    };
    let line = format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"shop"}}}},{{"key":"process.pid","value":{{"intValue":"123456789012345678901234"}}}}]}},"scopeSpans":[{{"spans":[{},{},{}]}}]}}]}}"#,
        span_json(0, ""),
        span_json(
            1,
            r#","attributes":[{"key":"http.response.status_code","value":{"intValue":"99999999999999999999"}}]"#
        ),
        span_json(2, "").replace(
            &format!(r#""startTimeUnixNano":"{}""#, T0 + 2 * MS),
            r#""startTimeUnixNano":-5"#
        ),
    );
    let mut file = std::fs::File::create(&store).unwrap();
    writeln!(file, "{line}").unwrap();
    // A line cut short, as a crash leaves it: still one line skipped.
    writeln!(file, "{}", &line[..line.len() / 2]).unwrap();
    drop(file);

    let run = run_within(
        tracelink()
            .args(["show", TRACE, WIDE, "--store"])
            .arg(&store),
        HANG,
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let names: Vec<String> = rows(&run.stdout)
        .iter()
        .map(|r| r.name().to_owned())
        .collect();
    assert_eq!(names, ["span 0"], "{}", run.stdout);
    let service: Vec<String> = rows(&run.stdout)
        .iter()
        .map(|r| r.service.clone())
        .collect();
    assert_eq!(
        service,
        ["shop"],
        "a bad resource attribute leaves the rest"
    );
    assert!(
        run.stderr.contains(&format!(
            "tracelink: skipped 2 spans of {} with a value that is not OTLP/JSON (the first: number too large to fit in target type)",
            store.display()
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("skipped 1 line of"),
        "the cut line alone: {}",
        run.stderr
    );

    let run = run_within(tracelink().args(["traces", "--store"]).arg(&store), HANG);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains(TRACE), "{}", run.stdout);
    assert!(
        run.stderr.contains("skipped 1 span of"),
        "the summary skips the span with a negative start: {}",
        run.stderr
    );
}

/// A FIFO, a directory and a link to `/dev/zero`, named like rotated
/// files of the store: skipped with a note each, the store itself read.
/// (Opening the FIFO used to block `show` for good; the directory failed
/// it.)
#[cfg(unix)]
#[test]
fn a_fifo_in_the_store_dir_is_skipped() {
    let dir = TempDir::new("fifo");
    let store = dir.path("traces.jsonl");
    write_store(
        &store,
        1 << 30,
        &[request(vec![(
            "shop",
            vec![span(TRACE, &id(0), None, "GET /", 0.0, 1.0)],
        )])],
    );
    let fifo = dir.path("traces.jsonl.1");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(status.success());
    std::fs::create_dir(dir.path("traces.jsonl.2")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path("traces.jsonl.3")).unwrap();

    for args in [&["show", TRACE][..], &["traces"]] {
        let run = run_within(tracelink().args(args).arg("--store").arg(&store), HANG);
        assert_eq!(run.code, Some(0), "{args:?}: {}", run.stderr);
        assert!(run.stdout.contains("GET /"), "{}", run.stdout);
        for (name, kind) in [("1", "a FIFO"), ("2", "a directory"), ("3", "a device")] {
            let note = format!(
                "tracelink: skipping {}.{name}: {kind}, not a regular file",
                store.display()
            );
            assert!(run.stderr.contains(&note), "{note}\n{}", run.stderr);
        }
    }

    // The store itself a FIFO: skipped too, and said so.
    let lone = TempDir::new("fifo-alone");
    let store = lone.path("traces.jsonl");
    let status = std::process::Command::new("mkfifo")
        .arg(&store)
        .status()
        .expect("mkfifo");
    assert!(status.success());
    let run = run_within(
        tracelink().args(["show", TRACE, "--store"]).arg(&store),
        HANG,
    );
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("a FIFO, not a regular file"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("no trace store at"), "{}", run.stderr);
}
