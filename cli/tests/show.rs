//! `tracelink show`, `jump` and `traces` on a store written by tracelink's
//! own writer: a known trace with two services, an error span with an
//! event, a span whose parent is missing, a line with upper-case ids, a
//! second trace in the same lines, rotated files; and log files in two
//! styles with lines of both traces and lines that are not JSON.

mod support;

use std::io::Write;
use std::process::Stdio;

use opentelemetry_proto::tonic::trace::v1::span;
use support::*;

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const OTHER: &str = "0af7651916cd43dd8448eb211c80319c";
const ROOT: &str = "a100000000000001";
const LOAD_CART: &str = "a100000000000002";
const SELECT: &str = "a100000000000003";
const CHARGE: &str = "a100000000000004";
const FRAUD: &str = "a100000000000005";
const RENDER: &str = "a100000000000006";
const RECEIPT: &str = "a100000000000007";
const MISSING: &str = "b900000000000009";
const AUDIT: &str = "a100000000000008";

struct Fixture {
    dir: TempDir,
}

impl Fixture {
    /// The store: three lines, each in its own file (`traces.jsonl.2`,
    /// `.1`, and `traces.jsonl`), then a hand-written line with upper-case
    /// ids; and two log files.
    fn new(name: &str) -> Self {
        let dir = TempDir::new(name);
        let mut root = span(TRACE, ROOT, None, "GET /checkout", 0.0, 48.0);
        root.kind = span::SpanKind::Server as i32;
        root.attributes = vec![
            s("http.request.method", "GET"),
            s("url.path", "/checkout"),
            int("http.response.status_code", 200),
            s("code.function.name", "shop::checkout"),
            s("user.note", "not a key attribute"),
        ];
        let load_cart = span(TRACE, LOAD_CART, Some(ROOT), "load_cart", 1.0, 13.0);
        let mut select = span(TRACE, SELECT, Some(LOAD_CART), "SELECT carts", 2.0, 11.0);
        select.kind = span::SpanKind::Client as i32;
        select.attributes = vec![
            s("db.system.name", "postgresql"),
            s("db.query.text", "SELECT * FROM carts WHERE id = $1"),
        ];
        let render = span(TRACE, RENDER, Some(ROOT), "render", 45.0, 47.5);
        let other_root = span(OTHER, "c100000000000001", None, "GET /health", 10.0, 15.0);
        let mut charge = span(TRACE, CHARGE, Some(ROOT), "charge", 14.0, 44.0);
        charge.status = Some(error_status("card declined"));
        charge.events = vec![event(
            T0 + 17 * MS,
            "payment declined",
            vec![
                s("level", "ERROR"),
                s("reason", "card expired"),
                s("code.file.path", "src/pay.rs"),
            ],
        )];
        let fraud = span(TRACE, FRAUD, Some(CHARGE), "fraud.check", 15.0, 20.0);
        let receipt = span(TRACE, RECEIPT, Some(MISSING), "send_receipt", 46.0, 50.0);
        // Every line in its own file: the reader must follow the rotation.
        write_store(
            &dir.path("traces.jsonl"),
            1,
            &[
                request(vec![
                    ("shop", vec![root, load_cart, select, render]),
                    ("other", vec![other_root]),
                ]),
                request(vec![("payments", vec![charge, fraud])]),
                request(vec![("worker", vec![receipt])]),
            ],
        );
        // Another writer's line, with upper-case hex ids and numbers as
        // JSON numbers, both of which OTLP/JSON allows.
        let audit = format!(
            r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"audit"}}}}]}},"scopeSpans":[{{"spans":[{{"traceId":"{}","spanId":"{}","parentSpanId":"{}","name":"audit","kind":1,"startTimeUnixNano":{},"endTimeUnixNano":{}}}]}}]}}]}}"#,
            TRACE.to_uppercase(),
            AUDIT.to_uppercase(),
            ROOT.to_uppercase(),
            T0 + 30 * MS,
            T0 + 31 * MS
        );
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path("traces.jsonl"))
            .unwrap();
        writeln!(file, "{audit}").unwrap();

        let line = |ms: f64,
                    level: &str,
                    message: &str,
                    trace: &str,
                    span: Option<&str>,
                    extra: &str| {
            let time = T0 + (ms * MS as f64) as u64;
            let secs = time / 1_000_000_000 - T0 / 1_000_000_000;
            let micros = (time % 1_000_000_000) / 1_000;
            let span = span.map_or(String::new(), |s| format!(r#","span_id":"{s}""#));
            format!(
                r#"{{"timestamp":"2026-11-21T09:30:{secs:02}.{micros:06}Z","level":"{level}","target":"shop","message":"{message}"{extra},"trace_id":"{trace}"{span},"trace_flags":"01"}}"#
            )
        };
        let app = [
            line(
                16.0,
                "ERROR",
                "payment declined",
                TRACE,
                Some(CHARGE),
                r#","reason":"card expired""#,
            ),
            line(0.5, "INFO", "request received", TRACE, Some(ROOT), ""),
            "starting server on :8080".to_owned(),
            line(
                12.0,
                "INFO",
                "other trace",
                OTHER,
                Some("c100000000000001"),
                "",
            ),
            line(
                3.0,
                "INFO",
                "cart loaded",
                TRACE,
                Some(LOAD_CART),
                r#","items":3"#,
            ),
            line(49.0, "INFO", "request done", TRACE, None, ""),
        ];
        std::fs::write(dir.path("app.log"), app.join("\n") + "\n").unwrap();
        let ecs = format!(
            r#"{{"@timestamp":"2026-11-21T09:30:00.046000Z","log.level":"warn","message":"slow render","trace.id":"{TRACE}","span.id":"{RENDER}","ecs.version":"8.11.0"}}"#
        );
        std::fs::write(dir.path("ecs.log"), ecs + "\n").unwrap();
        Self { dir }
    }

    fn store(&self) -> String {
        self.dir.path("traces.jsonl").to_string_lossy().into_owned()
    }

    fn log(&self, name: &str) -> String {
        self.dir.path(name).to_string_lossy().into_owned()
    }
}

