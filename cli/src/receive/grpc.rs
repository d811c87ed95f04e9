//! OTLP/gRPC: `TraceService/Export` and `LogsService/Export` over HTTP/2,
//! gzip or not, with tonic's framing, compression and status codes, and a
//! codec of its own that hands the request's bytes to
//! [`split`](super::split) undecoded. The two methods take one path, told
//! apart by their [`Kind`] alone.
//!
//! A request's claim on the budget is taken when the 5-byte gRPC prefix
//! of its body tells its length, before the rest is read; a request that
//! does not fit is answered `RESOURCE_EXHAUSTED` with a `RetryInfo`.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use prost::bytes::Buf;
use prost::Message;
use tonic::codec::{CompressionEncoding, DecodeBuf, EncodeBuf};
use tonic::{Code, Status};

use super::limits::{self, Claim, Refused, BODY_TIMEOUT};
use super::signal::Kind;
use super::split::Failed;
use super::{busy_message, busy_status, ExportResponse, State};

/// Requests at once on one connection, at most.
const MAX_STREAMS: u32 = 32;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub(super) async fn serve(listener: tokio::net::TcpListener, state: Arc<State>) {
    let mut builder =
        hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new());
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .max_concurrent_streams(MAX_STREAMS)
        .max_header_list_size(64 << 10);
    loop {
        let stream = limits::accept(&listener, "OTLP/gRPC").await;
        let Some(admitted) = state.connections.admit().await else {
            return;
        };
        // Idle (so closed) includes a client that never sends HTTP/2's preface.
        let service = admitted.service(&state, handle);
        let connection = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        tokio::spawn(admitted.hold(connection));
    }
}

/// What a request's body, its codec and its handler share: the claim, and
/// how much of it the body took.
struct Ticket {
    claim: Claim,
    body: AtomicUsize,
}

async fn handle(
    state: Arc<State>,
    request: hyper::Request<Incoming>,
) -> hyper::Response<tonic::body::Body> {
    let state = &state;
    let Some(kind) = Kind::of_grpc_path(request.uri().path()) else {
        return Status::unimplemented(format!(
            "tracelink receive serves {} and {}, not {}",
            Kind::Traces.grpc_path(),
            Kind::Logs.grpc_path(),
            request.uri().path()
        ))
        .into_http();
    };
    let ticket = Arc::new(Ticket {
        claim: state.budget.claim(),
        body: AtomicUsize::new(0),
    });
    let max = state.max_body();
    let request = request.map(|inner| Guarded {
        inner,
        deadline: Box::pin(tokio::time::sleep(BODY_TIMEOUT)),
        ticket: ticket.clone(),
        state: state.clone(),
        max,
        prefix: Vec::with_capacity(5),
        seen: 0,
    });
    let mut grpc = tonic::server::Grpc::new(Codec {
        ticket: ticket.clone(),
        state: state.clone(),
    })
    .accept_compressed(CompressionEncoding::Gzip)
    .max_decoding_message_size(max);
    grpc.unary(
        Export {
            kind,
            state: state.clone(),
            ticket,
        },
        request,
    )
    .await
}

/// `RESOURCE_EXHAUSTED`, with a `RetryInfo` in its details.
fn busy(state: &State) -> Status {
    let message = busy_message(&state.budget);
    let details = busy_status(message.clone()).encode_to_vec();
    Status::with_details(Code::ResourceExhausted, message, Bytes::from(details))
}

fn too_large(max: usize) -> Status {
    Status::out_of_range(format!(
        "the request is larger than {max} bytes, the most tracelink receive takes"
    ))
}

fn refused(state: &State, refused: Refused) -> Status {
    match refused {
        Refused::Busy => busy(state),
        Refused::TooLarge => too_large(state.max_body()),
    }
}

/// A request's body, claimed on the budget as the gRPC prefix tells its
/// length, and cut off at its deadline.
struct Guarded {
    inner: Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
    ticket: Arc<Ticket>,
    state: Arc<State>,
    max: usize,
    /// The first 5 bytes: the compressed flag and the length.
    prefix: Vec<u8>,
    /// Bytes of the body so far.
    seen: usize,
}

