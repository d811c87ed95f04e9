//! `tracelink show` and `traces` on a store that is hostile or broken: a
//! 50,000-deep chain of parents, names made to fool a terminal, a value out
//! of range in one span of a line, log records with bad ids, values out of
//! range or of the wrong type, a body of megabytes and text made to fool a
//! terminal, and a FIFO, a directory and a link to `/dev/zero` named like
//! the store's rotated files. Each must come out drawn, escaped, one span
//! or record short, or skipped, never hung, crashed or with the whole line
//! lost.
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

/// Log records of every kind of bad: text made to fool a terminal in each
/// string `show` prints of a record (severity, body, attribute key and
/// value, event name, service), a span id that is not hex, a body of
/// 4 MB with control characters in it (cut to the width, 1,000 columns
/// here so that every hostile string fits), and values out of range or of the
/// wrong type. Each bad value skips its record alone, counted; a bad id is
/// no span; everything shown is escaped and cut to the width; a line that
/// is not OTLP/JSON is one line skipped; `traces` is not confused by any.
#[test]
fn hostile_log_records_skip_one_record_each() {
    let dir = TempDir::new("hostile-logs");
    let store = dir.path("traces.jsonl");
    write_store(
        &store,
        1 << 30,
        &[request(vec![(
            "shop",
            vec![span(TRACE, &id(0), None, "GET /cart", 0.0, 10.0)],
        )])],
    );
    let h = serde_json_string(HOSTILE);
    let time = |ms: u64| format!(r#""timeUnixNano":"{}""#, T0 + ms * MS);
    let record = |fields: &str| format!(r#"{{"traceId":"{TRACE}",{fields}}}"#);
    let huge = format!(r"{}\u001b[2J{}", "b".repeat(4 << 20), "c".repeat(1000));
    let records = [
        // Good, hostile text everywhere.
        record(&format!(
            r#"{},"severityNumber":17,"severityText":{h},"body":{{"stringValue":{h}}},"spanId":"{}","attributes":[{{"key":{h},"value":{{"stringValue":{h}}}}}],"eventName":{h}"#,
            time(1),
            id(0)
        )),
        // A span id that is not hex: a record of no span.
        record(&format!(
            r#"{},"severityNumber":9,"body":{{"stringValue":"bad span id"}},"spanId":"zzzzzzzzzzzzzzzz""#,
            time(2)
        )),
        // A body of megabytes.
        record(&format!(
            r#"{},"severityNumber":9,"body":{{"stringValue":"{huge}"}},"spanId":"{}""#,
            time(3),
            id(0)
        )),
        // Bad values: each skips its record.
        record(
            r#""body":{"stringValue":"x"},"attributes":[{"key":"n","value":{"intValue":"99999999999999999999"}}]"#,
        ),
        record(r#""severityNumber":"loud","body":{"stringValue":"x"}"#),
        record(r#""severityNumber":99999999999999999999,"body":{"stringValue":"x"}"#),
        record(r#""body":5"#),
        record(r#""timeUnixNano":-5,"body":{"stringValue":"x"}"#),
        record(r#""body":{"stringValue":"x"},"spanId":7"#),
    ];
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&store)
        .unwrap();
    writeln!(
        file,
        r#"{{"resourceLogs":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":{h}}}}}]}},"scopeLogs":[{{"scope":{{}},"logRecords":[{}]}}]}}]}}"#,
        records.join(",")
    )
    .unwrap();
    // A trace id with two hex digits too many: not this trace.
    writeln!(
        file,
        r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{{"traceId":"{TRACE}ab","body":{{"stringValue":"another trace"}}}}]}}]}}]}}"#
    )
    .unwrap();
    // Not OTLP/JSON: the lists are not lists.
    writeln!(file, r#"{{"resourceLogs":5,"traceId":"{TRACE}"}}"#).unwrap();
    writeln!(
        file,
        r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":{{"traceId":"{TRACE}"}}}}]}}]}}"#
    )
    .unwrap();
    drop(file);

    for color in ["never", "always"] {
        let run = run_within(
            tracelink()
                .args(["show", TRACE, "--width=1000", "--color", color, "--store"])
                .arg(&store),
            HANG,
        );
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!(
                "tracelink: skipped 6 log records of {} with a value that is not OTLP/JSON",
                store.display()
            )),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("skipped 2 lines of"), "{}", run.stderr);
        assert!(!run.stderr.chars().any(unsafe_char), "{}", run.stderr);
        let plain: String = if color == "never" {
            run.stdout.clone()
        } else {
            strip_sgr(&run.stdout)
        };
        assert!(plain.contains("· 3 log records"), "{plain}");
        // Severity, event name, body, attribute key and value under the
        // span; the service with the record of no span.
        let under: Vec<&str> = details(&plain, "GET /cart");
        let hostile = under
            .iter()
            .find(|l| l.contains("▸ +1.000ms"))
            .unwrap_or_else(|| panic!("the hostile record:\n{plain}"));
        assert!(hostile.matches(&SHOWN[..24]).count() >= 4, "{hostile}");
        let big = under
            .iter()
            .find(|l| l.contains("▸ +3.000ms"))
            .unwrap_or_else(|| panic!("the huge record:\n{plain}"));
        assert!(big.ends_with('…'), "cut to the width: {big}");
        assert!(plain.contains("  no span"), "{plain}");
        assert!(plain.contains("bad span id"), "{plain}");
        assert!(!plain.contains("another trace"), "{plain}");
        for line in plain.lines() {
            assert!(
                line.chars().count() <= 1000,
                "{} columns: {line}",
                line.chars().count()
            );
        }
        let mut chars = run.stdout.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' && color == "always" {
                assert_eq!(chars.next(), Some('['), "{}", run.stdout);
                let code: String = chars.by_ref().take_while(|c| *c != 'm').collect();
                assert!(
                    code.chars().all(|c| c.is_ascii_digit() || c == ';'),
                    "{code:?}"
                );
                continue;
            }
            assert!(!unsafe_char(c), "{color}: {c:?} reached the terminal");
        }
    }

    // `traces` reads every line: the log lines are none of its business.
    let run = run_within(tracelink().args(["traces", "--store"]).arg(&store), HANG);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let listed: Vec<&str> = run.stdout.lines().skip(1).collect();
    assert_eq!(listed.len(), 1, "{}", run.stdout);
    assert!(listed[0].starts_with(TRACE) && listed[0].contains("GET /cart"));
}

/// `text` without the SGR sequences the command paints with.
fn strip_sgr(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