#[test]
fn the_store_is_spread_over_rotated_files() {
    let fixture = Fixture::new("files");
    let files = tracelink::store::files(&fixture.dir.path("traces.jsonl"));
    let names: Vec<_> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["traces.jsonl.2", "traces.jsonl.1", "traces.jsonl"]);
}

#[test]
fn show_draws_every_span_in_tree_order_with_durations() {
    let fixture = Fixture::new("tree");
    let run = run(tracelink().args(["show", TRACE, "--store", &fixture.store(), WIDE]));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    assert!(!run.stdout.contains('\x1b'), "no colour into a pipe");
    assert!(run.stdout.starts_with(&format!("trace {TRACE}\n")));
    assert!(
        run.stdout.contains(
            "started 2026-11-21T09:30:00.000000Z · 50.000ms · 8 spans · \
             4 services (shop, payments, audit, worker) · 1 error\n"
        ),
        "{}",
        run.stdout
    );

    let rows = rows(&run.stdout);
    let tree: Vec<(usize, &str, &str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r.depth(),
                r.name(),
                r.service.as_str(),
                r.start.as_str(),
                r.duration.as_str(),
            )
        })
        .collect();
    assert_eq!(
        tree,
        [
            (0, "GET /checkout", "shop", "+0.000ms", "48.000ms"),
            (1, "load_cart", "shop", "+1.000ms", "12.000ms"),
            (2, "SELECT carts", "shop", "+2.000ms", "9.000ms"),
            (1, "charge", "payments", "+14.000ms", "30.000ms"),
            (2, "fraud.check", "payments", "+15.000ms", "5.000ms"),
            (1, "audit", "audit", "+30.000ms", "1.000ms"),
            (1, "render", "shop", "+45.000ms", "2.500ms"),
            (0, "send_receipt", "worker", "+46.000ms", "4.000ms"),
        ]
    );
    assert_eq!(rows[2].tree_name, "│  └─ SELECT carts");
    assert_eq!(rows[6].tree_name, "└─ render");
    // The other trace of the same lines is not there.
    assert!(!run.stdout.contains("GET /health"));
}

