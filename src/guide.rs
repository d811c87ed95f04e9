//! The guide: the reference pages of `docs/` in the repository, one module
//! a page, so that docs.rs has them beside the API and their Rust examples
//! are compiled and run as doc tests (but for the few marked `ignore`, which
//! need a server of their own).
//!
//! - [Backends](backends)
//! - [Your own layers, your own subscriber](composing)
//! - [Configuration](configuration)
//! - [Feature flags and limits](features)
//! - [HTTP servers and clients](http)
//! - [Logs that link to traces](logs)
//! - [Metrics that link to traces](metrics)
//! - [Performance](performance)
//! - [Context that crosses services](propagation)
//! - [The local trace store, and the `tracelink` command](store_and_cli)
//! - [Traces](traces)

// The pages link to each other as `[text][logs.md#anchor]`, with the labels
// defined at each page's end as file links (for GitHub). The definitions
// below come first in the text rustdoc renders, and the first definition of
// a label wins, so here the same labels are links inside the crate docs.
macro_rules! links {
    () => {
        "[backends.md]: crate::guide::backends\n\
         [backends.md#grafana-loki-and-tempo]: crate::guide::backends#grafana-loki-and-tempo\n\
         [backends.md#tls-and-mtls]: crate::guide::backends#tls-and-mtls\n\
         [composing.md]: crate::guide::composing\n\
         [configuration.md]: crate::guide::configuration\n\
         [features.md]: crate::guide::features\n\
         [http.md]: crate::guide::http\n\
         [logs.md]: crate::guide::logs\n\
         [logs.md#field-names-per-log-store-tracelink_log_style]: crate::guide::logs#field-names-per-log-store-tracelink_log_style\n\
         [metrics.md]: crate::guide::metrics\n\
         [metrics.md#buckets]: crate::guide::metrics#buckets\n\
         [metrics.md#from-a-latency-spike-to-its-trace]: crate::guide::metrics#from-a-latency-spike-to-its-trace\n\
         [performance.md]: crate::guide::performance\n\
         [propagation.md]: crate::guide::propagation\n\
         [store-and-cli.md]: crate::guide::store_and_cli\n\
         [traces.md]: crate::guide::traces\n\
         [traces.md#context-activation]: crate::guide::traces#context-activation\n"
    };
}

#[doc = links!()]
#[doc = include_str!("../docs/backends.md")]
pub mod backends {}

#[doc = links!()]
#[doc = include_str!("../docs/composing.md")]
pub mod composing {}

#[doc = links!()]
#[doc = include_str!("../docs/configuration.md")]
pub mod configuration {}

#[doc = links!()]
#[doc = include_str!("../docs/features.md")]
pub mod features {}

#[doc = links!()]
#[doc = include_str!("../docs/http.md")]
pub mod http {}

#[doc = links!()]
#[doc = include_str!("../docs/logs.md")]
pub mod logs {}

#[doc = links!()]
#[doc = include_str!("../docs/metrics.md")]
pub mod metrics {}

#[doc = links!()]
#[doc = include_str!("../docs/performance.md")]
pub mod performance {}

#[doc = links!()]
#[doc = include_str!("../docs/propagation.md")]
pub mod propagation {}

#[doc = links!()]
#[doc = include_str!("../docs/store-and-cli.md")]
pub mod store_and_cli {}

#[doc = links!()]
#[doc = include_str!("../docs/traces.md")]
pub mod traces {}

#[cfg(test)]
mod tests {
    /// Every page, for the check below.
    const PAGES: &[&str] = &[
        include_str!("../docs/backends.md"),
        include_str!("../docs/composing.md"),
        include_str!("../docs/configuration.md"),
        include_str!("../docs/features.md"),
        include_str!("../docs/http.md"),
        include_str!("../docs/logs.md"),
        include_str!("../docs/metrics.md"),
        include_str!("../docs/performance.md"),
        include_str!("../docs/propagation.md"),
        include_str!("../docs/store-and-cli.md"),
        include_str!("../docs/traces.md"),
    ];

    #[test]
    fn every_link_between_pages_is_defined_for_the_crate_docs() {
        let defined = links!();
        for page in PAGES {
            for line in page.lines() {
                let Some(label) = line.strip_prefix('[').and_then(|l| l.split_once("]: ")) else {
                    continue;
                };
                assert!(
                    defined.contains(&format!("[{}]: crate::guide::", label.0)),
                    "docs/ links to [{}], which links!() in src/guide.rs does not define",
                    label.0
                );
            }
        }
    }
}
