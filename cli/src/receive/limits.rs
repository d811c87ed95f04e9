//! What keeps `tracelink receive` from being held: a budget of bytes in
//! flight over every request, a limit on open connections that makes room
//! by closing the one idle longest, an idle timeout per connection, and a
//! pause that grows between failed `accept`s.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use hyper::body::{Body, Incoming};
use hyper::service::Service;
use hyper::{Request, Response};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// A connection with no request in progress (its first request's headers
/// still coming, or between requests, or an HTTP/2 client that never
/// starts) is closed after this long.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// A request's body must have arrived this long after its headers.
pub(crate) const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// What a refused client is told to wait before it tries again: HTTP's
/// `Retry-After`, gRPC's `RetryInfo`.
pub(crate) const RETRY_AFTER: Duration = Duration::from_secs(1);

/// File descriptors kept free of connections: the store's files, the
/// listeners, the runtime's own.
const SPARE_FDS: u64 = 32;

/// The first pause after a failed `accept`, and the longest.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);
const ACCEPT_PAUSE_MAX: Duration = Duration::from_secs(1);

/// How often a new connection waiting for room looks again for an idle one
/// to close.
const ROOM_CHECK: Duration = Duration::from_millis(200);

// ---------------------------------------------------------------------------
// Bytes in flight
// ---------------------------------------------------------------------------

/// The bytes every request holds together, at most: bodies as they arrive,
/// and as they are decompressed, until their lines are in the store.
#[derive(Clone, Debug)]
pub(crate) struct Budget(Arc<BudgetInner>);

#[derive(Debug)]
struct BudgetInner {
    limit: usize,
    used: AtomicUsize,
}

/// Why a claim did not grow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Other requests hold the budget: try again soon (429,
    /// `RESOURCE_EXHAUSTED`).
    Busy,
    /// Larger than the whole budget: it never fits (413).
    TooLarge,
}

impl Budget {
    pub(crate) fn new(limit: usize) -> Self {
        Self(Arc::new(BudgetInner {
            limit: limit.max(1),
            used: AtomicUsize::new(0),
        }))
    }

    pub(crate) fn limit(&self) -> usize {
        self.0.limit
    }

    /// A request's claim, of nothing yet.
    pub(crate) fn claim(&self) -> Claim {
        Claim {
            budget: self.clone(),
            held: AtomicUsize::new(0),
        }
    }

    #[cfg(test)]
    fn used(&self) -> usize {
        self.0.used.load(Ordering::Relaxed)
    }
}

/// A request's share of the [`Budget`], given back when dropped. Shared
/// (in an `Arc`) by the parts of a request that hold its bytes.
#[derive(Debug)]
pub(crate) struct Claim {
    budget: Budget,
    held: AtomicUsize,
}

impl Claim {
    /// Takes `bytes` more from the budget, all or nothing.
    pub(crate) fn grow(&self, bytes: usize) -> Result<(), Refused> {
        let inner = &self.budget.0;
        if self.held().saturating_add(bytes) > inner.limit {
            return Err(Refused::TooLarge);
        }
        inner
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes)
                    .filter(|&total| total <= inner.limit)
            })
            .map_err(|_| Refused::Busy)?;
        self.held.fetch_add(bytes, Ordering::AcqRel);
        Ok(())
    }

    /// Grows the claim to `bytes` in all, if it holds less.
    pub(crate) fn grow_to(&self, bytes: usize) -> Result<(), Refused> {
        self.grow(bytes.saturating_sub(self.held()))
    }

    /// Gives `bytes` back (at most what it holds).
    pub(crate) fn shrink(&self, bytes: usize) {
        let given = self
            .held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                Some(held.saturating_sub(bytes))
            })
            .map_or(0, |held| held.min(bytes));
        self.budget.0.used.fetch_sub(given, Ordering::AcqRel);
    }

    pub(crate) fn held(&self) -> usize {
        self.held.load(Ordering::Acquire)
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.shrink(usize::MAX);
    }
}

// ---------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------

/// The connections open on every listener, at most `limit`.
#[derive(Debug)]
pub(crate) struct Connections {
    limit: usize,
    permits: Arc<Semaphore>,
    open: Mutex<HashMap<u64, Arc<Activity>>>,
    next: AtomicU64,
}

