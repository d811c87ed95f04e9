//! The command line, read with `lexopt` (small, without dependencies, so the
//! tool still builds in seconds). Paths stay `OsString`s from start to end,
//! so a file name that is not UTF-8 works; values that must be text are
//! checked, with a usage error naming the option.

use std::ffi::{OsStr, OsString};
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use lexopt::{Arg, Parser};

use crate::otlp::decode_hex;
use crate::style::{ColorChoice, MIN_WIDTH};

pub(crate) const USAGE: &str = "\
tracelink: traces from the local store, as waterfalls, with their log records

Usage:
  tracelink show TRACE_ID [--logs FILE...] [--store PATH] [--width N]
  tracelink jump [LINE] [--logs FILE...] [--store PATH] [--width N]
  tracelink traces [--service NAME] [--min-duration 100ms] [--errors] [--limit N] [--store PATH]
  tracelink receive [--listen ADDR] [--http-listen ADDR] [--store PATH] [--max-bytes SIZE]
                    [--max-connections N] [--max-in-flight SIZE]
  tracelink help

Commands:
  show     The trace as a waterfall: the span tree with services, start offsets,
           durations and bars on one time scale; errors, events, key
           attributes and the log records of the store under each span, in
           time order (records whose span is not in the store after the
           tree); then every log line of the trace from the --logs files, in
           time order, with the span it belongs to. TRACE_ID is 32 hex
           digits, or a traceparent (its span is marked).
  jump     Reads a log line (the argument, or the first line on stdin), and
           shows its trace with the line's span marked `>`.
  traces   Recent traces, newest first: start, duration, spans, service and
           name of the root span, errors.
  receive  An OTLP receiver of traces and logs (gRPC and HTTP/protobuf) that
           appends what it gets to the store, so services in any language show
           up too, their log records under their spans. Plain text, for
           127.0.0.1: no TLS, no authentication.

Options:
  --store PATH        The trace store: the file the `file` exporters write spans and
                      log records to, whose rotated files (PATH.1, PATH.2, ...) are
                      read too.
                      [default: $TRACELINK_TRACES_FILE, else .tracelink/traces.jsonl]
  --logs FILE...      JSON log files to take the trace's lines from: tracelink's
                      lines (trace_id, span_id), ECS (trace.id, span.id), GCP.
                      Repeatable; several files may follow one --logs.
  --width N           show, jump: draw the waterfall N columns wide, at least 40;
                      longer names, values and lines are cut with `…`
                      [default: $COLUMNS, else 80].
  --service NAME      traces: only traces with a span of this service.
  --min-duration D    traces: only traces lasting at least D (100ms, 1.5s, 250us).
  --errors            traces: only traces with a span whose status is ERROR.
  --limit N           traces: at most N traces [default: 20].
  --listen ADDR       receive: OTLP/gRPC address, or `off` [default: 127.0.0.1:4317].
  --http-listen ADDR  receive: OTLP/HTTP address, or `off` [default: 127.0.0.1:4318].
  --max-bytes SIZE    receive: rotate the store past SIZE (64MiB, 1GiB, bytes)
                      [default: $TRACELINK_TRACES_FILE_MAX_BYTES, else 64MiB].
  --max-connections N
                      receive: open connections at most, over both listeners;
                      a new one closes the one idle longest [default: 256, and
                      below the file descriptor limit].
  --max-in-flight SIZE
                      receive: bytes of requests held at once, as received and
                      decompressed; beyond, 429 / RESOURCE_EXHAUSTED [default: 64MiB].
  --quiet             receive: no line per request on stderr.
  --color WHEN        auto, always or never [default: auto: on a terminal, unless
                      NO_COLOR is set].
  -h, --help          This help.
  -V, --version       The version.

Exit status: 0 on success; 1 when a trace is not found, a file can not be
read or a line has no trace id; 2 for a usage error.
";

/// Why the program stops early.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Bad arguments: exit status 2.
    Usage(String),
    /// Something could not be done: exit status 1.
    Failed(String),
    /// Help or version text for stdout: exit status 0.
    Help(String),
}

impl From<lexopt::Error> for Failure {
    /// What `lexopt` finds wrong is a usage error.
    fn from(error: lexopt::Error) -> Self {
        Failure::Usage(error.to_string())
    }
}

