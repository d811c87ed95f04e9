//! The test service that the official [W3C Trace Context test suite] drives:
//! it shows that a tracelink service (`ServerLayer` in, `send_traced` out)
//! passes the W3C conformance tests.
//!
//! Run with
//!
//! ```text
//! bash scripts/w3c-trace-context.sh
//! ```
//!
//! which builds and starts it, runs the suite against it and stops it. Or run
//! the service alone and point the suite at `http://127.0.0.1:5000/test`:
//!
//! ```text
//! cargo run --example w3c_test_service --features tower,reqwest -- --port 5000
//! ```
//!
//! ## What it does
//!
//! It listens on 127.0.0.1, on the port given by `--port N`, else by the
//! `W3C_TEST_SERVICE_PORT` environment variable, else 5000 (not the suite's
//! 7777: that is where the suite's own harness listens). `--port 0` picks a
//! free port; the address is printed on stderr either way.
//!
//! `POST /test` takes the suite's instructions, a JSON list of
//! `{"url": ..., "arguments": ...}`. For each item, in order, it POSTs
//! `arguments` as JSON to `url` with `send_traced`: a CLIENT span, child of
//! the request's SERVER span, whose context goes out in `traceparent` and
//! `tracestate`. That is the whole W3C contract: the suite checks what comes
//! out against what it sent in. The service then answers 200 with a JSON
//! list of what each callback answered (`{"url", "status"}` or
//! `{"url", "error"}`).
//!
//! ## Configuration
//!
//! Everything else comes from the usual `OTEL_*` variables, as
//! `tracelink::init()` reads them, with one difference: when
//! `OTEL_TRACES_EXPORTER` is not set, spans are not exported at all (`none`),
//! so the service runs without a collector. Set `OTEL_TRACES_EXPORTER=otlp`
//! (and `OTEL_EXPORTER_OTLP_ENDPOINT`) to see the suite's traces in a
//! backend, or `console` to print them. Log lines, one JSON object per event
//! with the trace id, go to stdout.
//!
//! [W3C Trace Context test suite]: https://github.com/w3c/trace-context/tree/main/test

use std::process::ExitCode;

use axum::extract::{MatchedPath, State};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use tracelink::http::{RequestBuilderExt, ServerLayer};

/// The port when neither `--port` nor [`PORT_VAR`] says otherwise.
const DEFAULT_PORT: u16 = 5000;
/// The environment variable with the port; `--port` wins over it.
const PORT_VAR: &str = "W3C_TEST_SERVICE_PORT";

const USAGE: &str = "usage: w3c_test_service [--port N]

Serves POST /test on 127.0.0.1 for the W3C Trace Context test suite.

  --port N   the port to listen on (0 picks a free one); defaults to
             $W3C_TEST_SERVICE_PORT, else 5000";

fn main() -> ExitCode {
    let port = match port(std::env::args().skip(1), std::env::var(PORT_VAR).ok()) {
        Ok(Some(port)) => port,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("w3c_test_service: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match serve(port) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("w3c_test_service: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The port from the command line, else from `from_env`, else
/// [`DEFAULT_PORT`]; `None` when help was asked for.
fn port(
    mut args: impl Iterator<Item = String>,
    from_env: Option<String>,
) -> Result<Option<u16>, String> {
    let mut from_args = None;
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--port" => args
                .next()
                .ok_or_else(|| "--port needs a value".to_owned())?,
            _ => match arg.strip_prefix("--port=") {
                Some(value) => value.to_owned(),
                None => return Err(format!("unexpected argument {arg:?}")),
            },
        };
        from_args = Some(parse_port(&value).map_err(|e| format!("invalid --port: {e}"))?);
    }
    if let Some(port) = from_args {
        return Ok(Some(port));
    }
    match from_env {
        Some(value) => parse_port(&value)
            .map(Some)
            .map_err(|e| format!("invalid {PORT_VAR}: {e}")),
        None => Ok(Some(DEFAULT_PORT)),
    }
}

fn parse_port(value: &str) -> Result<u16, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("{value:?} is not a port number (0 to 65535)"))
}