/// What one connection is doing, for its idle timeout and for making room.
#[derive(Debug)]
pub(crate) struct Activity {
    /// Requests in progress.
    busy: AtomicUsize,
    /// When the last request started or ended, or the connection opened.
    since: Mutex<Instant>,
    /// Asked to close, to make room for a new connection.
    closing: AtomicBool,
    close: Notify,
}

/// A request in progress on a connection; dropped when it is answered.
#[derive(Debug)]
pub(crate) struct Busy(Arc<Activity>);

/// An open connection's place among the [`Connections`], given back when
/// dropped.
#[derive(Debug)]
pub(crate) struct Admitted {
    id: u64,
    activity: Arc<Activity>,
    connections: Arc<Connections>,
    _permit: OwnedSemaphorePermit,
}

/// The connection limit: `configured`, but never more than the file
/// descriptor limit leaves room for (with some to spare), so connections
/// alone never make `accept` fail with EMFILE.
pub(crate) fn connection_limit(configured: usize) -> usize {
    #[cfg(unix)]
    {
        let fds = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
        if let Some(fds) = fds {
            let room = usize::try_from(fds.saturating_sub(SPARE_FDS)).unwrap_or(usize::MAX);
            return configured.min(room).max(1);
        }
    }
    configured.max(1)
}