/// What the command line asks for.
#[derive(Debug)]
pub(crate) struct Settings {
    /// The command, with its own arguments.
    pub(crate) command: Command,
    /// `--store`, else the library's default.
    pub(crate) store: PathBuf,
    /// The store's rotation size from the environment, for `receive`.
    pub(crate) max_bytes: u64,
    /// `--color`.
    pub(crate) color: ColorChoice,
    /// `--width`, for the waterfall.
    pub(crate) width: Option<usize>,
}

/// The trace to show, and the span to mark in it.
#[derive(Debug)]
pub(crate) struct TraceArg {
    /// The trace id.
    pub(crate) trace_id: [u8; 16],
    /// The span of a traceparent.
    pub(crate) span_id: Option<[u8; 8]>,
}

/// A command and its arguments.
#[derive(Debug)]
pub(crate) enum Command {
    /// `tracelink show TRACE_ID`.
    Show {
        /// The trace to show.
        trace: TraceArg,
        /// `--logs`.
        logs: Vec<PathBuf>,
    },
    /// `tracelink jump [LINE]`.
    Jump {
        /// The log line, else it is read from stdin.
        line: Option<String>,
        /// `--logs`.
        logs: Vec<PathBuf>,
    },
    /// `tracelink traces`.
    Traces(TracesFilter),
    /// `tracelink receive`.
    Receive(ReceiveArgs),
}

/// The options of `tracelink traces`.
#[derive(Debug)]
pub(crate) struct TracesFilter {
    /// `--service`.
    pub(crate) service: Option<String>,
    /// `--min-duration`, in nanoseconds.
    pub(crate) min_duration: Option<u64>,
    /// `--errors`.
    pub(crate) errors: bool,
    /// `--limit`.
    pub(crate) limit: usize,
}

/// The options of `tracelink receive`.
#[derive(Debug)]
pub(crate) struct ReceiveArgs {
    /// `--listen`, `None` for off.
    pub(crate) grpc: Option<SocketAddr>,
    /// `--http-listen`, `None` for off.
    pub(crate) http: Option<SocketAddr>,
    /// `--max-bytes`.
    pub(crate) max_bytes: Option<u64>,
    /// `--max-connections`.
    pub(crate) max_connections: usize,
    /// `--max-in-flight`.
    pub(crate) max_in_flight: u64,
    /// `--quiet`.
    pub(crate) quiet: bool,
}

/// Options each command takes (besides --store, --color and --help).
fn allowed(command: &str) -> &'static [&'static str] {
    match command {
        "show" | "jump" => &["logs", "width"],
        "traces" => &["service", "min-duration", "errors", "limit"],
        "receive" => &[
            "listen",
            "http-listen",
            "max-bytes",
            "max-connections",
            "max-in-flight",
            "quiet",
        ],
        _ => &[],
    }
}

/// Options that take no value.
const FLAGS: &[&str] = &["errors", "quiet"];

/// A trace id: 32 hex digits, or a W3C `traceparent`.
pub(crate) fn trace_arg(text: &str) -> Result<TraceArg, String> {
    let text = text.trim();
    if let Some(trace_id) = decode_hex::<16>(text) {
        return Ok(TraceArg {
            trace_id,
            span_id: None,
        });
    }
    let parts: Vec<&str> = text.split('-').collect();
    if let [version, trace, span, flags] = parts[..] {
        if version.len() == 2 && flags.len() == 2 {
            if let (Some(trace_id), Some(span_id)) =
                (decode_hex::<16>(trace), decode_hex::<8>(span))
            {
                return Ok(TraceArg {
                    trace_id,
                    span_id: Some(span_id),
                });
            }
        }
    }
    Err(format!(
        "{text:?} is not a trace id: expected 32 hex digits (or a traceparent, 00-<trace id>-<span id>-01)"
    ))
}

/// `--width`: a whole number of columns, at least [`MIN_WIDTH`].
fn width(value: &str) -> Result<usize, Failure> {
    let columns = if value.bytes().all(|b| b.is_ascii_digit()) {
        value.parse().ok()
    } else {
        None
    };
    columns.filter(|&c| c >= MIN_WIDTH).ok_or_else(|| {
        Failure::Usage(format!(
            "--width {value:?}: expected a whole number of columns, at least {MIN_WIDTH}"
        ))
    })
}

