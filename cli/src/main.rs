//! `tracelink`: look at a trace from the local store, as a waterfall, with
//! its log records and log lines; jump from a log line to its trace; list
//! recent traces; receive OTLP traces and logs from services in any
//! language into the store.
//!
//! Run `tracelink help` for the commands.

mod args;
mod logs;
mod otlp;
mod receive;
mod scan;
mod store;
mod style;
mod time;
mod waterfall;

use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use args::{Command, Failure, Settings};
use style::Style;

fn main() -> ExitCode {
    let result = args::parse(std::env::args_os().skip(1)).and_then(run);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            let _ = writeln!(
                std::io::stderr(),
                "tracelink: {message}\n\nRun `tracelink help` for the commands and their options."
            );
            ExitCode::from(2)
        }
        Err(Failure::Failed(message)) => {
            let _ = writeln!(std::io::stderr(), "tracelink: {message}");
            ExitCode::from(1)
        }
        Err(Failure::Help(text)) => {
            print(&text);
            ExitCode::SUCCESS
        }
    }
}

fn print(text: &str) {
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`tracelink show ... | head`) is not an error.
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

fn run(settings: Settings) -> Result<(), Failure> {
    let style = Style::new(settings.color);
    let width = style::width(settings.width);
    match settings.command {
        Command::Show { trace, logs } => show(
            &settings.store,
            trace.trace_id,
            trace.span_id,
            &logs,
            style,
            width,
        ),
        Command::Jump { line, logs } => {
            let line = match line {
                Some(line) => line,
                None => read_stdin_line()?,
            };
            let log = logs::parse_line(&line).map_err(Failure::Failed)?;
            let trace_id = log
                .trace_id
                .ok_or_else(|| Failure::Failed("no trace id in the line".into()))?;
            show(&settings.store, trace_id, log.span_id, &logs, style, width)
        }
        Command::Traces(filter) => traces(&settings.store, &filter, style),
        Command::Receive(options) => receive::run(receive::Options {
            grpc: options.grpc,
            http: options.http,
            store: settings.store,
            max_bytes: options.max_bytes.unwrap_or(settings.max_bytes),
            max_connections: options.max_connections,
            max_in_flight: options.max_in_flight,
            quiet: options.quiet,
        })
        .map_err(Failure::Failed),
    }
}

fn read_stdin_line() -> Result<String, Failure> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let _ = writeln!(
            std::io::stderr(),
            "tracelink jump: paste a log line, then Enter"
        );
    }
    for line in stdin.lock().lines() {
        let line = line.map_err(|e| Failure::Failed(format!("cannot read stdin: {e}")))?;
        if !line.trim().is_empty() {
            return Ok(line);
        }
    }
    Err(Failure::Failed(
        "no log line: give one as an argument, or on stdin".into(),
    ))
}

fn show(
    store: &std::path::Path,
    trace_id: [u8; 16],
    highlight: Option<[u8; 8]>,
    log_files: &[PathBuf],
    style: Style,
    width: usize,
) -> Result<(), Failure> {
    let files = store::files(store).map_err(Failure::Failed)?;
    let (trace, skipped) = store::load_trace(&files, trace_id).map_err(Failure::Failed)?;
    skipped.report(&files);
    if trace.spans.is_empty() && trace.records.is_empty() {
        let bytes: u64 = files
            .iter()
            .filter_map(|f| std::fs::metadata(f).ok())
            .map(|m| m.len())
            .sum();
        return Err(Failure::Failed(format!(
            "trace {} is not in {} ({} file{}, {:.1} MB searched)",
            otlp::hex(&trace_id),
            store.display(),
            files.len(),
            if files.len() == 1 { "" } else { "s" },
            bytes as f64 / 1e6
        )));
    }
    let logs = if log_files.is_empty() {
        None
    } else {
        Some(logs::load(log_files, trace_id).map_err(Failure::Failed)?)
    };
    if trace.spans.is_empty() {
        let _ = writeln!(
            std::io::stderr(),
            "tracelink: no span of trace {} is in the store, only log records",
            otlp::hex(&trace_id)
        );
    }
    if let Some(span) = highlight {
        if !trace.spans.iter().any(|s| s.span_id == span) {
            let _ = writeln!(
                std::io::stderr(),
                "tracelink: span {} is not in the store; showing its trace",
                otlp::hex(&span)
            );
        }
    }
    print(&waterfall::render(
        trace_id,
        &trace.spans,
        &trace.records,
        logs.as_deref(),
        highlight,
        style,
        width,
    ));
    Ok(())
}

fn traces(
    store: &std::path::Path,
    filter: &args::TracesFilter,
    style: Style,
) -> Result<(), Failure> {
    let files = store::files(store).map_err(Failure::Failed)?;
    let (mut traces, skipped) = store::summaries(&files).map_err(Failure::Failed)?;
    skipped.report(&files);
    let total = traces.len();
    traces.retain(|t| {
        filter
            .service
            .as_ref()
            .is_none_or(|s| t.services.iter().any(|name| &**name == s))
            && filter.min_duration.is_none_or(|d| t.duration() >= d)
            && (!filter.errors || t.errors)
    });
    traces.sort_by(|a, b| b.start.cmp(&a.start).then(a.trace_id.cmp(&b.trace_id)));
    let shown = traces.len().min(filter.limit);
    let mut out = String::new();
    if traces.is_empty() {
        let _ = writeln!(
            std::io::stderr(),
            "tracelink: no trace matches, of {total} in {}",
            store.display()
        );
        return Ok(());
    }
    let rows: Vec<[String; 5]> = traces[..shown]
        .iter()
        .map(|t| {
            // Names from the store, for the terminal.
            let (name, service) = match &t.root {
                Some((_, name, service)) => (style::escape(name), style::escape(service)),
                None => (
                    format!("{} (root not in store)", style::escape(&t.first.1)).into(),
                    style::escape(&t.first.2),
                ),
            };
            let (name, service) = (name.into_owned(), service.into_owned());
            [
                time::rfc3339(t.start, 3),
                time::duration(t.duration()),
                t.span_count().to_string(),
                service,
                name,
            ]
        })
        .collect();
    let service_width = rows
        .iter()
        .map(|r| r[3].chars().count())
        .max()
        .unwrap_or(7)
        .clamp(7, 24);
    out.push_str(&style.paint(
        style::BOLD,
        &format!(
            "{:<32}  {:<24}  {:>10}  {:>5}  {}  ROOT",
            "TRACE",
            "STARTED",
            "DURATION",
            "SPANS",
            style::pad("SERVICE", service_width)
        ),
    ));
    out.push('\n');
    for (t, row) in traces[..shown].iter().zip(&rows) {
        let _ = writeln!(
            out,
            "{}  {:<24}  {:>10}  {:>5}  {}  {}{}",
            otlp::hex(&t.trace_id),
            row[0],
            row[1],
            row[2],
            style::pad(&style::truncate(&row[3], service_width), service_width),
            row[4],
            if t.errors {
                format!("  {}", style.paint(style::BOLD_RED, "ERROR"))
            } else {
                String::new()
            }
        );
    }
    print(&out);
    if shown < traces.len() {
        let _ = writeln!(
            std::io::stderr(),
            "tracelink: {shown} of {} matching traces ({total} in the store); --limit shows more",
            traces.len()
        );
    }
    Ok(())
}