impl Guarded {
    fn count(&mut self, data: &[u8]) -> Result<(), Status> {
        if self.prefix.len() < 5 {
            let take = (5 - self.prefix.len()).min(data.len());
            self.prefix.extend_from_slice(&data[..take]);
            if self.prefix.len() == 5 {
                let len = u32::from_be_bytes([
                    self.prefix[1],
                    self.prefix[2],
                    self.prefix[3],
                    self.prefix[4],
                ]) as usize;
                // Longer than the limit, tonic refuses it, unread.
                if len <= self.max {
                    self.claim(5 + len)?;
                }
            }
        }
        self.seen += data.len();
        // Past the message: claimed as it comes.
        if self.seen > self.ticket.body.load(Ordering::Acquire) {
            self.claim(self.seen)?;
        }
        Ok(())
    }

    /// Grows the body's claim to `bytes`.
    fn claim(&self, bytes: usize) -> Result<(), Status> {
        let held = self.ticket.body.load(Ordering::Acquire);
        if bytes <= held {
            return Ok(());
        }
        self.ticket
            .claim
            .grow(bytes - held)
            .map_err(|r| refused(&self.state, r))?;
        self.ticket.body.store(bytes, Ordering::Release);
        Ok(())
    }
}

impl Drop for Guarded {
    /// tonic drops the body once it has the message: its buffer goes, and
    /// what it claimed, unless the message kept it (see [`Codec`]).
    fn drop(&mut self) {
        let body = self.ticket.body.swap(0, Ordering::AcqRel);
        self.ticket.claim.shrink(body);
    }
}

impl Body for Guarded {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if this.deadline.as_mut().poll(cx).is_ready() {
            let status = Status::deadline_exceeded(format!(
                "the request did not arrive within {} s",
                BODY_TIMEOUT.as_secs()
            ));
            return Poll::Ready(Some(Err(status.into())));
        }
        match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    if let Err(status) = this.count(data) {
                        return Poll::Ready(Some(Err(status.into())));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Some(Err(error)) => Poll::Ready(Some(Err(error.into()))),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The message's bytes, undecoded; responses encoded by prost.
struct Codec {
    ticket: Arc<Ticket>,
    state: Arc<State>,
}

impl tonic::codec::Codec for Codec {
    type Encode = ExportResponse;
    type Decode = Bytes;
    type Encoder = Encoder;
    type Decoder = Decoder;

    fn encoder(&mut self) -> Encoder {
        Encoder
    }

    fn decoder(&mut self) -> Decoder {
        Decoder {
            ticket: self.ticket.clone(),
            state: self.state.clone(),
        }
    }
}

struct Encoder;

impl tonic::codec::Encoder for Encoder {
    type Item = ExportResponse;
    type Error = Status;

    fn encode(&mut self, item: Self::Item, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        item.encode(dst)
            .map_err(|e| Status::internal(format!("encoding the response: {e}")))
    }
}

struct Decoder {
    ticket: Arc<Ticket>,
    state: Arc<State>,
}

impl tonic::codec::Decoder for Decoder {
    type Item = Bytes;
    type Error = Status;

    /// The message, without a copy (tonic's buffer, split off). Its claim:
    /// the body's, handed over, when it was not compressed; else the
    /// decompressed bytes on top of the body's, which goes with the body.
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        let len = src.remaining();
        let body = self.ticket.body.load(Ordering::Acquire);
        if body == 5 + len {
            self.ticket.body.store(0, Ordering::Release);
        } else {
            self.ticket
                .claim
                .grow(len)
                .map_err(|r| refused(&self.state, r))?;
        }
        Ok(Some(src.copy_to_bytes(len)))
    }
}

/// Stores the request of its signal, off the runtime's thread; holds its
/// claim until its lines are written.
struct Export {
    kind: Kind,
    state: Arc<State>,
    ticket: Arc<Ticket>,
}

impl tonic::server::UnaryService<Bytes> for Export {
    type Response = ExportResponse;
    type Future =
        Pin<Box<dyn Future<Output = Result<tonic::Response<Self::Response>, Status>> + Send>>;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        let store = self.state.store.clone();
        let ticket = self.ticket.clone();
        let kind = self.kind;
        Box::pin(async move {
            let bytes = request.into_inner();
            let stored = tokio::task::spawn_blocking(move || {
                let stored = store.append(kind, &bytes, "OTLP/gRPC");
                drop((bytes, ticket));
                stored
            })
            .await
            .map_err(|e| Status::unavailable(format!("the request failed: {e}")))?;
            match stored {
                Ok(()) => Ok(tonic::Response::new(ExportResponse::default())),
                Err(Failed::Decode(e)) => Err(Status::invalid_argument(format!(
                    "not an {}: {e}",
                    kind.request_name()
                ))),
                Err(Failed::Write(e)) => Err(Status::unavailable(e)),
            }
        })
    }
}
