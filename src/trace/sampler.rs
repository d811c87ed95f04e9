//! Head sampling, decided when a span starts.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use opentelemetry::trace::{SpanContext, SpanKind, TraceId};
use opentelemetry::KeyValue;

use super::consistent::{self, Threshold};

/// Decides whether a new span is recorded and exported (`OTEL_TRACES_SAMPLER`).
///
/// The decision is made once, when the span starts, before anything is
/// allocated for it: an unsampled span costs tracelink almost nothing.
///
/// ```
/// use tracelink::trace::Sampler;
///
/// // Keep 10% of new traces, and follow the caller's decision otherwise.
/// let sampler = Sampler::parent_based(Sampler::trace_id_ratio(0.1));
/// assert_eq!(sampler.to_string(), "parentbased_traceidratio(0.1)");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Sampler {
    kind: Kind,
}

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    AlwaysOn,
    AlwaysOff,
    Ratio {
        ratio: f64,
        bound: u64,
    },
    Probability {
        probability: f64,
        threshold: u64,
        th: Box<str>,
    },
    RateLimited(Arc<RateLimit>),
    Custom(Arc<dyn CustomSampler>),
    ParentBased(Box<Branches>),
}

impl PartialEq for dyn CustomSampler {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::addr_eq(self, other)
    }
}

/// What a sampler is asked about a span that starts: before anything is
/// allocated for it.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct SamplingInput<'a> {
    /// The parent's context, if the span has a valid parent.
    pub parent: Option<&'a SpanContext>,
    /// The span's trace id (the parent's, or a new one).
    pub trace_id: TraceId,
    /// The span's name (`otel.name`, or the `tracing` span's name).
    pub name: &'a str,
    /// Its kind (`otel.kind`).
    pub kind: &'a SpanKind,
    /// The attributes it starts with (its `tracing` fields).
    pub attributes: &'a [KeyValue],
}

/// A sampler of your own: decide on the span's name, kind, attributes and
/// parent. Give it to [`Sampler::custom`]; it goes wherever a built-in one
/// does, as the root of [`Sampler::parent_based`] or one of its branches.
///
/// ```
/// use tracelink::trace::{CustomSampler, Sampler, SamplingInput};
///
/// /// Never keeps health checks; keeps everything else.
/// #[derive(Debug)]
/// struct NoHealthChecks;
///
/// impl CustomSampler for NoHealthChecks {
///     fn should_sample(&self, input: &SamplingInput<'_>) -> bool {
///         !input.name.starts_with("GET /health")
///     }
/// }
///
/// let sampler = Sampler::parent_based(Sampler::custom(NoHealthChecks));
/// assert_eq!(sampler.to_string(), "parentbased_custom(NoHealthChecks)");
/// ```
pub trait CustomSampler: Send + Sync + std::fmt::Debug + 'static {
    /// Whether the span is sampled. Called on the span's thread, for every
    /// span this sampler decides: keep it cheap.
    fn should_sample(&self, input: &SamplingInput<'_>) -> bool;
}

/// At most `per_second` decisions to sample a second, with a burst of one
/// second's worth: a GCRA (the token bucket as one atomic timestamp), so
/// the hot path is one compare-and-swap, never a lock.
#[derive(Debug)]
struct RateLimit {
    per_second: f64,
    /// Nanoseconds between two samples.
    interval: u64,
    /// How far ahead of now the next sample's time may run: the burst.
    tolerance: u64,
    /// The theoretical time of the next sample, in nanoseconds since `base`.
    next: AtomicU64,
    base: Instant,
}

impl PartialEq for RateLimit {
    fn eq(&self, other: &Self) -> bool {
        self.per_second == other.per_second
    }
}

impl RateLimit {
    fn new(per_second: f64) -> Self {
        let per_second = if per_second.is_finite() {
            per_second.max(0.0)
        } else {
            0.0
        };
        let interval = if per_second > 0.0 {
            (1e9 / per_second).ceil().max(1.0) as u64
        } else {
            u64::MAX
        };
        // A second's worth at once, at least one.
        let burst = per_second.max(1.0) as u64;
        Self {
            per_second,
            interval,
            tolerance: interval.saturating_mul(burst.saturating_sub(1)),
            next: AtomicU64::new(0),
            base: Instant::now(),
        }
    }