/// `--listen`, `--http-listen`: an address, or `None` for `off`.
fn socket(name: &str, value: &str) -> Result<Option<SocketAddr>, Failure> {
    if matches!(value, "off" | "none") {
        return Ok(None);
    }
    value.parse().map(Some).map_err(|_| {
        Failure::Usage(format!(
            "--{name} {value:?}: expected HOST:PORT, like 127.0.0.1:4318, or off"
        ))
    })
}

/// `--max-bytes`, `--max-in-flight`: a size, by the library's parser,
/// through its builder.
fn size(name: &str, value: &str) -> Result<u64, Failure> {
    // The library takes an empty variable for an unset one, and its
    // default: a size given empty is a mistake.
    if value.trim().is_empty() {
        return Err(Failure::Usage(format!(
            "--{name} needs a size, like 67108864 or 64MiB"
        )));
    }
    let config = tracelink::builder()
        .with_env([(tracelink::env::TRACELINK_TRACES_FILE_MAX_BYTES, value)])
        .config()
        .map_err(|e| Failure::Usage(e.to_string()))?;
    if !config.warnings().is_empty() {
        return Err(Failure::Usage(format!(
            "--{name} {value:?}: expected a size, like 67108864 or 64MiB"
        )));
    }
    Ok(config.traces_file_max_bytes())
}

/// `--max-connections`: a whole number, at least 1.
fn count(name: &str, value: &str) -> Result<usize, Failure> {
    value.parse().ok().filter(|&n| n > 0).ok_or_else(|| {
        Failure::Usage(format!(
            "--{name} {value:?}: expected a whole number, at least 1"
        ))
    })
}

/// The value of `--name` as text: a usage error naming the option if it
/// is not UTF-8.
fn text(name: &str, value: OsString) -> Result<String, Failure> {
    value
        .into_string()
        .map_err(|value| Failure::Usage(format!("--{name} {value:?}: not valid UTF-8")))
}

/// A positional argument (`what`: TRACE_ID, LINE) as text.
fn positional_text<'a>(what: &str, value: &'a OsStr) -> Result<&'a str, Failure> {
    value
        .to_str()
        .ok_or_else(|| Failure::Usage(format!("{what} {value:?}: not valid UTF-8")))
}

/// The store path and rotation size from the environment, read by the
/// library's own rules (`TRACELINK_TRACES_FILE`,
/// `TRACELINK_TRACES_FILE_MAX_BYTES`).
fn store_defaults() -> (PathBuf, u64) {
    match tracelink::builder().with_strict_config(false).config() {
        Ok(config) => {
            for warning in config.warnings() {
                if warning.variable().starts_with("TRACELINK_TRACES_FILE") {
                    let _ = writeln!(std::io::stderr(), "tracelink: {warning}");
                }
            }
            (
                config.traces_file().to_path_buf(),
                config.traces_file_max_bytes(),
            )
        }
        Err(_) => (
            PathBuf::from(tracelink::env::TRACELINK_TRACES_FILE_DEFAULT),
            tracelink::env::TRACELINK_TRACES_FILE_MAX_BYTES_DEFAULT,
        ),
    }
}

/// The help text, as the way out.
fn help() -> Failure {
    Failure::Help(USAGE.into())
}

/// The version, as the way out.
fn version() -> Failure {
    Failure::Help(format!("tracelink {}\n", env!("CARGO_PKG_VERSION")))
}

/// The arguments after the command, as given, before their values are
/// checked.
#[derive(Default)]
struct Given {
    /// Arguments that are not options, nor values of options.
    positional: Vec<OsString>,
    /// Options in order, with their values (`None` for a flag); `--logs`
    /// is not among them.
    options: Vec<(String, Option<OsString>)>,
    /// Every file of every `--logs`.
    logs: Vec<PathBuf>,
}

/// Reads the command line (without the program's name).
pub(crate) fn parse(args: impl Iterator<Item = OsString>) -> Result<Settings, Failure> {
    let mut parser = Parser::from_args(args);
    let command = command(&mut parser)?;
    let given = arguments(&mut parser, command)?;
    let mut values = Values::new();
    for (name, value) in given.options {
        values.set(&name, value.unwrap_or_default())?;
    }
    let command = match command {
        "show" => show(&given.positional, given.logs)?,
        "jump" => jump(&given.positional, given.logs)?,
        "traces" => traces(&given.positional, &values)?,
        _ => receive(&given.positional, &values)?,
    };
    Ok(Settings {
        command,
        store: values.store,
        max_bytes: values.max_bytes,
        color: values.color,
        width: values.columns,
    })
}

