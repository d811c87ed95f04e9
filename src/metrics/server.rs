//! The `/metrics` listener: one thread, a single-threaded runtime, HTTP/1.1,
//! and limits that no client can hold it past ([`Limits`]): a bounded number
//! of connections (the oldest closed for a new one), a deadline for each
//! request's headers, bounded headers, and a pause that grows between failed
//! accepts, so that running out of file descriptors does not spin the thread.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future as _;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Poll;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};

use super::{Format, MetricsHandle};

fn respond(handle: &MetricsHandle, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    let reply = |status, content_type: &str, body: String| {
        Response::builder()
            .status(status)
            .header("content-type", content_type)
            .body(Full::new(Bytes::from(body)))
            .unwrap_or_default()
    };
    if request.uri().path() != "/metrics" {
        return reply(
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found; try /metrics\n".into(),
        );
    }
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "use GET\n".into(),
        );
    }
    let accept = request
        .headers()
        .get(hyper::header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    let format = Format::from_accept(accept);
    reply(StatusCode::OK, format.content_type(), handle.render(format))
}

/// The running `/metrics` listener: its address, and what stops it. The
/// [`Guard`](crate::Guard) owns it and stops it at shutdown, as it does the
/// export thread.
#[derive(Debug)]
pub(crate) struct MetricsServer {
    address: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// In a mutex only so that the guard stays `Sync`.
    stopped: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MetricsServer {
    /// Where it listens.
    pub(crate) fn address(&self) -> SocketAddr {
        self.address
    }

    /// Stops accepting, drops open connections and ends the thread, waiting
    /// for it until `deadline` at the most; whether it ended in time.
    pub(crate) fn stop(&mut self, deadline: std::time::Instant) -> bool {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let stopped = self
            .stopped
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .recv_timeout(left);
        if matches!(stopped, Err(std::sync::mpsc::RecvTimeoutError::Timeout)) {
            return false;
        }
        // It has said its last word: the join is immediate.
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        true
    }
}

/// What keeps the listener from being held: at most `max_connections` open
/// at once (a new one past it closes the oldest), `header_read_timeout` for
/// a request's headers (and for the next request on a kept-alive
/// connection), headers of at most `max_header_bytes`, and a pause between
/// failed accepts that doubles up to `max_accept_backoff`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) max_connections: usize,
    pub(crate) header_read_timeout: Duration,
    pub(crate) max_header_bytes: usize,
    pub(crate) first_accept_backoff: Duration,
    pub(crate) max_accept_backoff: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 64,
            header_read_timeout: Duration::from_secs(10),
            // hyper's least.
            max_header_bytes: 16 * 1024,
            first_accept_backoff: Duration::from_millis(10),
            max_accept_backoff: Duration::from_secs(1),
        }
    }
}

/// The open connections, oldest first, each with what closes it.
#[derive(Debug, Default)]
struct Connections {
    next: u64,
    open: BTreeMap<u64, tokio::sync::oneshot::Sender<()>>,
}

fn lock(connections: &Mutex<Connections>) -> MutexGuard<'_, Connections> {
    connections.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An accept error that concerns one connection only (the next accept is
/// fine); any other (out of file descriptors, of memory) waits a while.
fn concerns_one_connection(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::Interrupted
            | std::io::ErrorKind::WouldBlock
    )
}

/// Binds `addr` and serves `/metrics` from a thread of its own until the
/// returned server is stopped; port 0 picks a free port
/// ([`MetricsServer::address`] says which).
pub(crate) fn serve(addr: SocketAddr, handle: MetricsHandle) -> std::io::Result<MetricsServer> {
    serve_with(addr, handle, Limits::default())
}

