//! The `/metrics` listener: one thread, a single-threaded runtime, HTTP/1.1.

use std::convert::Infallible;
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

/// Binds `addr` and serves `/metrics` from a background thread; returns the
/// address actually bound (port 0 picks a free one).
pub(crate) fn serve(addr: SocketAddr, handle: MetricsHandle) -> std::io::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let bound = listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("tracelink-metrics".into())
        .spawn(move || {
            crate::filter::quiet::mark_export_thread();
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
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
        })?;
    Ok(bound)
}