    #[inline]
    fn take(&self) -> bool {
        if self.interval == u64::MAX {
            return false;
        }
        let now = self.base.elapsed().as_nanos() as u64;
        let mut next = self.next.load(Ordering::Relaxed);
        loop {
            let at = next.max(now);
            if at > now.saturating_add(self.tolerance) {
                return false;
            }
            match self.next.compare_exchange_weak(
                next,
                at.saturating_add(self.interval),
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(current) => next = current,
            }
        }
    }
}

/// What a parent-based sampler asks, by the kind of parent.
#[derive(Clone, Debug, PartialEq)]
struct Branches {
    root: Kind,
    remote_sampled: Kind,
    remote_not_sampled: Kind,
    local_sampled: Kind,
    local_not_sampled: Kind,
}

impl Branches {
    fn new(root: Kind) -> Self {
        Self {
            root,
            remote_sampled: Kind::AlwaysOn,
            remote_not_sampled: Kind::AlwaysOff,
            local_sampled: Kind::AlwaysOn,
            local_not_sampled: Kind::AlwaysOff,
        }
    }

    /// Each branch that is not its default, named, for `Display`.
    fn overridden(&self) -> impl Iterator<Item = (&'static str, &Kind)> {
        [
            (
                "remote_parent_sampled",
                &self.remote_sampled,
                Kind::AlwaysOn,
            ),
            (
                "remote_parent_not_sampled",
                &self.remote_not_sampled,
                Kind::AlwaysOff,
            ),
            ("local_parent_sampled", &self.local_sampled, Kind::AlwaysOn),
            (
                "local_parent_not_sampled",
                &self.local_not_sampled,
                Kind::AlwaysOff,
            ),
        ]
        .into_iter()
        .filter(|(_, kind, default)| *kind != default)
        .map(|(name, kind, _)| (name, kind))
    }
}

impl Sampler {
    /// Samples every span (`always_on`).
    pub fn always_on() -> Self {
        Self {
            kind: Kind::AlwaysOn,
        }
    }

    /// Samples no span (`always_off`).
    pub fn always_off() -> Self {
        Self {
            kind: Kind::AlwaysOff,
        }
    }

    /// Samples this fraction of traces, by trace id (`traceidratio`).
    ///
    /// The decision depends only on the trace id's low 64 bits, the same rule as
    /// the other OpenTelemetry SDKs, so every service that uses the same ratio
    /// keeps the same traces. `ratio` is clamped to `0.0..=1.0`; NaN means 0.
    pub fn trace_id_ratio(ratio: f64) -> Self {
        let ratio = if ratio.is_nan() {
            0.0
        } else {
            ratio.clamp(0.0, 1.0)
        };
        // The same bound the Python and Go SDKs compute.
        let bound = (ratio * u64::MAX as f64).round() as u64;
        Self {
            kind: Kind::Ratio { ratio, bound },
        }
    }

    /// Samples this probability of traces consistently, by the
    /// specification's tracestate-probability-sampling rules (`probability`;
    /// use [`parent_based`](Sampler::parent_based) around it, as
    /// `parentbased_probability` does, so that children follow their
    /// parent). The decision compares the trace's 56 bits of randomness (the
    /// `rv` of the `ot` tracestate member, else the trace id's 56 low bits)
    /// with the probability's rejection threshold, and a sampled span
    /// writes that threshold as `ot=th:…` into its tracestate, so every
    /// service downstream, and a Collector, knows the probability it was
    /// kept with (`th:c` for 0.25). `probability` is clamped to
    /// `2^-56..=1`; 0 or less (or NaN) samples none.
    ///
    /// ```
    /// use tracelink::trace::Sampler;
    ///
    /// let sampler = Sampler::parent_based(Sampler::probability(0.25));
    /// assert_eq!(sampler.to_string(), "parentbased_probability(0.25)");
    /// ```
    pub fn probability(probability: f64) -> Self {
        if probability.is_nan() || probability <= 0.0 {
            return Self::always_off();
        }
        let probability = probability.min(1.0);
        let threshold = consistent::threshold(probability);
        Self {
            kind: Kind::Probability {
                probability,
                threshold,
                th: consistent::th(threshold).into_boxed_str(),
            },
        }
    }

    /// Decides with a sampler of your own (see [`CustomSampler`]).
    pub fn custom(sampler: impl CustomSampler) -> Self {
        Self {
            kind: Kind::Custom(Arc::new(sampler)),
        }
    }