/// Sets tracelink up and serves until SIGTERM or Ctrl-C.
fn serve(port: u16) -> Result<(), Box<dyn std::error::Error>> {
    let mut builder = tracelink::builder().with_service_name("w3c-test-service");
    if std::env::var_os("OTEL_TRACES_EXPORTER").is_none() {
        // No collector needed to run the suite; the env variable overrides this.
        builder = builder.with_traces_exporters([]);
    }
    let guard = builder.init()?;

    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let address = listener.local_addr()?;
        eprintln!("w3c_test_service: listening on http://{address}/test");
        tracing::info!(%address, "w3c test service listening");
        // No proxy: the test harness and this service talk over loopback, which
        // reqwest would otherwise send through `HTTP_PROXY`.
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("a reqwest client");
        axum::serve(listener, app(client))
            .with_graceful_shutdown(stopped())
            .await?;
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    drop(runtime);
    guard.shutdown()?;
    Ok(())
}

/// `POST /test`, each request in a SERVER span continuing the caller's trace.
fn app(client: reqwest::Client) -> Router {
    Router::new()
        .route("/test", post(test))
        .with_state(client)
        .layer(
            ServerLayer::new().with_route(|ext| ext.get::<MatchedPath>().map(MatchedPath::as_str)),
        )
}

/// Calls back each `url` with its `arguments`, in order, from inside the
/// request's span.
async fn test(
    State(client): State<reqwest::Client>,
    Json(actions): Json<Vec<Value>>,
) -> Json<Value> {
    let mut results = Vec::with_capacity(actions.len());
    for action in actions {
        let Some(url) = action.get("url").and_then(Value::as_str) else {
            tracing::warn!(%action, "instruction without a url; skipped");
            results.push(json!({ "error": "no url" }));
            continue;
        };
        let arguments = action.get("arguments").cloned().unwrap_or(json!([]));
        // The CLIENT span's context travels in this request's headers.
        match client.post(url).json(&arguments).send_traced().await {
            Ok(response) => {
                let status = response.status().as_u16();
                tracing::info!(url, status, "called back");
                // Read the answer so that the connection can be reused.
                let _ = response.bytes().await;
                results.push(json!({ "url": url, "status": status }));
            }
            Err(error) => {
                tracing::warn!(url, %error, "callback failed");
                results.push(json!({ "url": url, "error": error.to_string() }));
            }
        }
    }
    Json(Value::Array(results))
}

/// Resolves on SIGTERM (how scripts/w3c-trace-context.sh stops it) or Ctrl-C.
async fn stopped() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    eprintln!("w3c_test_service: stopping");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> impl Iterator<Item = String> {
        list.iter()
            .map(|s| (*s).to_owned())
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn the_flag_wins_over_the_variable_which_wins_over_the_default() {
        let env = || Some("6000".to_owned());
        assert_eq!(port(args(&["--port", "7000"]), env()), Ok(Some(7000)));
        assert_eq!(port(args(&["--port=7001"]), env()), Ok(Some(7001)));
        // The flag wins even over a bad variable.
        assert_eq!(
            port(args(&["--port", "7002"]), Some("x".into())),
            Ok(Some(7002))
        );
        assert_eq!(port(args(&[]), env()), Ok(Some(6000)));
        assert_eq!(port(args(&[]), Some(" 6001 ".into())), Ok(Some(6001)));
        assert_eq!(port(args(&[]), None), Ok(Some(DEFAULT_PORT)));
        assert_eq!(port(args(&["--port", "0"]), None), Ok(Some(0)));
        assert_eq!(port(args(&["--help"]), None), Ok(None));
    }

    #[test]
    fn bad_values_are_named() {
        let error = |list: &[&str], env: Option<&str>| {
            port(args(list), env.map(str::to_owned)).expect_err("an error")
        };
        assert_eq!(
            error(&["--port", "abc"], None),
            "invalid --port: \"abc\" is not a port number (0 to 65535)"
        );
        assert_eq!(
            error(&[], Some("70000")),
            "invalid W3C_TEST_SERVICE_PORT: \"70000\" is not a port number (0 to 65535)"
        );
        assert_eq!(error(&["--port"], None), "--port needs a value");
        assert_eq!(error(&["5000"], None), "unexpected argument \"5000\"");
    }
}