pub(crate) fn serve_with(
    addr: SocketAddr,
    handle: MetricsHandle,
    limits: Limits,
) -> std::io::Result<MetricsServer> {
    let listener = std::net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let bound = listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (stop, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (stopped_tx, stopped) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("tracelink-metrics".into())
        .spawn(move || {
            crate::filter::quiet::mark_export_thread();
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                let connections = Arc::new(Mutex::new(Connections::default()));
                let mut http = hyper::server::conn::http1::Builder::new();
                http.timer(TokioTimer::new())
                    .header_read_timeout(limits.header_read_timeout)
                    .max_buf_size(limits.max_header_bytes.max(8192));
                let mut backoff = limits.first_accept_backoff;
                let mut warned = false;
                loop {
                    // The next connection, unless the guard says stop first.
                    let next = std::future::poll_fn(|cx| {
                        if Pin::new(&mut stop_rx).poll(cx).is_ready() {
                            return Poll::Ready(None);
                        }
                        listener.poll_accept(cx).map(Some)
                    });
                    let stream = match next.await {
                        None => break,
                        Some(Ok((stream, _))) => {
                            backoff = limits.first_accept_backoff;
                            stream
                        }
                        Some(Err(error)) if concerns_one_connection(&error) => continue,
                        Some(Err(error)) => {
                            // Out of file descriptors, say: the connection
                            // stays queued and the next accept fails the
                            // same way, so wait before trying again.
                            if !warned {
                                warned = true;
                                crate::diag::diag!(
                                    Warn,
                                    "the /metrics listener cannot accept a connection ({error}); \
                                     it retries, waiting up to {:?} between tries",
                                    limits.max_accept_backoff
                                );
                            }
                            let mut pause = Box::pin(tokio::time::sleep(backoff));
                            let stopped = std::future::poll_fn(|cx| {
                                if Pin::new(&mut stop_rx).poll(cx).is_ready() {
                                    return Poll::Ready(true);
                                }
                                pause.as_mut().poll(cx).map(|()| false)
                            });
                            if stopped.await {
                                break;
                            }
                            backoff = (backoff * 2).min(limits.max_accept_backoff);
                            continue;
                        }
                    };
                    let (id, mut close) = {
                        let mut open = lock(&connections);
                        // The oldest goes first: a slow or idle client loses
                        // its connection before a new scrape is turned away.
                        while open.open.len() >= limits.max_connections.max(1) {
                            // Dropping its sender closes it.
                            if open.open.pop_first().is_none() {
                                break;
                            }
                        }
                        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
                        let id = open.next;
                        open.next += 1;
                        open.open.insert(id, tx);
                        (id, rx)
                    };
                    let handle = handle.clone();
                    let http = http.clone();
                    let connections = connections.clone();
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |request| {
                            let response = respond(&handle, &request);
                            async move { Ok::<_, Infallible>(response) }
                        });
                        let mut connection = http.serve_connection(TokioIo::new(stream), service);
                        std::future::poll_fn(|cx| {
                            if Pin::new(&mut close).poll(cx).is_ready() {
                                return Poll::Ready(());
                            }
                            Pin::new(&mut connection).poll(cx).map(|_| ())
                        })
                        .await;
                        lock(&connections).open.remove(&id);
                    });
                }
            });
            // The runtime goes with its connections' tasks, then the thread says so.
            drop(runtime);
            let _ = stopped_tx.send(());
        })?;
    Ok(MetricsServer {
        address: bound,
        stop: Some(stop),
        stopped: std::sync::Mutex::new(stopped),
        thread: Some(thread),
    })
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Instant;

    use super::*;

    fn handle() -> MetricsHandle {
        super::super::MetricsRecorder::new(super::super::MetricsConfig::default()).handle()
    }

    fn slow_client(address: SocketAddr) -> TcpStream {
        let mut stream = TcpStream::connect(address).expect("connect");
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            .expect("half a request");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("read timeout");
        stream
    }

    /// Reads until the server closes; what it sent.
    fn until_closed(stream: &mut TcpStream) -> String {
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    fn scrape(address: SocketAddr) -> String {
        let mut stream = TcpStream::connect(address).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("read timeout");
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .expect("a request");
        until_closed(&mut stream)
    }

    #[test]
    fn headers_must_arrive_before_the_deadline() {
        let limits = Limits {
            header_read_timeout: Duration::from_millis(300),
            ..Limits::default()
        };
        let mut server = serve_with("127.0.0.1:0".parse().unwrap(), handle(), limits).unwrap();
        let start = Instant::now();
        let mut slow = slow_client(server.address());
        until_closed(&mut slow);
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_millis(250) && waited < Duration::from_secs(5),
            "closed after {waited:?}"
        );
        assert!(scrape(server.address()).starts_with("HTTP/1.1 200"));
        assert!(server.stop(Instant::now() + Duration::from_secs(5)));
    }

    #[test]
    fn a_new_connection_past_the_limit_closes_the_oldest() {
        let limits = Limits {
            max_connections: 2,
            ..Limits::default()
        };
        let mut server = serve_with("127.0.0.1:0".parse().unwrap(), handle(), limits).unwrap();
        let mut first = slow_client(server.address());
        std::thread::sleep(Duration::from_millis(100));
        let _second = slow_client(server.address());
        std::thread::sleep(Duration::from_millis(100));
        let start = Instant::now();
        assert!(scrape(server.address()).starts_with("HTTP/1.1 200"));
        assert!(start.elapsed() < Duration::from_secs(5));
        // The first was closed to make way, long before its header deadline.
        assert_eq!(until_closed(&mut first), "");
        assert!(start.elapsed() < Duration::from_secs(5));
        assert!(server.stop(Instant::now() + Duration::from_secs(5)));
    }

    #[test]
    fn oversized_headers_are_refused() {
        let mut server =
            serve_with("127.0.0.1:0".parse().unwrap(), handle(), Limits::default()).unwrap();
        let mut stream = TcpStream::connect(server.address()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let filler = "a".repeat(64 * 1024);
        let _ = write!(
            stream,
            "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Filler: {filler}\r\n\r\n"
        );
        let response = until_closed(&mut stream);
        assert!(
            response.is_empty() || response.starts_with("HTTP/1.1 431"),
            "{response}"
        );
        assert!(server.stop(Instant::now() + Duration::from_secs(5)));
    }
}