    /// Samples at most `per_second` new traces a second, with bursts of up
    /// to a second's worth (`parentbased_ratelimiting`, as the Collector and
    /// Jaeger offer; use it as the root of a parent-based sampler, so that
    /// children follow their parent). Over `t` seconds at most
    /// `per_second * (t + 1)` are sampled, however many spans start. 0 or
    /// less (or NaN) samples none.
    ///
    /// ```
    /// use tracelink::trace::Sampler;
    ///
    /// let sampler = Sampler::parent_based(Sampler::rate_limited(100.0));
    /// assert_eq!(sampler.to_string(), "parentbased_ratelimiting(100)");
    /// ```
    pub fn rate_limited(per_second: f64) -> Self {
        Self {
            kind: Kind::RateLimited(Arc::new(RateLimit::new(per_second))),
        }
    }

    /// Follows the parent's decision; uses `root` for spans without a parent
    /// (`parentbased_*`). The default is `parent_based(always_on())`.
    ///
    /// What it does for each kind of parent can be changed with
    /// [`with_remote_parent_sampled`](Sampler::with_remote_parent_sampled)
    /// and its three siblings (remote or local parent, sampled or not); by
    /// default it samples when the parent is sampled, and not otherwise.
    ///
    /// ```
    /// use tracelink::trace::Sampler;
    ///
    /// // Keep a quarter of what callers did not sample, too.
    /// let sampler = Sampler::parent_based(Sampler::always_on())
    ///     .with_remote_parent_not_sampled(Sampler::trace_id_ratio(0.25));
    /// assert_eq!(
    ///     sampler.to_string(),
    ///     "parentbased_always_on(remote_parent_not_sampled=traceidratio(0.25))"
    /// );
    /// ```
    pub fn parent_based(root: Sampler) -> Self {
        Self {
            kind: Kind::ParentBased(Box::new(Branches::new(root.kind.into_root()))),
        }
    }

    /// For a parent-based sampler, what decides when the parent is remote
    /// (from another service) and sampled; `always_on` by default. On any
    /// other sampler, it makes it the root of a parent-based one first.
    #[must_use]
    pub fn with_remote_parent_sampled(self, sampler: Sampler) -> Self {
        self.with_branch(sampler, |b| &mut b.remote_sampled)
    }

    /// What decides when the parent is remote and not sampled;
    /// `always_off` by default.
    #[must_use]
    pub fn with_remote_parent_not_sampled(self, sampler: Sampler) -> Self {
        self.with_branch(sampler, |b| &mut b.remote_not_sampled)
    }

    /// What decides when the parent is in this process and sampled;
    /// `always_on` by default.
    #[must_use]
    pub fn with_local_parent_sampled(self, sampler: Sampler) -> Self {
        self.with_branch(sampler, |b| &mut b.local_sampled)
    }

    /// What decides when the parent is in this process and not sampled;
    /// `always_off` by default.
    #[must_use]
    pub fn with_local_parent_not_sampled(self, sampler: Sampler) -> Self {
        self.with_branch(sampler, |b| &mut b.local_not_sampled)
    }

    fn with_branch(self, sampler: Sampler, branch: fn(&mut Branches) -> &mut Kind) -> Self {
        let mut branches = match self.kind {
            Kind::ParentBased(branches) => branches,
            other => Box::new(Branches::new(other)),
        };
        *branch(&mut branches) = sampler.kind.into_root();
        Self {
            kind: Kind::ParentBased(branches),
        }
    }

    /// Whether a span of trace `trace_id`, whose parent is `parent`, is sampled.
    #[cfg(test)]
    pub(crate) fn should_sample(&self, parent: Option<&SpanContext>, trace_id: TraceId) -> bool {
        self.decide(parent, trace_id).0
    }

    /// [`decide_span`](Sampler::decide_span) for an `INTERNAL` span with no
    /// name and no attributes.
    #[cfg(test)]
    pub(crate) fn decide(
        &self,
        parent: Option<&SpanContext>,
        trace_id: TraceId,
    ) -> (bool, Threshold<'_>) {
        self.decide_span(&SamplingInput {
            parent,
            trace_id,
            name: "",
            kind: &SpanKind::Internal,
            attributes: &[],
        })
    }