#[test]
fn errors_events_attributes_and_orphans_are_marked() {
    let fixture = Fixture::new("marks");
    let run = run(tracelink().args(["show", TRACE, "--store", &fixture.store(), WIDE]));
    assert_eq!(run.code, Some(0));
    let rows = rows(&run.stdout);
    let errors: Vec<&str> = rows
        .iter()
        .filter(|r| r.error)
        .map(support::Row::name)
        .collect();
    assert_eq!(errors, ["charge"]);
    assert!(run.stdout.contains("· 1 error\n"));

    let charge = details(&run.stdout, "charge").join("\n");
    assert!(charge.contains("✗ card declined"), "{charge}");
    assert!(
        charge.contains("• +3.000ms payment declined  level=ERROR  reason=card expired"),
        "{charge}"
    );
    assert!(
        !run.stdout.contains("code."),
        "code.* attributes are left out"
    );

    let root = details(&run.stdout, "GET /checkout").join("\n");
    assert!(root.contains("kind=server"), "{root}");
    assert!(
        root.contains("http.request.method=GET  url.path=/checkout  http.response.status_code=200"),
        "{root}"
    );
    assert!(!root.contains("user.note"), "{root}");
    let select = details(&run.stdout, "SELECT carts").join("\n");
    assert!(
        select
            .contains("db.system.name=postgresql  db.query.text=SELECT * FROM carts WHERE id = $1"),
        "{select}"
    );

    let receipt = details(&run.stdout, "send_receipt").join("\n");
    assert!(
        receipt.contains(&format!("⚠ parent {MISSING} is not in the store")),
        "{receipt}"
    );
    for name in ["GET /checkout", "charge", "audit"] {
        assert!(
            !details(&run.stdout, name).join("\n").contains("⚠"),
            "{name}"
        );
    }
}

#[test]
fn log_lines_of_the_trace_in_time_order_with_their_span() {
    let fixture = Fixture::new("logs");
    let run = run(tracelink().args([
        "show",
        TRACE,
        "--store",
        &fixture.store(),
        "--logs",
        &fixture.log("app.log"),
        &fixture.log("ecs.log"),
    ]));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("\nlogs (5 lines)\n"), "{}", run.stdout);
    let logs: Vec<Vec<&str>> = log_lines(&run.stdout)
        .iter()
        .map(|line| {
            line.split("  ")
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .collect()
        })
        .collect();
    assert_eq!(
        logs,
        [
            vec!["+0.500ms", "INFO", "GET /checkout", "request received"],
            vec!["+3.000ms", "INFO", "load_cart", "cart loaded", "items=3"],
            vec![
                "+16.000ms",
                "ERROR",
                "charge",
                "payment declined",
                "reason=card expired"
            ],
            vec!["+46.000ms", "warn", "render", "slow render"],
            vec!["+49.000ms", "INFO", "-", "request done"],
        ]
    );
    assert!(!run.stdout.contains("other trace"));
    assert!(!run.stdout.contains("starting server"));
}

