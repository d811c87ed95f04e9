//! The command line: a small parser, so the tool builds in seconds.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::otlp::decode_hex;
use crate::style::{ColorChoice, MIN_WIDTH};

pub(crate) const USAGE: &str = "\
tracelink: traces from the local store, as waterfalls, with their log lines

Usage:
  tracelink show TRACE_ID [--logs FILE...] [--store PATH] [--width N]
  tracelink jump [LINE] [--logs FILE...] [--store PATH] [--width N]
  tracelink traces [--service NAME] [--min-duration 100ms] [--errors] [--limit N] [--store PATH]
  tracelink receive [--listen ADDR] [--http-listen ADDR] [--store PATH] [--max-bytes SIZE]
  tracelink help

Commands:
  show     The trace as a waterfall: the span tree with services, start offsets,
           durations and bars on one time scale; errors, events and key
           attributes under each span; then every log line of the trace from
           the --logs files, in time order, with the span it belongs to.
           TRACE_ID is 32 hex digits, or a traceparent (its span is marked).
  jump     Reads a log line (the argument, or the first line on stdin), and
           shows its trace with the line's span marked `>`.
  traces   Recent traces, newest first: start, duration, spans, service and
           name of the root span, errors.
  receive  An OTLP receiver (gRPC and HTTP/protobuf) that appends what it gets
           to the store, so services in any language show up too.

Options:
  --store PATH        The trace store: the file the `file` exporter writes, whose
                      rotated files (PATH.1, PATH.2, ...) are read too.
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

#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) command: Command,
    pub(crate) store: PathBuf,
    pub(crate) max_bytes: u64,
    pub(crate) color: ColorChoice,
    /// `--width`, for the waterfall.
    pub(crate) width: Option<usize>,
}

#[derive(Debug)]
pub(crate) struct TraceArg {
    pub(crate) trace_id: [u8; 16],
    pub(crate) span_id: Option<[u8; 8]>,
}

#[derive(Debug)]
pub(crate) enum Command {
    Show {
        trace: TraceArg,
        logs: Vec<PathBuf>,
    },
    Jump {
        line: Option<String>,
        logs: Vec<PathBuf>,
    },
    Traces(TracesFilter),
    Receive(ReceiveArgs),
}

#[derive(Debug)]
pub(crate) struct TracesFilter {
    pub(crate) service: Option<String>,
    pub(crate) min_duration: Option<u64>,
    pub(crate) errors: bool,
    pub(crate) limit: usize,
}

#[derive(Debug)]
pub(crate) struct ReceiveArgs {
    pub(crate) grpc: Option<SocketAddr>,
    pub(crate) http: Option<SocketAddr>,
    pub(crate) max_bytes: Option<u64>,
    pub(crate) quiet: bool,
}

/// Options each command takes (besides --store, --color and --help).
fn allowed(command: &str) -> &'static [&'static str] {
    match command {
        "show" | "jump" => &["logs", "width"],
        "traces" => &["service", "min-duration", "errors", "limit"],
        "receive" => &["listen", "http-listen", "max-bytes", "quiet"],
        _ => &[],
    }
}

/// Options that take no value.
const FLAGS: &[&str] = &["errors", "quiet", "help"];

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

