//! Which propagators are installed globally: code, or `OTEL_PROPAGATORS`
//! (`tracecontext`, `baggage`, `none`), or both W3C ones.

use crate::config::env::EnvReader;
use crate::config::Builder;
use crate::env::OTEL_PROPAGATORS;
use crate::propagation::Propagator;

pub(super) fn propagators(b: &Builder, env: &mut EnvReader<'_>) -> Vec<Propagator> {
    match &b.propagators {
        Some(propagators) => propagators.clone(),
        None => env.name_list(
            OTEL_PROPAGATORS,
            "propagator",
            &[
                ("tracecontext", Propagator::TraceContext),
                ("baggage", Propagator::Baggage),
            ],
            &[Propagator::TraceContext, Propagator::Baggage],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Warning;

    fn resolved(b: &Builder) -> (Vec<Propagator>, Vec<Warning>) {
        let mut env = EnvReader::new(&b.env);
        let found = propagators(b, &mut env);
        (found, env.issues)
    }

    #[test]
    fn both_w3c_propagators_by_default() {
        let (found, issues) = resolved(&crate::builder().with_env::<_, String, String>([]));
        assert_eq!(found, [Propagator::TraceContext, Propagator::Baggage]);
        assert!(issues.is_empty(), "{issues:?}");
    }

    #[test]
    fn the_variable_keeps_its_order_and_none_empties_it() {
        let b = crate::builder().with_env([(OTEL_PROPAGATORS, "Baggage, tracecontext,baggage")]);
        let (found, issues) = resolved(&b);
        assert_eq!(found, [Propagator::Baggage, Propagator::TraceContext]);
        assert!(issues.is_empty(), "{issues:?}");

        let b = crate::builder().with_env([(OTEL_PROPAGATORS, "tracecontext,none")]);
        assert!(resolved(&b).0.is_empty());
    }

    #[test]
    fn unknown_propagators_are_one_warning_and_the_known_ones_stay() {
        let b = crate::builder().with_env([(OTEL_PROPAGATORS, "b3,baggage,xray")]);
        let (found, issues) = resolved(&b);
        assert_eq!(found, [Propagator::Baggage]);
        assert_eq!(
            issues,
            [Warning {
                name: OTEL_PROPAGATORS,
                value: "b3,baggage,xray".into(),
                reason: "unsupported propagator b3, xray; expected tracecontext, baggage or none"
                    .into(),
                fallback: "baggage".into(),
            }]
        );

        // With `none` among them the list stays empty, and the warning says so.
        let b = crate::builder().with_env([(OTEL_PROPAGATORS, "none,b3")]);
        let (found, issues) = resolved(&b);
        assert!(found.is_empty());
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(issues[0].fallback, "none");
    }

    #[test]
    fn code_beats_env() {
        let b = crate::builder()
            .with_env([(OTEL_PROPAGATORS, "b3")])
            .with_propagators([Propagator::TraceContext]);
        let (found, issues) = resolved(&b);
        assert_eq!(found, [Propagator::TraceContext]);
        assert!(issues.is_empty(), "{issues:?}");
        let empty = crate::builder().with_propagators([]);
        assert!(resolved(&empty).0.is_empty());
    }
}