#[test]
fn jump_marks_the_span_of_the_line() {
    let fixture = Fixture::new("jump");
    let app = std::fs::read_to_string(fixture.dir.path("app.log")).unwrap();
    let declined = app
        .lines()
        .find(|l| l.contains("payment declined"))
        .unwrap();
    let run = run(tracelink().args([
        "jump",
        declined,
        "--store",
        &fixture.store(),
        "--logs",
        &fixture.log("app.log"),
    ]));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let marked_rows: Vec<String> = rows(&run.stdout)
        .iter()
        .filter(|r| r.marked)
        .map(|r| r.name().to_owned())
        .collect();
    assert_eq!(marked_rows, ["charge"]);
    let marked_logs: Vec<&str> = log_lines(&run.stdout)
        .into_iter()
        .filter(|l| l.starts_with("> "))
        .collect();
    assert_eq!(marked_logs.len(), 1);
    assert!(marked_logs[0].contains("payment declined"));

    // From stdin, in ECS style.
    let ecs = std::fs::read_to_string(fixture.dir.path("ecs.log")).unwrap();
    let mut child = tracelink()
        .args(["jump", "--store", &fixture.store()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(ecs.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let marked: Vec<String> = rows(&stdout)
        .iter()
        .filter(|r| r.marked)
        .map(|r| r.name().to_owned())
        .collect();
    assert_eq!(marked, ["render"]);
}

/// Log records in the store beside the spans: under their spans without
/// `--logs`, with the `--logs` lines still listed after; `jump` marks the
/// records of its span too; `traces` counts spans only.
#[test]
fn store_log_records_show_beside_log_files() {
    let fixture = Fixture::new("records");
    let mut declined = log_record(TRACE, Some(CHARGE), 16.5, 17, "ERROR", "card declined");
    declined.attributes = vec![s("card.brand", "visa")];
    write_logs(
        &fixture.dir.path("traces.jsonl"),
        &[logs_request(vec![(
            "payments",
            vec![
                declined,
                log_record(TRACE, Some(LOAD_CART), 3.5, 9, "INFO", "cart read"),
                log_record(TRACE, Some(MISSING), 45.0, 13, "WARN", "receipt late"),
                log_record(OTHER, Some(CHARGE), 16.0, 9, "INFO", "other trace's"),
            ],
        )])],
    );
    let run = run(tracelink().args([
        "show",
        TRACE,
        WIDE,
        "--store",
        &fixture.store(),
        "--logs",
        &fixture.log("app.log"),
    ]));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("· 3 log records"), "{}", run.stdout);
    let charge = details(&run.stdout, "charge");
    let at = |lines: &[&str], text: &str| lines.iter().position(|l| l.contains(text));
    // After the event at +3 ms, by time.
    let event = at(&charge, "• +3.000ms payment declined").expect("the event");
    let record = at(&charge, "▸ +2.500ms ERROR card declined  card.brand=visa");
    assert!(record.is_some_and(|r| r < event), "{charge:?}");
    assert!(details(&run.stdout, "load_cart")
        .iter()
        .any(|l| l.ends_with("▸ +2.500ms INFO  cart read")));
    assert!(
        run.stdout.contains(&format!(
            "log records not under a span of the store (1)\n  ⚠ span {MISSING} is not in the store\n     ▸ +45.000ms WARN  payments  receipt late\n"
        )),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("other trace's"));
    assert!(run.stdout.contains("\nlogs (4 lines)\n"), "{}", run.stdout);

    let app = std::fs::read_to_string(fixture.dir.path("app.log")).unwrap();
    let line = app
        .lines()
        .find(|l| l.contains("payment declined"))
        .unwrap();
    let run = support::run(tracelink().args(["jump", line, WIDE, "--store", &fixture.store()]));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let marked: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("> ") && l.contains('▸'))
        .collect();
    assert_eq!(marked.len(), 1, "{}", run.stdout);
    assert!(marked[0].contains("card declined"));

    let run = support::run(tracelink().args(["traces", "--store", &fixture.store()]));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
}

#[test]
fn traces_lists_and_filters() {
    let fixture = Fixture::new("traces");
    let list = |args: &[&str]| -> Vec<String> {
        let mut command = tracelink();
        command
            .args(["traces", "--store", &fixture.store()])
            .args(args);
        let run = run(&mut command);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        run.stdout.lines().skip(1).map(str::to_owned).collect()
    };
    let all = list(&[]);
    assert_eq!(all.len(), 2, "{all:?}");
    // Newest first: the other trace started at +10 ms.
    assert!(all[0].starts_with(OTHER), "{all:?}");
    let fields: Vec<&str> = all[1].split_whitespace().collect();
    assert_eq!(
        fields,
        [
            TRACE,
            "2026-11-21T09:30:00.000Z",
            "50.000ms",
            "8",
            "shop",
            "GET",
            "/checkout",
            "ERROR"
        ]
    );
    let other: Vec<&str> = all[0].split_whitespace().collect();
    assert_eq!(other[2..], ["5.000ms", "1", "other", "GET", "/health"]);

    let ids =
        |lines: Vec<String>| -> Vec<String> { lines.iter().map(|l| l[..32].to_owned()).collect() };
    assert_eq!(ids(list(&["--errors"])), [TRACE]);
    assert_eq!(ids(list(&["--service", "payments"])), [TRACE]);
    assert_eq!(ids(list(&["--service", "other"])), [OTHER]);
    assert_eq!(ids(list(&["--min-duration", "49ms"])), [TRACE]);
    assert_eq!(ids(list(&["--limit", "1"])), [OTHER]);
    assert!(list(&["--service", "nobody"]).is_empty());
}

#[test]
fn failures_say_what_and_exit_non_zero() {
    let fixture = Fixture::new("failures");
    let store = fixture.store();
    let unknown = "ffffffffffffffffffffffffffffffff";
    let cases: Vec<(Vec<&str>, i32, String)> = vec![
        (
            vec!["show", unknown, "--store", &store],
            1,
            format!("trace {unknown} is not in {store}"),
        ),
        (
            vec!["show", "xyz", "--store", &store],
            2,
            "\"xyz\" is not a trace id".into(),
        ),
        (
            vec!["show", "--store", &store],
            2,
            "needs a TRACE_ID".into(),
        ),
        (
            vec!["jump", "hello world", "--store", &store],
            1,
            "no trace id in the line".into(),
        ),
        (
            vec!["jump", "{\"trace_id\":", "--store", &store],
            1,
            "not valid JSON".into(),
        ),
        (
            vec![
                "show",
                TRACE,
                "--store",
                &store,
                "--logs",
                "/nonexistent/app.log",
            ],
            1,
            "cannot read log file /nonexistent/app.log".into(),
        ),
        (
            vec!["show", TRACE, "--store", "/nonexistent/traces.jsonl"],
            1,
            "no trace store at /nonexistent/traces.jsonl".into(),
        ),
        (
            vec!["traces", "--store", &store, "--limit", "lots"],
            2,
            "--limit \"lots\"".into(),
        ),
        (
            vec!["show", TRACE, "--store", &store, "--width", "20"],
            2,
            "--width \"20\": expected a whole number of columns, at least 40".into(),
        ),
        (
            vec!["jump", "--store", &store, "--width=wide"],
            2,
            "--width \"wide\": expected a whole number of columns, at least 40".into(),
        ),
        (
            vec!["traces", "--store", &store, "--width", "80"],
            2,
            "unknown option --width for `tracelink traces`".into(),
        ),
        (
            vec!["frobnicate"],
            2,
            "unknown command \"frobnicate\"".into(),
        ),
        (
            // Both listeners off: a usage error even without the check of
            // the size, but not this one.
            vec![
                "receive",
                "--max-bytes=",
                "--listen",
                "off",
                "--http-listen",
                "off",
            ],
            2,
            "--max-bytes needs a size".into(),
        ),
    ];
    for (args, code, message) in cases {
        let run = run(tracelink().args(&args));
        assert_eq!(run.code, Some(code), "{args:?}");
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
        assert!(
            run.stderr.starts_with("tracelink: "),
            "{args:?}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(&message), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn a_torn_last_line_is_skipped_and_the_rest_shown() {
    let fixture = Fixture::new("torn");
    // A writer died in the middle of a line with this trace's spans.
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(fixture.dir.path("traces.jsonl"))
        .unwrap();
    write!(
        file,
        r#"{{"resourceSpans":[{{"resource":{{}},"scopeSpans":[{{"spans":[{{"traceId":"{TRACE}","spanId":"a1000000000000ff","name":"lo"#
    )
    .unwrap();
    drop(file);
    let run = run(tracelink().args(["show", TRACE, "--store", &fixture.store()]));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(rows(&run.stdout).len(), 8);
    assert!(run.stderr.contains("skipped 1 line of"), "{}", run.stderr);
    let run = run_traces(&fixture);
    assert_eq!(run.code, Some(0));
    assert_eq!(run.stdout.lines().count(), 3);
}

fn run_traces(fixture: &Fixture) -> Run {
    run(tracelink().args(["traces", "--store", &fixture.store()]))
}

#[test]
fn help_lists_the_commands() {
    let run = run(tracelink().arg("help"));
    assert_eq!(run.code, Some(0));
    for command in [
        "tracelink show TRACE_ID",
        "tracelink jump",
        "tracelink traces",
        "tracelink receive",
    ] {
        assert!(run.stdout.contains(command), "{command}");
    }
}

/// Resets the terminal's title and clears the screen, if printed as is.
const ATTACK: &str = "\x1b]0;x\x07\x1b[2J";
/// How `tracelink` shows it.
const ESCAPED: &str = "\\x1b]0;x\\x07\\x1b[2J";

#[test]
fn control_characters_from_the_store_and_the_logs_are_shown_escaped() {
    let dir = TempDir::new("escape");
    let store = dir.path("traces.jsonl");
    let mut root = span(TRACE, ROOT, None, &format!("GET {ATTACK}"), 0.0, 10.0);
    root.status = Some(error_status(&format!("failed {ATTACK}")));
    root.attributes = vec![s("http.route", &format!("/x{ATTACK}"))];
    root.events = vec![event(
        T0 + MS,
        &format!("retry {ATTACK}"),
        vec![s("why", &format!("because {ATTACK}"))],
    )];
    let child = span(TRACE, LOAD_CART, Some(ROOT), "load_cart\u{9b}2J", 1.0, 2.0);
    write_store(
        &store,
        1 << 20,
        &[request(vec![(&format!("shop{ATTACK}"), vec![root, child])])],
    );
    let message = format!("order {ATTACK}")
        .replace('\x1b', "\\u001b")
        .replace('\x07', "\\u0007");
    std::fs::write(
        dir.path("app.log"),
        format!(
            r#"{{"timestamp":"2026-11-21T09:30:00.001Z","level":"INFO","message":"{message}","note":"{message}","trace_id":"{TRACE}","span_id":"{ROOT}"}}"#
        ) + "\n",
    )
    .unwrap();

    let shown = run(tracelink().args([
        "show",
        TRACE,
        "--store",
        store.to_str().unwrap(),
        "--logs",
        dir.path("app.log").to_str().unwrap(),
        WIDE,
    ]));
    assert_eq!(shown.code, Some(0), "{}", shown.stderr);
    let traces = run(tracelink().args(["traces", "--store", store.to_str().unwrap()]));
    assert_eq!(traces.code, Some(0), "{}", traces.stderr);
    for out in [&shown.stdout, &traces.stdout] {
        let raw: Vec<char> = out
            .chars()
            .filter(|c| c.is_control() && *c != '\n')
            .collect();
        assert!(raw.is_empty(), "raw control characters {raw:?} in\n{out}");
    }
    for text in [
        format!("GET {ESCAPED}"),
        format!("shop{ESCAPED}"),
        format!("✗ failed {ESCAPED}"),
        format!("http.route=/x{ESCAPED}"),
        format!("retry {ESCAPED}  why=because {ESCAPED}"),
        "load_cart\\x9b2J".to_owned(),
        format!("order {ESCAPED}  note=order {ESCAPED}"),
    ] {
        assert!(shown.stdout.contains(&text), "{text} in\n{}", shown.stdout);
    }
    assert!(
        traces.stdout.contains(&format!("GET {ESCAPED}")),
        "{}",
        traces.stdout
    );
}

/// `line` without its SGR escapes.
fn unpainted(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            chars.by_ref().find(|&c| c == 'm');
        } else {
            out.push(c);
        }
    }
    out
}

/// Every line of `out` at most `width` characters, escapes not counted.
fn assert_fits(out: &str, width: usize) {
    for line in out.lines() {
        let columns = unpainted(line).chars().count();
        assert!(
            columns <= width,
            "{columns} > {width} columns:\n{line}\nin\n{out}"
        );
    }
}

#[test]
fn the_waterfall_fits_the_width() {
    let fixture = Fixture::new("width");
    let show = |args: &[&str], columns: Option<&str>| {
        let mut command = tracelink();
        command
            .args(["show", TRACE, "--store", &fixture.store(), "--logs"])
            .args([fixture.log("app.log"), fixture.log("ecs.log")])
            .args(args);
        if let Some(columns) = columns {
            command.env("COLUMNS", columns);
        }
        let run = run(&mut command);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        run.stdout
    };
    for (args, columns, width) in [
        // Into a pipe, without COLUMNS: 80.
        (&[][..], None, 80),
        (&[], Some("not a number"), 80),
        (&[], Some("100"), 100),
        (&["--width", "60"], Some("100"), 60),
        (&["--width=40", "--color", "always"], None, 40),
        (&["--color", "always"], Some("72"), 72),
    ] {
        let out = show(args, columns);
        assert_fits(&out, width);
        assert!(
            out.lines().any(|l| unpainted(l).chars().count() == width),
            "{args:?} {columns:?}: the table takes the whole width\n{out}"
        );
        // Every span has its row, with a bar (at 40 columns without the
        // service and start columns).
        let out = unpainted(&out);
        let bars = out.lines().filter(|l| bar(l).is_some()).count();
        assert_eq!(bars, 8, "{args:?} {columns:?}\n{out}");
        assert_eq!(out.lines().filter(|l| l.ends_with("| ERROR")).count(), 1);
        assert_eq!(log_lines(&out).len(), 5, "{out}");
    }
    // At 80 the names and services are whole, the bar narrowed.
    let out = show(&[], None);
    let rows = rows(&out);
    let names: Vec<&str> = rows.iter().map(support::Row::name).collect();
    assert_eq!(
        names,
        [
            "GET /checkout",
            "load_cart",
            "SELECT carts",
            "charge",
            "fraud.check",
            "audit",
            "render",
            "send_receipt"
        ]
    );
    assert_eq!(rows[3].service, "payments");
    let (_, root_bar) = bar(out.lines().find(|l| l.contains("GET /checkout")).unwrap()).unwrap();
    assert!((10..40).contains(&root_bar.chars().count()), "{root_bar:?}");
    // The summary goes on two lines rather than past the width.
    assert!(
        out.contains("\n4 services (shop, payments, audit, worker) · 1 error\n"),
        "{out}"
    );
    // A detail line too long is cut, with `…`.
    let select = details(&out, "SELECT carts").join("\n");
    assert!(
        select.contains("db.system.name=postgresql  db.query.text=SELECT"),
        "{select}"
    );
    assert!(select.ends_with('…'), "{select}");
}

#[test]
fn long_names_services_and_values_are_cut_to_the_width() {
    let dir = TempDir::new("long");
    let store = dir.path("traces.jsonl");
    let long = "a span name that goes on and on, longer than any column could hold";
    let mut root = span(TRACE, ROOT, None, long, 0.0, 100.0);
    root.attributes = vec![s(
        "url.full",
        &format!("https://example.com/{}", "x".repeat(150)),
    )];
    root.events = vec![event(T0 + MS, "retry", vec![s("why", &"y".repeat(150))])];
    let mut child = span(TRACE, LOAD_CART, Some(ROOT), long, 20.0, 70.0);
    child.status = Some(error_status(&"declined ".repeat(20)));
    let grandchild = span(TRACE, SELECT, Some(LOAD_CART), long, 30.0, 40.0);
    write_store(
        &store,
        1 << 20,
        &[
            request(vec![(
                "a-service-with-a-name-that-is-very-long-indeed",
                vec![root],
            )]),
            request(vec![(
                "another-service-with-a-long-long-name",
                vec![child, grandchild],
            )]),
        ],
    );
    std::fs::write(
        dir.path("app.log"),
        format!(
            r#"{{"timestamp":"2026-11-21T09:30:00.050Z","level":"WARN","message":"{}","extra":"{}","trace_id":"{TRACE}","span_id":"{LOAD_CART}"}}"#,
            "m".repeat(200),
            "e".repeat(100)
        ) + "\n",
    )
    .unwrap();
    for width in ["40", "60", "80", "100"] {
        let run = run(tracelink().args([
            "show",
            TRACE,
            "--store",
            store.to_str().unwrap(),
            "--logs",
            dir.path("app.log").to_str().unwrap(),
            "--width",
            width,
        ]));
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        assert_fits(&run.stdout, width.parse().unwrap());
        let bars: Vec<String> = run.stdout.lines().filter_map(bar).map(|(_, b)| b).collect();
        assert_eq!(bars.len(), 3, "{width}\n{}", run.stdout);
        // The root lasts the whole trace: its bar is full.
        assert!(bars[0].chars().all(|c| c == '█'), "{width}: {:?}", bars[0]);
        assert!(
            run.stdout.lines().any(|l| l.ends_with("| ERROR")),
            "{width}"
        );
        assert_eq!(log_lines(&run.stdout).len(), 1);
    }
}

/// Files that look rotated but were not named by the writer (`.00`,
/// `.007`, `.01`) are not the store's: not read, not a failure.
#[test]
fn files_with_odd_numbers_are_not_read() {
    let fixture = Fixture::new("odd-numbers");
    for name in ["traces.jsonl.00", "traces.jsonl.007", "traces.jsonl.01"] {
        std::fs::copy(fixture.dir.path("traces.jsonl.1"), fixture.dir.path(name)).unwrap();
    }
    let run = run(tracelink().args(["show", TRACE, "--store", &fixture.store()]));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    assert_eq!(rows(&run.stdout).len(), 8);
    let files = tracelink::store::files(&fixture.dir.path("traces.jsonl"));
    let names: Vec<_> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["traces.jsonl.2", "traces.jsonl.1", "traces.jsonl"]);
}