/// The command: the first argument, taken whole; help and the version stop
/// here.
fn command(parser: &mut Parser) -> Result<&'static str, Failure> {
    let first = parser.raw_args()?.next().ok_or_else(help)?;
    match first.to_str() {
        Some("help" | "-h" | "--help") => Err(help()),
        Some("-V" | "--version") => Err(version()),
        Some("show") => Ok("show"),
        Some("jump") => Ok("jump"),
        Some("traces") => Ok("traces"),
        Some("receive") => Ok("receive"),
        _ => Err(Failure::Usage(format!("unknown command {first:?}"))),
    }
}

/// The arguments after the command, in order; the first wrong one is the
/// error.
fn arguments(parser: &mut Parser, command: &str) -> Result<Given, Failure> {
    let mut given = Given::default();
    while let Some(arg) = parser.next()? {
        match arg {
            Arg::Value(value) => given.positional.push(value),
            Arg::Short('h') => return Err(help()),
            Arg::Short('V') => return Err(version()),
            Arg::Short(short) => {
                return Err(Failure::Usage(format!(
                    "unknown option {:?} for `tracelink {command}`",
                    format!("-{short}")
                )))
            }
            Arg::Long(name) => {
                let name = name.to_owned();
                option(parser, command, name, &mut given)?;
            }
        }
    }
    Ok(given)
}

/// `--name`, with its value if it takes one.
fn option(
    parser: &mut Parser,
    command: &str,
    name: String,
    given: &mut Given,
) -> Result<(), Failure> {
    if name == "help" {
        return Err(help());
    }
    if !matches!(name.as_str(), "store" | "color") && !allowed(command).contains(&name.as_str()) {
        return Err(Failure::Usage(format!(
            "unknown option --{name} for `tracelink {command}`"
        )));
    }
    if FLAGS.contains(&name.as_str()) {
        if parser.optional_value().is_some() {
            return Err(Failure::Usage(format!("--{name} takes no value")));
        }
        given.options.push((name, None));
        return Ok(());
    }
    let value = value(parser, &name)?;
    if name == "logs" {
        given.logs.push(PathBuf::from(value));
        more_logs(parser, command, given)?;
    } else {
        given.options.push((name, Some(value)));
    }
    Ok(())
}

/// The value of `--name`: after `=`, else the next argument, unless that
/// is another option (`lexopt`'s `value()` would take `--width` as the
/// value of `--store --width 80`).
fn value(parser: &mut Parser, name: &str) -> Result<OsString, Failure> {
    if let Some(value) = parser.optional_value() {
        return Ok(value);
    }
    parser
        .raw_args()?
        .next_if(|next| !next.as_encoded_bytes().starts_with(b"--"))
        .ok_or_else(|| Failure::Usage(format!("--{name} needs a value")))
}

/// The files after the first of a `--logs`: every argument up to the next
/// option, but a trace id `show` still lacks, or a log line for `jump`.
fn more_logs(parser: &mut Parser, command: &str, given: &mut Given) -> Result<(), Failure> {
    let wants_trace = command == "show" && given.positional.is_empty();
    let mut raw = parser.raw_args()?;
    while let Some(file) = raw.next_if(|next| is_log_file(next, command, wants_trace)) {
        given.logs.push(PathBuf::from(file));
    }
    Ok(())
}

/// Whether `next`, after `--logs FILE`, is one more file.
fn is_log_file(next: &OsStr, command: &str, wants_trace: bool) -> bool {
    let bytes = next.as_encoded_bytes();
    if bytes.starts_with(b"-") {
        return false;
    }
    if wants_trace && next.to_str().is_some_and(|text| trace_arg(text).is_ok()) {
        return false;
    }
    // A log line for `jump`: JSON, or text with spaces or `key=value`.
    let log_line = bytes.starts_with(b"{") || bytes.iter().any(|&b| b == b' ' || b == b'=');
    !(command == "jump" && log_line)
}