    /// Whether the span is sampled, and what it does to the `th` of the
    /// tracestate it inherits.
    #[inline]
    pub(crate) fn decide_span(&self, input: &SamplingInput<'_>) -> (bool, Threshold<'_>) {
        self.kind.decide(input)
    }
}

impl Kind {
    /// A sampler that decides alone: a parent-based one nested in another
    /// is its root.
    fn into_root(self) -> Kind {
        match self {
            Kind::ParentBased(branches) => branches.root,
            other => other,
        }
    }

    #[inline]
    fn decide(&self, input: &SamplingInput<'_>) -> (bool, Threshold<'_>) {
        let (parent, trace_id) = (input.parent, input.trace_id);
        match self {
            Kind::AlwaysOn => (true, Threshold::Keep),
            Kind::AlwaysOff => (false, Threshold::Keep),
            Kind::Ratio { bound, ratio } => {
                let low = u128::from_be_bytes(trace_id.to_bytes()) as u64;
                (*ratio >= 1.0 || low < *bound, Threshold::Keep)
            }
            Kind::Probability { threshold, th, .. } => {
                let sampled = consistent::randomness(parent, trace_id) >= *threshold;
                let th = if sampled {
                    Threshold::Set(th)
                } else {
                    Threshold::Erase
                };
                (sampled, th)
            }
            Kind::RateLimited(limit) => (limit.take(), Threshold::Keep),
            Kind::Custom(custom) => (custom.should_sample(input), Threshold::Keep),
            Kind::ParentBased(branches) => match parent {
                None => branches.root.decide(input),
                Some(parent) => {
                    let branch = match (parent.is_remote(), parent.is_sampled()) {
                        (true, true) => &branches.remote_sampled,
                        (true, false) => &branches.remote_not_sampled,
                        (false, true) => &branches.local_sampled,
                        (false, false) => &branches.local_not_sampled,
                    };
                    let (sampled, th) = branch.decide(input);
                    if sampled && parent.is_sampled() && th == Threshold::Keep {
                        // Following a sampled parent: its threshold goes on
                        // if it is valid and consistent (`rv >= th`), and
                        // is erased otherwise, as the specification asks.
                        if let Some(incoming) = consistent::parent_threshold(parent) {
                            let consistent = incoming.is_some_and(|t| {
                                consistent::randomness(Some(parent), trace_id) >= t
                            });
                            if !consistent {
                                return (true, Threshold::Erase);
                            }
                        }
                    }
                    (sampled, th)
                }
            },
        }
    }
}

impl Default for Sampler {
    fn default() -> Self {
        Self::parent_based(Self::always_on())
    }
}

