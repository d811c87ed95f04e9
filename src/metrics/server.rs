//! The `/metrics` listener: one thread, a single-threaded runtime, HTTP/1.1.

use std::convert::Infallible;
use std::future::Future as _;
use std::net::SocketAddr;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

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

/// Binds `addr` and serves `/metrics` from a thread of its own until the
/// returned server is stopped; port 0 picks a free port
/// ([`MetricsServer::address`] says which).
pub(crate) fn serve(addr: SocketAddr, handle: MetricsHandle) -> std::io::Result<MetricsServer> {
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
                loop {
                    // The next connection, unless the guard says stop first.
                    let next = std::future::poll_fn(|cx| {
                        if std::pin::Pin::new(&mut stop_rx).poll(cx).is_ready() {
                            return std::task::Poll::Ready(None);
                        }
                        listener.poll_accept(cx).map(Some)
                    });
                    let Some(accepted) = next.await else {
                        break;
                    };
                    let Ok((stream, _)) = accepted else {
                        continue;
                    };
                    let handle = handle.clone();
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |request| {
                            let response = respond(&handle, &request);
                            async move { Ok::<_, Infallible>(response) }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
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
