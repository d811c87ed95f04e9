//! Histogram bucket bounds: a default set for seconds, and per-metric sets.

use std::sync::Arc;

/// Prometheus' default bounds, for durations in seconds.
pub const DEFAULT_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Which metric names a bucket set applies to.
///
/// ```
/// use tracelink::metrics::Matcher;
///
/// let sizes = Matcher::Suffix("_bytes".into());
/// # let _ = sizes;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Matcher {
    /// Exactly this name.
    Full(String),
    /// Names starting with this.
    Prefix(String),
    /// Names ending with this.
    Suffix(String),
}

impl Matcher {
    fn matches(&self, name: &str) -> bool {
        match self {
            Matcher::Full(full) => name == full,
            Matcher::Prefix(prefix) => name.starts_with(prefix.as_str()),
            Matcher::Suffix(suffix) => name.ends_with(suffix.as_str()),
        }
    }
}

/// The bounds for each histogram: the first matching rule, else the default.
#[derive(Clone, Debug)]
pub(crate) struct Buckets {
    default: Arc<[f64]>,
    rules: Vec<(Matcher, Arc<[f64]>)>,
}

impl Default for Buckets {
    fn default() -> Self {
        Self {
            default: Arc::from(DEFAULT_BUCKETS),
            rules: Vec::new(),
        }
    }
}

/// Sorts, and drops NaN, infinite and repeated bounds (`+Inf` is implicit).
pub(crate) fn clean(bounds: &[f64]) -> Arc<[f64]> {
    let mut bounds: Vec<f64> = bounds.iter().copied().filter(|b| b.is_finite()).collect();
    bounds.sort_by(f64::total_cmp);
    bounds.dedup();
    Arc::from(bounds)
}

impl Buckets {
    pub(crate) fn with_rule(mut self, matcher: Matcher, bounds: &[f64]) -> Self {
        self.rules.push((matcher, clean(bounds)));
        self
    }

    pub(crate) fn for_name(&self, name: &str) -> Arc<[f64]> {
        self.rules
            .iter()
            .find(|(matcher, _)| matcher.matches(name))
            .map_or_else(|| self.default.clone(), |(_, bounds)| bounds.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_matching_rule_wins() {
        let buckets = Buckets::default()
            .with_rule(Matcher::Full("a_bytes".into()), &[1.0])
            .with_rule(
                Matcher::Suffix("_bytes".into()),
                &[10.0, f64::NAN, 5.0, 5.0],
            );
        assert_eq!(&*buckets.for_name("a_bytes"), &[1.0]);
        assert_eq!(&*buckets.for_name("b_bytes"), &[5.0, 10.0]);
        assert_eq!(&*buckets.for_name("latency"), DEFAULT_BUCKETS);
    }
}