/// The store path and rotation size from the environment, read by the
/// library's own rules (`TRACELINK_TRACES_FILE`,
/// `TRACELINK_TRACES_FILE_MAX_BYTES`).
fn store_defaults() -> (PathBuf, u64) {
    match tracelink::builder().with_strict_config(false).config() {
        Ok(config) => {
            for warning in config.warnings() {
                if warning.contains("TRACELINK_TRACES_FILE") {
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

pub(crate) fn parse(args: impl Iterator<Item = OsString>) -> Result<Settings, Failure> {
    let mut args: VecDeque<String> = args
        .map(|a| {
            a.into_string()
                .map_err(|a| Failure::Usage(format!("argument {a:?} is not UTF-8")))
        })
        .collect::<Result<_, _>>()?;
    let command = match args.pop_front() {
        None => return Err(Failure::Help(USAGE.into())),
        Some(c) => c,
    };
    match command.as_str() {
        "help" | "-h" | "--help" => return Err(Failure::Help(USAGE.into())),
        "-V" | "--version" => {
            return Err(Failure::Help(format!(
                "tracelink {}\n",
                env!("CARGO_PKG_VERSION")
            )))
        }
        "show" | "jump" | "traces" | "receive" => {}
        other => return Err(Failure::Usage(format!("unknown command {other:?}"))),
    }

    let mut positional: Vec<String> = Vec::new();
    let mut options: Vec<(String, Option<String>)> = Vec::new();
    let mut logs: Vec<PathBuf> = Vec::new();
    let mut only_positional = false;
    while let Some(arg) = args.pop_front() {
        if only_positional || !arg.starts_with('-') || arg == "-" {
            positional.push(arg);
            continue;
        }
        if arg == "--" {
            only_positional = true;
            continue;
        }
        let (name, inline) = match arg.strip_prefix("--") {
            Some(long) => match long.split_once('=') {
                Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
                None => (long.to_owned(), None),
            },
            None => match arg.as_str() {
                "-h" => ("help".to_owned(), None),
                "-V" => {
                    return Err(Failure::Help(format!(
                        "tracelink {}\n",
                        env!("CARGO_PKG_VERSION")
                    )))
                }
                _ => {
                    return Err(Failure::Usage(format!(
                        "unknown option {arg:?} for `tracelink {command}`"
                    )))
                }
            },
        };
        if name == "help" {
            return Err(Failure::Help(USAGE.into()));
        }
        if !matches!(name.as_str(), "store" | "color")
            && !allowed(&command).contains(&name.as_str())
        {
            return Err(Failure::Usage(format!(
                "unknown option --{name} for `tracelink {command}`"
            )));
        }
        if FLAGS.contains(&name.as_str()) {
            if inline.is_some() {
                return Err(Failure::Usage(format!("--{name} takes no value")));
            }
            options.push((name, None));
            continue;
        }
        let value = match inline {
            Some(value) => value,
            None => match args.pop_front() {
                Some(value) if !value.starts_with("--") => value,
                _ => return Err(Failure::Usage(format!("--{name} needs a value"))),
            },
        };
        if name == "logs" {
            logs.push(PathBuf::from(value));
            // More files may follow: everything up to the next option, but a
            // trace id `show` still lacks.
            while let Some(next) = args.front() {
                if next.starts_with('-') {
                    break;
                }
                if command == "show" && positional.is_empty() && trace_arg(next).is_ok() {
                    break;
                }
                // A log line for `jump`: JSON, or text with spaces or `key=value`.
                if command == "jump" && (next.starts_with('{') || next.contains([' ', '='])) {
                    break;
                }
                logs.push(PathBuf::from(args.pop_front().unwrap_or_default()));
            }
            continue;
        }
        options.push((name, Some(value)));
    }

    let (default_store, max_bytes) = store_defaults();
    let mut store = default_store;
    let mut color = ColorChoice::Auto;
    let mut columns = None;
    let mut service = None;
    let mut min_duration = None;
    let mut errors = false;
    let mut limit = 20;
    let mut grpc = Some(SocketAddr::from(([127, 0, 0, 1], 4317)));
    let mut http = Some(SocketAddr::from(([127, 0, 0, 1], 4318)));
    let mut receive_max_bytes = None;
    let mut quiet = false;
    for (name, value) in options {
        let value = value.unwrap_or_default();
        match name.as_str() {
            "store" => store = PathBuf::from(value),
            "color" => {
                color = ColorChoice::parse(&value).ok_or_else(|| {
                    Failure::Usage(format!("--color {value:?}: expected auto, always or never"))
                })?
            }
            "width" => columns = Some(width(&value)?),
            "service" => service = Some(value),
            "min-duration" => {
                min_duration = Some(crate::time::parse_duration(&value).map_err(Failure::Usage)?)
            }
            "errors" => errors = true,
            "limit" => {
                limit = value.parse().map_err(|_| {
                    Failure::Usage(format!("--limit {value:?}: expected a whole number"))
                })?
            }
            "listen" => grpc = socket("listen", &value)?,
            "http-listen" => http = socket("http-listen", &value)?,
            "max-bytes" => {
                // The library takes an empty variable for an unset one, and
                // its default: a size given empty is a mistake.
                if value.trim().is_empty() {
                    return Err(Failure::Usage(
                        "--max-bytes needs a size, like 67108864 or 64MiB".into(),
                    ));
                }
                // The library's parser, through its builder.
                let config = tracelink::builder()
                    .with_env([(
                        tracelink::env::TRACELINK_TRACES_FILE_MAX_BYTES,
                        value.as_str(),
                    )])
                    .config()
                    .map_err(|e| Failure::Usage(e.to_string()))?;
                if !config.warnings().is_empty() {
                    return Err(Failure::Usage(format!(
                        "--max-bytes {value:?}: expected a size, like 67108864 or 64MiB"
                    )));
                }
                receive_max_bytes = Some(config.traces_file_max_bytes());
            }
            "quiet" => quiet = true,
            _ => unreachable!("options are checked above"),
        }
    }

    let command = match command.as_str() {
        "show" => {
            let [trace] = &positional[..] else {
                return Err(Failure::Usage(if positional.is_empty() {
                    "`tracelink show` needs a TRACE_ID".into()
                } else {
                    format!("`tracelink show` takes one TRACE_ID, not {positional:?}")
                }));
            };
            Command::Show {
                trace: trace_arg(trace).map_err(Failure::Usage)?,
                logs,
            }
        }
        "jump" => Command::Jump {
            // An unquoted line arrives in pieces.
            line: (!positional.is_empty()).then(|| positional.join(" ")),
            logs,
        },
        "traces" => {
            no_positional(&command, &positional)?;
            Command::Traces(TracesFilter {
                service,
                min_duration,
                errors,
                limit,
            })
        }
        _ => {
            no_positional(&command, &positional)?;
            if grpc.is_none() && http.is_none() {
                return Err(Failure::Usage(
                    "--listen and --http-listen are both off".into(),
                ));
            }
            Command::Receive(ReceiveArgs {
                grpc,
                http,
                max_bytes: receive_max_bytes,
                quiet,
            })
        }
    };
    Ok(Settings {
        command,
        store,
        max_bytes,
        color,
        width: columns,
    })
}

fn no_positional(command: &str, positional: &[String]) -> Result<(), Failure> {
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
        ])
        .unwrap();
        let Command::Receive(receive) = settings.command else {
            panic!()
        };
        assert_eq!(receive.grpc, None);
        assert_eq!(receive.http, Some("127.0.0.1:0".parse().unwrap()));
        assert_eq!(receive.max_bytes, Some(1 << 20));
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
}