/// The options' values, checked, with their defaults.
struct Values {
    store: PathBuf,
    max_bytes: u64,
    color: ColorChoice,
    columns: Option<usize>,
    service: Option<String>,
    min_duration: Option<u64>,
    errors: bool,
    limit: usize,
    grpc: Option<SocketAddr>,
    http: Option<SocketAddr>,
    receive_max_bytes: Option<u64>,
    max_connections: usize,
    max_in_flight: u64,
    quiet: bool,
}

impl Values {
    /// The defaults, the store's from the environment.
    fn new() -> Self {
        let (store, max_bytes) = store_defaults();
        Self {
            store,
            max_bytes,
            color: ColorChoice::Auto,
            columns: None,
            service: None,
            min_duration: None,
            errors: false,
            limit: 20,
            grpc: Some(SocketAddr::from(([127, 0, 0, 1], 4317))),
            http: Some(SocketAddr::from(([127, 0, 0, 1], 4318))),
            receive_max_bytes: None,
            max_connections: crate::receive::MAX_CONNECTIONS_DEFAULT,
            max_in_flight: crate::receive::MAX_IN_FLIGHT_DEFAULT,
            quiet: false,
        }
    }

    /// Takes `--name value` (an empty value for a flag): the store's path
    /// as it is, every other value as text.
    fn set(&mut self, name: &str, value: OsString) -> Result<(), Failure> {
        if name == "store" {
            self.store = PathBuf::from(value);
            return Ok(());
        }
        let value = text(name, value)?;
        match name {
            "color" => {
                self.color = ColorChoice::parse(&value).ok_or_else(|| {
                    Failure::Usage(format!("--color {value:?}: expected auto, always or never"))
                })?;
            }
            "width" => self.columns = Some(width(&value)?),
            "service" => self.service = Some(value),
            "min-duration" => {
                self.min_duration =
                    Some(crate::time::parse_duration(&value).map_err(Failure::Usage)?);
            }
            "errors" => self.errors = true,
            "limit" => {
                self.limit = value.parse().map_err(|_| {
                    Failure::Usage(format!("--limit {value:?}: expected a whole number"))
                })?;
            }
            "listen" => self.grpc = socket(name, &value)?,
            "http-listen" => self.http = socket(name, &value)?,
            "max-bytes" => self.receive_max_bytes = Some(size(name, &value)?),
            "max-connections" => self.max_connections = count(name, &value)?,
            "max-in-flight" => self.max_in_flight = size(name, &value)?,
            "quiet" => self.quiet = true,
            // Options are checked as they are read.
            _ => return Err(Failure::Usage(format!("unknown option --{name}"))),
        }
        Ok(())
    }
}

/// `tracelink show TRACE_ID`.
fn show(positional: &[OsString], logs: Vec<PathBuf>) -> Result<Command, Failure> {
    let [trace] = positional else {
        return Err(Failure::Usage(if positional.is_empty() {
            "`tracelink show` needs a TRACE_ID".into()
        } else {
            format!("`tracelink show` takes one TRACE_ID, not {positional:?}")
        }));
    };
    let trace = positional_text("TRACE_ID", trace)?;
    Ok(Command::Show {
        trace: trace_arg(trace).map_err(Failure::Usage)?,
        logs,
    })
}

/// `tracelink jump [LINE]`: an unquoted line arrives in pieces.
fn jump(positional: &[OsString], logs: Vec<PathBuf>) -> Result<Command, Failure> {
    let pieces = positional
        .iter()
        .map(|piece| positional_text("LINE", piece))
        .collect::<Result<Vec<&str>, Failure>>()?;
    Ok(Command::Jump {
        line: (!pieces.is_empty()).then(|| pieces.join(" ")),
        logs,
    })
}

/// `tracelink traces`.
fn traces(positional: &[OsString], values: &Values) -> Result<Command, Failure> {
    no_positional("traces", positional)?;
    Ok(Command::Traces(TracesFilter {
        service: values.service.clone(),
        min_duration: values.min_duration,
        errors: values.errors,
        limit: values.limit,
    }))
}

/// `tracelink receive`: at least one listener.
fn receive(positional: &[OsString], values: &Values) -> Result<Command, Failure> {
    no_positional("receive", positional)?;
    if values.grpc.is_none() && values.http.is_none() {
        return Err(Failure::Usage(
            "--listen and --http-listen are both off".into(),
        ));
    }
    Ok(Command::Receive(ReceiveArgs {
        grpc: values.grpc,
        http: values.http,
        max_bytes: values.receive_max_bytes,
        max_connections: values.max_connections,
        max_in_flight: values.max_in_flight,
        quiet: values.quiet,
    }))
}