/// A store and a log file whose names are not UTF-8 are read: the paths go
/// from the command line to the files as bytes.
#[cfg(unix)]
#[test]
fn paths_that_are_not_utf8_are_read() {
    use std::os::unix::ffi::OsStringExt;
    let dir = TempDir::new("not-utf8");
    let store = dir
        .0
        .join(std::ffi::OsString::from_vec(b"tr\xffces.jsonl".to_vec()));
    let log = dir.0.join(std::ffi::OsString::from_vec(vec![
        b'a', 0xff, b'.', b'l', b'o', b'g',
    ]));
    let root = span(TRACE, ROOT, None, "GET /checkout", 0.0, 10.0);
    write_store(&store, 1 << 20, &[request(vec![("shop", vec![root])])]);
    std::fs::write(
        &log,
        format!(
            r#"{{"timestamp":"2026-11-21T09:30:00.001Z","level":"INFO","message":"request received","trace_id":"{TRACE}","span_id":"{ROOT}"}}"#
        ) + "\n",
    )
    .unwrap();

    let shown = run(tracelink()
        .args(["show", TRACE, "--store"])
        .arg(&store)
        .arg("--logs")
        .arg(&log)
        .arg(WIDE));
    assert_eq!(shown.code, Some(0), "{}", shown.stderr);
    assert!(shown.stderr.is_empty(), "{}", shown.stderr);
    let names: Vec<String> = rows(&shown.stdout)
        .iter()
        .map(|r| r.name().to_owned())
        .collect();
    assert_eq!(names, ["GET /checkout"]);
    assert_eq!(log_lines(&shown.stdout).len(), 1, "{}", shown.stdout);
    assert!(
        shown.stdout.contains("request received"),
        "{}",
        shown.stdout
    );

    // `--opt=value`, too.
    let mut store_arg = std::ffi::OsString::from("--store=");
    store_arg.push(&store);
    let mut logs_arg = std::ffi::OsString::from("--logs=");
    logs_arg.push(&log);
    let shown = run(tracelink()
        .args(["show", TRACE])
        .arg(store_arg)
        .arg(logs_arg));
    assert_eq!(shown.code, Some(0), "{}", shown.stderr);
    assert!(
        shown.stdout.contains("request received"),
        "{}",
        shown.stdout
    );
}

/// A value that must be text and is not UTF-8 is a usage error naming its
/// option.
#[cfg(unix)]
#[test]
fn text_that_is_not_utf8_is_a_usage_error() {
    use std::os::unix::ffi::OsStringExt;
    let bad = std::ffi::OsString::from_vec(b"sh\xffp".to_vec());
    let run = run(tracelink()
        .args([
            "traces",
            "--store",
            "/nonexistent/traces.jsonl",
            "--service",
        ])
        .arg(bad));
    assert_eq!(run.code, Some(2));
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        run.stderr
            .starts_with("tracelink: --service \"sh\\xFFp\": not valid UTF-8"),
        "{}",
        run.stderr
    );
}
