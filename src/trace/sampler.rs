//! Head sampling, decided when a span starts.

use opentelemetry::trace::{SpanContext, TraceId};

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
    Ratio { ratio: f64, bound: u64 },
    ParentBased(Box<Kind>),
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

    /// Follows the parent's decision; uses `root` for spans without a parent
    /// (`parentbased_*`). The default is `parent_based(always_on())`.
    pub fn parent_based(root: Sampler) -> Self {
        let root = match root.kind {
            Kind::ParentBased(inner) => *inner,
            other => other,
        };
        Self {
            kind: Kind::ParentBased(Box::new(root)),
        }
    }

    /// Whether a span of trace `trace_id`, whose parent is `parent`, is sampled.
    #[inline]
    pub(crate) fn should_sample(&self, parent: Option<&SpanContext>, trace_id: TraceId) -> bool {
        self.kind.decide(parent, trace_id)
    }
}

impl Kind {
    #[inline]
    fn decide(&self, parent: Option<&SpanContext>, trace_id: TraceId) -> bool {
        match self {
            Kind::AlwaysOn => true,
            Kind::AlwaysOff => false,
            Kind::Ratio { bound, ratio } => {
                *ratio >= 1.0 || {
                    let low = u128::from_be_bytes(trace_id.to_bytes()) as u64;
                    low < *bound
                }
            }
            Kind::ParentBased(root) => match parent {
                Some(parent) => parent.is_sampled(),
                None => root.decide(None, trace_id),
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
                Kind::ParentBased(root) => {
                    f.write_str("parentbased_")?;
                    write_kind(root, f)
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
        let flags = if sampled {
            TraceFlags::SAMPLED
        } else {
            TraceFlags::default()
        };
        SpanContext::new(
            TraceId::from(7),
            SpanId::from(9),
            flags,
            true,
            TraceState::NONE,
        )
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