impl Connections {
    pub(crate) fn new(limit: usize) -> Arc<Self> {
        let limit = limit.max(1);
        Arc::new(Self {
            limit,
            permits: Arc::new(Semaphore::new(limit)),
            open: Mutex::new(HashMap::new()),
            next: AtomicU64::new(0),
        })
    }

    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// Room for a connection just accepted: at the limit, the connection
    /// idle longest is closed for it (one at a time); when none is idle,
    /// this waits for one to close or to become idle.
    pub(crate) async fn admit(self: &Arc<Self>) -> Option<Admitted> {
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => loop {
                self.close_idlest();
                tokio::select! {
                    permit = self.permits.clone().acquire_owned() => break permit.ok()?,
                    () = tokio::time::sleep(ROOM_CHECK) => {}
                }
            },
        };
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let activity = Arc::new(Activity {
            busy: AtomicUsize::new(0),
            since: Mutex::new(Instant::now()),
            closing: AtomicBool::new(false),
            close: Notify::new(),
        });
        self.lock().insert(id, activity.clone());
        Some(Admitted {
            id,
            activity,
            connections: self.clone(),
            _permit: permit,
        })
    }

    /// Asks the connection idle longest to close, unless one already is.
    fn close_idlest(&self) {
        let open = self.lock();
        if open.values().any(|a| a.closing.load(Ordering::Acquire)) {
            return;
        }
        let idlest = open
            .values()
            .filter_map(|a| Some((a.idle_for()?, a)))
            .max_by_key(|(idle, _)| *idle);
        if let Some((_, activity)) = idlest {
            activity.closing.store(true, Ordering::Release);
            activity.close.notify_one();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Activity>>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Admitted {
    /// The connection's service: each request answered by `handle` with
    /// `state`, the connection busy (not idle) meanwhile.
    pub(crate) fn service<S, H, F, B>(
        &self,
        state: &Arc<S>,
        handle: H,
    ) -> impl Service<
        Request<Incoming>,
        Response = Response<B>,
        Error = Infallible,
        Future = impl Future<Output = Result<Response<B>, Infallible>> + Send + 'static,
    > + Send
           + 'static
    where
        S: Send + Sync + 'static,
        B: Body,
        H: Fn(Arc<S>, Request<Incoming>) -> F + Copy + Send + 'static,
        F: Future<Output = Response<B>> + Send + 'static,
    {
        let activity = self.activity.clone();
        let state = state.clone();
        hyper::service::service_fn(move |request| {
            let busy = activity.start();
            let response = handle(state.clone(), request);
            async move {
                let response = response.await;
                drop(busy);
                Ok(response)
            }
        })
    }

    /// Serves `connection` until it ends (an error there is the client
    /// going away), or is idle for [`IDLE_TIMEOUT`], or is asked to close
    /// to make room; then gives its place back.
    pub(crate) async fn hold(self, connection: impl Future) {
        tokio::select! {
            _ = connection => {}
            () = self.activity.done(IDLE_TIMEOUT) => {}
        }
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.connections.lock().remove(&self.id);
    }
}

impl Activity {
    /// A request starts.
    pub(crate) fn start(self: &Arc<Self>) -> Busy {
        self.busy.fetch_add(1, Ordering::AcqRel);
        self.touch();
        Busy(self.clone())
    }

    fn touch(&self) {
        *self.since.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
    }

    /// How long the connection has had no request in progress; `None` while
    /// it has one.
    fn idle_for(&self) -> Option<Duration> {
        if self.busy.load(Ordering::Acquire) > 0 {
            return None;
        }
        Some(
            self.since
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .elapsed(),
        )
    }

    /// Resolves once the connection has been idle for `timeout`, or is
    /// asked to close to make room.
    pub(crate) async fn done(&self, timeout: Duration) {
        let idle = async {
            loop {
                let wait = match self.idle_for() {
                    Some(idle) if idle >= timeout => return,
                    Some(idle) => timeout.saturating_sub(idle),
                    None => timeout,
                };
                tokio::time::sleep(wait).await;
            }
        };
        tokio::select! {
            () = idle => {}
            () = self.close.notified() => {}
        }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
        self.0.touch();
    }
}

// ---------------------------------------------------------------------------
// Accepting
// ---------------------------------------------------------------------------

/// The next connection on `listener`. A failed `accept` (out of file
/// descriptors, EMFILE, say) would fail again at once: the pause after each
/// doubles, from 100 ms to 1 s, and one line on stderr tells of a run of
/// failures, and one of its end.
pub(crate) async fn accept(
    listener: &tokio::net::TcpListener,
    what: &str,
) -> tokio::net::TcpStream {
    let mut pause = ACCEPT_PAUSE;
    let mut failures = 0u64;
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                if failures > 0 {
                    let _ = writeln!(
                        std::io::stderr(),
                        "tracelink receive: accepting {what} connections again, after {failures} failure{}",
                        if failures == 1 { "" } else { "s" }
                    );
                }
                return stream;
            }
            Err(error) => {
                if failures == 0 {
                    let _ = writeln!(
                        std::io::stderr(),
                        "tracelink receive: accepting an {what} connection failed: {error}; \
                         trying again, at most once a second"
                    );
                }
                failures += 1;
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(ACCEPT_PAUSE_MAX);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_share_the_budget_and_give_it_back() {
        let budget = Budget::new(100);
        let a = budget.claim();
        let b = budget.claim();
        assert_eq!(a.grow(60), Ok(()));
        assert_eq!(b.grow(50), Err(Refused::Busy), "all or nothing");
        assert_eq!(budget.used(), 60);
        assert_eq!(b.grow(40), Ok(()));
        assert_eq!(b.grow(1), Err(Refused::Busy));
        assert_eq!(b.grow(61), Err(Refused::TooLarge), "never fits");
        a.shrink(20);
        assert_eq!((a.held(), budget.used()), (40, 80));
        assert_eq!(a.grow_to(50), Ok(()));
        assert_eq!(a.grow_to(10), Ok(()), "holds more already");
        assert_eq!(a.held(), 50);
        drop(a);
        assert_eq!(budget.used(), 40);
        drop(b);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn the_connection_limit_stays_under_the_file_descriptor_limit() {
        assert!(connection_limit(usize::MAX) < usize::MAX);
        assert_eq!(connection_limit(0), 1);
        assert_eq!(connection_limit(5), 5);
    }

    #[test]
    fn room_is_made_by_closing_the_connection_idle_longest() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let connections = Connections::new(2);
            let first = connections.admit().await.unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
            let second = connections.admit().await.unwrap();
            let busy = second.activity.start();
            // A third: the first is idle longest, so asked to close.
            let third = {
                let connections = connections.clone();
                tokio::spawn(async move { connections.admit().await.map(|a| a.id) })
            };
            first.activity.done(Duration::from_secs(3600)).await;
            assert!(first.activity.closing.load(Ordering::Acquire));
            assert!(!second.activity.closing.load(Ordering::Acquire));
            drop(first);
            assert_eq!(third.await.unwrap(), Some(2));
            drop(busy);
        });
    }
}