/// A usage error for the first argument of a command that takes none.
fn no_positional(command: &str, positional: &[OsString]) -> Result<(), Failure> {
    match positional.first() {
        Some(arg) => Err(Failure::Usage(format!(
            "`tracelink {command}` takes no argument {arg:?}"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(args: &[&str]) -> Result<Settings, Failure> {
        parse(args.iter().map(OsString::from))
    }

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

    #[test]
    fn show_with_logs_before_or_after_the_trace_id() {
        for args in [
            vec![
                "show", TRACE, "--logs", "a.log", "b.log", "--store", "s.jsonl",
            ],
            vec!["show", "--logs", "a.log", "b.log", TRACE, "--store=s.jsonl"],
            vec![
                "show",
                "--logs=a.log",
                "--logs",
                "b.log",
                TRACE,
                "--store",
                "s.jsonl",
            ],
        ] {
            let settings = parse_strs(&args).unwrap();
            assert_eq!(settings.store, PathBuf::from("s.jsonl"));
            let Command::Show { trace, logs } = settings.command else {
                panic!("{args:?}")
            };
            assert_eq!(crate::otlp::hex(&trace.trace_id), TRACE);
            assert_eq!(
                logs,
                [PathBuf::from("a.log"), PathBuf::from("b.log")],
                "{args:?}"
            );
        }
    }

    #[test]
    fn a_traceparent_marks_its_span() {
        let settings = parse_strs(&["show", &format!("00-{TRACE}-00f067aa0ba902b7-01")]).unwrap();
        let Command::Show { trace, .. } = settings.command else {
            panic!()
        };
        assert_eq!(
            trace.span_id,
            Some([0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7])
        );
    }

    #[test]
    fn usage_errors() {
        for args in [
            &["show"][..],
            &["show", "xyz"],
            &["show", TRACE, "--errors"],
            &["show", TRACE, "--logs"],
            &["show", TRACE, "--width"],
            &["show", TRACE, "--width", "39"],
            &["jump", "--width=wide"],
            &["traces", "--width", "80"],
            &["traces", "--limit", "many"],
            &["traces", "--min-duration", "100"],
            &["traces", "extra"],
            &["receive", "--listen", "off", "--http-listen", "off"],
            &["receive", "--listen", "localhost"],
            &["receive", "--max-bytes", "lots"],
            &["receive", "--max-bytes="],
            &["receive", "--max-bytes", ""],
            &["receive", "--max-bytes", " "],
            &["receive", "--max-connections", "0"],
            &["receive", "--max-connections", "many"],
            &["receive", "--max-in-flight", "lots"],
            &["receive", "--max-in-flight="],
            &["frobnicate"],
        ] {
            assert!(
                matches!(parse_strs(args), Err(Failure::Usage(_))),
                "{args:?}"
            );
        }
    }

    #[test]
    fn width_for_show_and_jump() {
        let settings = parse_strs(&["show", TRACE, "--width", "100"]).unwrap();
        assert_eq!(settings.width, Some(100));
        let settings = parse_strs(&["jump", "--width=40", "{}"]).unwrap();
        assert_eq!(settings.width, Some(40));
        assert_eq!(parse_strs(&["show", TRACE]).unwrap().width, None);
        for value in [
            "39",
            "0",
            "-80",
            "+80",
            "80.5",
            "eighty",
            "",
            "99999999999999999999999",
        ] {
            let Err(Failure::Usage(message)) =
                parse_strs(&["show", TRACE, &format!("--width={value}")])
            else {
                panic!("{value:?}: a usage error")
            };
            assert_eq!(
                message,
                format!("--width {value:?}: expected a whole number of columns, at least 40")
            );
        }
    }

    #[test]
    fn traces_filters() {
        let settings = parse_strs(&[
            "traces",
            "--service",
            "shop",
            "--min-duration",
            "100ms",
            "--errors",
            "--limit",
            "5",
        ])
        .unwrap();
        let Command::Traces(filter) = settings.command else {
            panic!()
        };
        assert_eq!(filter.service.as_deref(), Some("shop"));
        assert_eq!(filter.min_duration, Some(100_000_000));
        assert!(filter.errors);
        assert_eq!(filter.limit, 5);
    }

    #[test]
    fn receive_addresses_and_size() {
        let settings = parse_strs(&[
            "receive",
            "--listen",
            "off",
            "--http-listen",
            "127.0.0.1:0",
            "--max-bytes",
            "1MiB",
            "--max-connections",
            "16",
            "--max-in-flight=8MiB",
        ])
        .unwrap();
        let Command::Receive(receive) = settings.command else {
            panic!()
        };
        assert_eq!(receive.grpc, None);
        assert_eq!(receive.http, Some("127.0.0.1:0".parse().unwrap()));
        assert_eq!(receive.max_bytes, Some(1 << 20));
        assert_eq!(
            (receive.max_connections, receive.max_in_flight),
            (16, 8 << 20)
        );
        let Command::Receive(receive) = parse_strs(&["receive"]).unwrap().command else {
            panic!()
        };
        assert_eq!(
            (receive.max_connections, receive.max_in_flight),
            (256, 64 << 20)
        );
    }

    #[test]
    fn an_empty_max_bytes_says_a_size_is_needed() {
        let Err(Failure::Usage(message)) = parse_strs(&["receive", "--max-bytes="]) else {
            panic!("a usage error")
        };
        assert_eq!(message, "--max-bytes needs a size, like 67108864 or 64MiB");
    }

    #[test]
    fn help_and_version() {
        assert!(matches!(parse_strs(&[]), Err(Failure::Help(_))));
        assert!(matches!(
            parse_strs(&["show", "--help"]),
            Err(Failure::Help(_))
        ));
        assert!(
            matches!(parse_strs(&["--version"]), Err(Failure::Help(v)) if v.starts_with("tracelink "))
        );
    }

    /// `parse_strs` without unwrapping the usage error's message.
    fn usage_error(args: Vec<OsString>) -> String {
        match parse(args.into_iter()) {
            Err(Failure::Usage(message)) => message,
            other => panic!("a usage error, not {other:?}"),
        }
    }

    #[test]
    fn options_keep_their_messages() {
        let os = |args: &[&str]| args.iter().map(OsString::from).collect::<Vec<_>>();
        for (args, message) in [
            (
                &["show", TRACE, "--service", "x"][..],
                "unknown option --service for `tracelink show`",
            ),
            (
                &["show", TRACE, "-x"],
                "unknown option \"-x\" for `tracelink show`",
            ),
            (&["traces", "--errors=yes"], "--errors takes no value"),
            (&["receive", "--quiet="], "--quiet takes no value"),
            (&["show", TRACE, "--store"], "--store needs a value"),
            (
                &["show", TRACE, "--store", "--width", "80"],
                "--store needs a value",
            ),
            (&["traces", "--service", "--"], "--service needs a value"),
            (
                &["show", TRACE, "--logs", "--width=80"],
                "--logs needs a value",
            ),
            (&["--store", "s"], "unknown command \"--store\""),
            (
                &["traces", "--", "--errors"],
                "`tracelink traces` takes no argument \"--errors\"",
            ),
        ] {
            assert_eq!(usage_error(os(args)), message, "{args:?}");
        }
    }

    #[test]
    fn a_value_may_start_with_one_dash() {
        let settings = parse_strs(&["show", TRACE, "--store", "-"]).unwrap();
        assert_eq!(settings.store, PathBuf::from("-"));
        let settings = parse_strs(&["show", TRACE, "--store", "-s.jsonl"]).unwrap();
        assert_eq!(settings.store, PathBuf::from("-s.jsonl"));
    }

    #[test]
    fn help_and_version_after_the_command() {
        for args in [
            &["show", "-h"][..],
            &["traces", "--errors", "--help=x"],
            &["help"],
        ] {
            assert!(
                matches!(parse_strs(args), Err(Failure::Help(h)) if h == USAGE),
                "{args:?}"
            );
        }
        assert!(
            matches!(parse_strs(&["receive", "-V"]), Err(Failure::Help(v)) if v.starts_with("tracelink "))
        );
    }

    #[test]
    fn after_a_double_dash_everything_is_positional() {
        let settings =
            parse_strs(&["jump", "--store", "s.jsonl", "--", "--width", "x", "-h"]).unwrap();
        let Command::Jump { line, logs } = settings.command else {
            panic!()
        };
        assert_eq!(line.as_deref(), Some("--width x -h"));
        assert!(logs.is_empty());
        // `--logs` files stop at the `--`.
        let settings = parse_strs(&["show", "--logs", "a.log", "--", TRACE]).unwrap();
        let Command::Show { logs, .. } = settings.command else {
            panic!()
        };
        assert_eq!(logs, [PathBuf::from("a.log")]);
    }

    #[test]
    fn jump_logs_stop_at_the_line() {
        for line in [r#"{"trace_id":"x"}"#, "hello world", "trace_id=x"] {
            let settings = parse_strs(&["jump", "--logs", "a.log", "b.log", line]).unwrap();
            let Command::Jump { line: given, logs } = settings.command else {
                panic!()
            };
            assert_eq!(given.as_deref(), Some(line));
            assert_eq!(logs, [PathBuf::from("a.log"), PathBuf::from("b.log")]);
        }
    }

    /// The `OsString` of these bytes, UTF-8 or not.
    #[cfg(unix)]
    fn not_utf8(name: &[u8]) -> OsString {
        std::os::unix::ffi::OsStringExt::from_vec(name.to_vec())
    }

    #[cfg(unix)]
    #[test]
    fn paths_that_are_not_utf8_arrive_as_they_are() {
        use std::os::unix::ffi::OsStrExt;
        let log = not_utf8(&[b'a', 0xff, b'.', b'l', b'o', b'g']);
        let store = not_utf8(b"tr\xffces.jsonl");
        let eq = |name: &str, value: &OsString| {
            let mut arg = OsString::from(format!("--{name}="));
            arg.push(value);
            arg
        };
        for args in [
            vec![
                "show".into(),
                TRACE.into(),
                "--logs".into(),
                log.clone(),
                "b.log".into(),
                "--store".into(),
                store.clone(),
            ],
            vec![
                "show".into(),
                eq("logs", &log),
                "b.log".into(),
                TRACE.into(),
                eq("store", &store),
            ],
        ] {
            let settings = parse(args.clone().into_iter()).unwrap();
            assert_eq!(settings.store.as_os_str().as_bytes(), store.as_bytes());
            let Command::Show { logs, .. } = settings.command else {
                panic!("{args:?}")
            };
            assert_eq!(
                logs,
                [PathBuf::from(&log), PathBuf::from("b.log")],
                "{args:?}"
            );
            assert_eq!(logs[0].as_os_str().as_bytes(), log.as_bytes());
        }
        let settings =
            parse(vec!["receive".into(), "--store".into(), store.clone()].into_iter()).unwrap();
        assert_eq!(settings.store.as_os_str().as_bytes(), store.as_bytes());
    }

    #[cfg(unix)]
    #[test]
    fn text_that_is_not_utf8_is_a_usage_error_naming_the_option() {
        let bad = not_utf8(b"a\xffb");
        for (command, name) in [
            ("show", "width"),
            ("show", "color"),
            ("traces", "service"),
            ("traces", "min-duration"),
            ("traces", "limit"),
            ("receive", "listen"),
            ("receive", "http-listen"),
            ("receive", "max-bytes"),
            ("receive", "max-connections"),
            ("receive", "max-in-flight"),
        ] {
            let option = format!("--{name}");
            let mut joined = OsString::from(format!("{option}="));
            joined.push(&bad);
            let head: Vec<OsString> = match command {
                "show" => vec![command.into(), TRACE.into()],
                _ => vec![command.into()],
            };
            for tail in [vec![option.clone().into(), bad.clone()], vec![joined]] {
                let args: Vec<OsString> = head.iter().cloned().chain(tail).collect();
                assert_eq!(
                    usage_error(args),
                    format!("{option} \"a\\xFFb\": not valid UTF-8"),
                    "{command} {option}"
                );
            }
        }
        assert_eq!(
            usage_error(vec!["show".into(), bad.clone()]),
            "TRACE_ID \"a\\xFFb\": not valid UTF-8"
        );
        assert_eq!(
            usage_error(vec!["jump".into(), "x".into(), bad.clone()]),
            "LINE \"a\\xFFb\": not valid UTF-8"
        );
        assert!(usage_error(vec![bad]).starts_with("unknown command"));
    }
}