impl std::fmt::Display for Sampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn write_kind(kind: &Kind, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match kind {
                Kind::AlwaysOn => f.write_str("always_on"),
                Kind::AlwaysOff => f.write_str("always_off"),
                Kind::Ratio { ratio, .. } => write!(f, "traceidratio({ratio})"),
                Kind::RateLimited(limit) => write!(f, "ratelimiting({})", limit.per_second),
                Kind::Probability { probability, .. } => write!(f, "probability({probability})"),
                Kind::Custom(custom) => write!(f, "custom({custom:?})"),
                Kind::ParentBased(branches) => {
                    f.write_str("parentbased_")?;
                    write_kind(&branches.root, f)?;
                    for (i, (name, kind)) in branches.overridden().enumerate() {
                        f.write_str(if i == 0 { "(" } else { "," })?;
                        write!(f, "{name}=")?;
                        write_kind(kind, f)?;
                    }
                    if branches.overridden().next().is_some() {
                        f.write_str(")")?;
                    }
                    Ok(())
                }
            }
        }
        write_kind(&self.kind, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanId, TraceFlags, TraceState};

    fn parent(sampled: bool) -> SpanContext {
        parent_of(sampled, true)
    }

    fn parent_of(sampled: bool, remote: bool) -> SpanContext {
        let flags = if sampled {
            TraceFlags::SAMPLED
        } else {
            TraceFlags::default()
        };
        SpanContext::new(
            TraceId::from(7),
            SpanId::from(9),
            flags,
            remote,
            TraceState::NONE,
        )
    }

    #[test]
    fn the_rate_limit_holds_under_load_from_many_threads() {
        let per_second = 200.0;
        let sampler = Sampler::parent_based(Sampler::rate_limited(per_second));
        let started = Instant::now();
        let kept = std::sync::atomic::AtomicU64::new(0);
        let tried = std::sync::atomic::AtomicU64::new(0);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    while started.elapsed() < std::time::Duration::from_millis(1500) {
                        tried.fetch_add(1, Ordering::Relaxed);
                        if sampler.should_sample(None, TraceId::from(1)) {
                            kept.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        let seconds = started.elapsed().as_secs_f64();
        let kept = kept.into_inner() as f64;
        // Never more than the rate over the run plus one second's burst,
        // however the threads were scheduled; at least the burst, which is
        // there from the start.
        assert!(
            kept <= per_second * (seconds + 1.0),
            "{kept} in {seconds} s"
        );
        assert!(kept >= per_second, "{kept}");
        assert!(tried.into_inner() as f64 > kept);
        // Children follow their parent, whatever the rate.
        assert!(sampler.should_sample(Some(&parent(true)), TraceId::from(1)));
        assert!(!Sampler::rate_limited(0.0).should_sample(None, TraceId::from(1)));
        assert!(!Sampler::rate_limited(f64::NAN).should_sample(None, TraceId::from(1)));
    }

    fn xorshift(seed: u64) -> impl FnMut() -> u64 {
        let mut x = seed;
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        }
    }

    #[test]
    fn probability_keeps_its_share_and_writes_its_threshold() {
        for (p, th) in [(0.25, "c"), (0.1, "e666"), (0.5, "8")] {
            let s = Sampler::probability(p);
            let mut next = xorshift(0x2545_f491_4f6c_dd1d);
            let n = 200_000;
            let mut kept = 0;
            for _ in 0..n {
                let id = TraceId::from((u128::from(next()) << 64) | u128::from(next()));
                let (sampled, threshold) = s.decide(None, id);
                if sampled {
                    kept += 1;
                    assert_eq!(threshold, Threshold::Set(th));
                } else {
                    assert_eq!(threshold, Threshold::Erase);
                }
            }
            let share = f64::from(kept) / f64::from(n);
            // 200,000 draws: a standard deviation under 0.0012.
            assert!((share - p).abs() < 0.006, "p = {p}: kept {share}");
        }
        assert!(!Sampler::probability(0.0).should_sample(None, TraceId::from(u128::MAX)));
        assert_eq!(
            Sampler::probability(1.0).decide(None, TraceId::from(0)),
            (true, Threshold::Set("0"))
        );
    }

    #[test]
    fn probability_decisions_are_consistent_across_services() {
        // A trace kept at p1 is kept by every service sampling at p2 >= p1,
        // by the same randomness, whatever each one's own threshold.
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        let (low, high) = (Sampler::probability(0.1), Sampler::probability(0.3));
        for _ in 0..50_000 {
            let id = TraceId::from((u128::from(next()) << 64) | u128::from(next()));
            if low.should_sample(None, id) {
                assert!(high.should_sample(None, id));
            }
        }
        // An explicit `rv` beats the trace id's bits.
        let with_rv = |rv: &str| {
            SpanContext::new(
                TraceId::from(u128::MAX),
                SpanId::from(1),
                TraceFlags::SAMPLED,
                true,
                format!("ot=rv:{rv}").parse().unwrap(),
            )
        };
        let quarter = Sampler::probability(0.25);
        let id = TraceId::from(u128::MAX);
        assert!(quarter.should_sample(None, id));
        assert!(!quarter.should_sample(Some(&with_rv("00000000000001")), id));
        assert!(quarter.should_sample(Some(&with_rv("c0000000000000")), id));
    }

    #[test]
    fn parent_based_keeps_a_consistent_incoming_threshold_and_erases_the_rest() {
        let s = Sampler::parent_based(Sampler::probability(0.25));
        let parent = |state: &str, sampled: bool| {
            SpanContext::new(
                TraceId::from(u128::MAX),
                SpanId::from(1),
                if sampled {
                    TraceFlags::SAMPLED
                } else {
                    TraceFlags::default()
                },
                true,
                state.parse().unwrap(),
            )
        };
        let id = TraceId::from(u128::MAX);
        // Randomness ff..ff >= c0..: consistent, kept as it is.
        assert_eq!(
            s.decide(Some(&parent("ot=th:c", true)), id),
            (true, Threshold::Keep)
        );
        // Randomness 1 < c0..: the caller's sampled flag and th disagree.
        assert_eq!(
            s.decide(Some(&parent("ot=th:c;rv:00000000000001", true)), id),
            (true, Threshold::Erase)
        );
        // An invalid th is erased; no th, nothing to do.
        assert_eq!(
            s.decide(Some(&parent("ot=th:xyz", true)), id),
            (true, Threshold::Erase)
        );
        assert_eq!(
            s.decide(Some(&parent("vendor=1", true)), id),
            (true, Threshold::Keep)
        );
        // A trace another SDK's traceidratio sampled: followed, no th.
        assert_eq!(
            s.decide(Some(&parent("", true)), id),
            (true, Threshold::Keep)
        );
        assert_eq!(
            s.decide(Some(&parent("", false)), id),
            (false, Threshold::Keep)
        );
        assert_eq!(s.to_string(), "parentbased_probability(0.25)");
    }

    #[test]
    fn each_kind_of_parent_has_its_branch() {
        let s = Sampler::parent_based(Sampler::always_off())
            .with_remote_parent_sampled(Sampler::always_off())
            .with_remote_parent_not_sampled(Sampler::always_on())
            .with_local_parent_sampled(Sampler::always_off())
            .with_local_parent_not_sampled(Sampler::always_on());
        let id = TraceId::from(1);
        assert!(!s.should_sample(None, id));
        assert!(!s.should_sample(Some(&parent_of(true, true)), id));
        assert!(s.should_sample(Some(&parent_of(false, true)), id));
        assert!(!s.should_sample(Some(&parent_of(true, false)), id));
        assert!(s.should_sample(Some(&parent_of(false, false)), id));
        // The defaults follow the parent, and print as before.
        let d = Sampler::default();
        assert_eq!(d.to_string(), "parentbased_always_on");
        for (sampled, remote) in [(true, true), (false, true), (true, false), (false, false)] {
            assert_eq!(
                d.should_sample(Some(&parent_of(sampled, remote)), id),
                sampled
            );
        }
        // A branch on a plain sampler makes it the root; nesting flattens.
        let s = Sampler::always_off().with_local_parent_sampled(Sampler::always_off());
        assert_eq!(
            s.to_string(),
            "parentbased_always_off(local_parent_sampled=always_off)"
        );
        let nested = Sampler::parent_based(Sampler::parent_based(Sampler::always_off()));
        assert_eq!(nested.to_string(), "parentbased_always_off");
        // A ratio branch decides by the trace id.
        let s = Sampler::default().with_remote_parent_not_sampled(Sampler::trace_id_ratio(0.5));
        assert!(s.should_sample(Some(&parent_of(false, true)), TraceId::from(3)));
        assert!(!s.should_sample(
            Some(&parent_of(false, true)),
            TraceId::from(u128::from(u64::MAX))
        ));
    }

    #[test]
    fn parent_based_follows_the_parent() {
        let s = Sampler::parent_based(Sampler::always_off());
        assert!(s.should_sample(Some(&parent(true)), TraceId::from(1)));
        assert!(!s.should_sample(Some(&parent(false)), TraceId::from(1)));
        assert!(!s.should_sample(None, TraceId::from(1)));
    }

    #[test]
    fn ratio_uses_the_low_64_bits() {
        let s = Sampler::trace_id_ratio(0.5);
        assert!(s.should_sample(None, TraceId::from(u128::from(u64::MAX) / 2 - 1)));
        assert!(!s.should_sample(None, TraceId::from(u128::from(u64::MAX) / 2 + 2)));
        // High bits do not matter.
        assert!(s.should_sample(None, TraceId::from((u128::MAX << 64) | 5)));
        assert!(!Sampler::trace_id_ratio(0.0).should_sample(None, TraceId::from(0)));
        assert!(Sampler::trace_id_ratio(1.0).should_sample(None, TraceId::from(u128::MAX)));
    }

    #[test]
    fn ratio_is_close_to_the_fraction() {
        let s = Sampler::trace_id_ratio(0.3);
        let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
        let kept = (0..100_000)
            .filter(|_| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                s.should_sample(None, TraceId::from(u128::from(rng)))
            })
            .count();
        assert!((29_000..31_000).contains(&kept), "{kept}");
    }
}
