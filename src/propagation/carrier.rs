//! Where a context travels: HTTP headers, message headers, maps.

use std::collections::HashMap;

use http::{HeaderName, HeaderValue};

use super::baggage::BAGGAGE;
use super::trace_context::{TRACEPARENT, TRACESTATE};

/// What [`http::HeaderMap`] lists in place of a header value that is not
/// visible ASCII (a byte from `0x80` up): a value no propagator accepts.
const NOT_TEXT: &str = "\0";

/// Headers a context can be written to and read from.
///
/// Implemented for [`http::HeaderMap`], `HashMap<String, String>` and
/// `Vec<(String, String)>`; implement it for your broker's message headers.
/// Names are the lowercase W3C names (`traceparent`, `tracestate`,
/// `baggage`); a carrier whose names are case-sensitive should match them
/// ignoring ASCII case.
///
/// [`get_all`](Self::get_all) must list every value of a header, even one it
/// cannot read as text: the rules count them (two `traceparent` headers
/// restart the trace; one invalid `tracestate` header drops all of them).
/// List such a value as one no propagator accepts, such as `"\0"`, as the
/// `HeaderMap` implementation does.
///
/// ```
/// use tracelink::propagation::Carrier;
///
/// /// A message's headers, as a broker client hands them out.
/// struct Headers(Vec<(String, Vec<u8>)>);
///
/// impl Carrier for Headers {
///     fn get_all(&self, name: &str) -> Vec<&str> {
///         self.0.iter()
///             .filter(|(k, _)| k.eq_ignore_ascii_case(name))
///             // Not UTF-8: still a value, one that no propagator accepts.
///             .map(|(_, v)| std::str::from_utf8(v).unwrap_or("\0"))
///             .collect()
///     }
///     fn set(&mut self, name: &str, value: String) {
///         self.0.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
///         self.0.push((name.to_owned(), value.into_bytes()));
///     }
///     fn keys(&self) -> Vec<&str> {
///         let mut keys: Vec<&str> = Vec::new();
///         for (k, _) in &self.0 {
///             if !keys.iter().any(|seen| seen.eq_ignore_ascii_case(k)) {
///                 keys.push(k);
///             }
///         }
///         keys
///     }
/// }
/// ```
pub trait Carrier {
    /// Every value of header `name`, in the order they arrived.
    fn get_all(&self, name: &str) -> Vec<&str>;

    /// Sets header `name` to `value`, replacing any value it had.
    fn set(&mut self, name: &str, value: String);

    /// The name of every header the carrier holds, each once. Propagators
    /// that look for their headers by enumerating them (all the headers with
    /// a given prefix, say) ask for it; tracelink's W3C propagators never do.
    ///
    /// Defaults to none: such a propagator then finds nothing in the carrier.
    fn keys(&self) -> Vec<&str> {
        Vec::new()
    }
}

impl Carrier for http::HeaderMap {
    fn get_all(&self, name: &str) -> Vec<&str> {
        http::HeaderMap::get_all(self, name)
            .iter()
            .map(|v| v.to_str().unwrap_or(NOT_TEXT))
            .collect()
    }

    fn set(&mut self, name: &str, value: String) {
        let Ok(value) = HeaderValue::try_from(value) else {
            return;
        };
        // The W3C names need no allocation; any other name is checked.
        let name = match name {
            TRACEPARENT => HeaderName::from_static(TRACEPARENT),
            TRACESTATE => HeaderName::from_static(TRACESTATE),
            BAGGAGE => HeaderName::from_static(BAGGAGE),
            _ => match HeaderName::try_from(name) {
                Ok(name) => name,
                Err(_) => return,
            },
        };
        self.insert(name, value);
    }

    fn keys(&self) -> Vec<&str> {
        http::HeaderMap::keys(self)
            .map(HeaderName::as_str)
            .collect()
    }
}

impl Carrier for HashMap<String, String> {
    fn get_all(&self, name: &str) -> Vec<&str> {
        self.get(name)
            .or_else(|| {
                self.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v)
            })
            .map(String::as_str)
            .into_iter()
            .collect()
    }

    fn set(&mut self, name: &str, value: String) {
        self.insert(name.to_owned(), value);
    }

    fn keys(&self) -> Vec<&str> {
        HashMap::keys(self).map(String::as_str).collect()
    }
}

impl Carrier for Vec<(String, String)> {
    fn get_all(&self, name: &str) -> Vec<&str> {
        self.iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn set(&mut self, name: &str, value: String) {
        self.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.push((name.to_owned(), value));
    }

    /// Each name once, as it first appears (`get_all` matches names
    /// ignoring ASCII case, so `Baggage` after `baggage` is the same one).
    fn keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = Vec::with_capacity(self.len());
        for (key, _) in self {
            if !keys.iter().any(|seen| seen.eq_ignore_ascii_case(key)) {
                keys.push(key);
            }
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::propagation::TextMapPropagator;
    use opentelemetry::trace::{TraceContextExt, TraceState};

    use super::*;
    use crate::propagation::{AsExtractor, TraceContextPropagator};

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    /// A `HeaderMap` with these headers, in order; values as raw bytes.
    fn headers(pairs: &[(&'static str, &[u8])]) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for (name, value) in pairs {
            let value = HeaderValue::from_bytes(value).expect("a valid header value");
            map.append(*name, value);
        }
        map
    }

    /// The remote span context extracted from `map`, if valid.
    fn remote(map: &http::HeaderMap) -> Option<opentelemetry::trace::SpanContext> {
        let cx = TraceContextPropagator::new().extract(&AsExtractor(map));
        let span = cx.span();
        let context = span.span_context();
        context.is_valid().then(|| context.clone())
    }

    #[test]
    fn a_value_that_is_not_text_still_counts() {
        let map = headers(&[("traceparent", TP.as_bytes()), ("traceparent", b"\x80")]);
        assert_eq!(Carrier::get_all(&map, "traceparent"), [TP, "\0"]);
        // Two traceparent headers: restart, even if one cannot be read.
        assert!(remote(&map).is_none());
        let map = headers(&[("traceparent", b"\x80"), ("traceparent", TP.as_bytes())]);
        assert!(remote(&map).is_none());
        // On its own, such a traceparent is invalid.
        assert!(remote(&headers(&[("traceparent", b"00-\xff")])).is_none());
        assert!(remote(&headers(&[("traceparent", TP.as_bytes())])).is_some());
    }

    #[test]
    fn a_tracestate_header_that_is_not_text_drops_the_whole_tracestate() {
        let map = headers(&[
            ("traceparent", TP.as_bytes()),
            ("tracestate", b"a=1"),
            ("tracestate", b"b=\xff"),
        ]);
        let context = remote(&map).expect("the traceparent is kept");
        assert_eq!(*context.trace_state(), TraceState::NONE);
        // Without the bad header, `a` is kept.
        let map = headers(&[("traceparent", TP.as_bytes()), ("tracestate", b"a=1")]);
        let context = remote(&map).expect("valid");
        assert_eq!(context.trace_state().get("a"), Some("1"));
    }

    #[test]
    fn header_map_sets_the_w3c_names_and_any_valid_other() {
        let mut map = http::HeaderMap::new();
        for name in ["traceparent", "tracestate", "baggage", "X-Custom"] {
            Carrier::set(&mut map, name, format!("{name} value"));
        }
        Carrier::set(&mut map, "traceparent", "again".to_owned());
        Carrier::set(&mut map, "bad name", "x".to_owned());
        Carrier::set(&mut map, "x-bad-value", "a\nb".to_owned());
        assert_eq!(map.len(), 4);
        assert_eq!(map["traceparent"], "again");
        assert_eq!(map["tracestate"], "tracestate value");
        assert_eq!(map["baggage"], "baggage value");
        assert_eq!(map["x-custom"], "X-Custom value");
    }

    #[test]
    fn every_carrier_lists_its_keys_once() {
        let map = headers(&[("a", b"1"), ("b", b"2"), ("a", b"3")]);
        let mut keys = Carrier::keys(&map);
        keys.sort_unstable();
        assert_eq!(keys, ["a", "b"]);

        let hash: HashMap<String, String> = [
            ("a".to_owned(), "1".to_owned()),
            ("B".to_owned(), "2".to_owned()),
        ]
        .into();
        let mut keys = Carrier::keys(&hash);
        keys.sort_unstable();
        assert_eq!(keys, ["B", "a"]);

        let list: Vec<(String, String)> = [("b", "1"), ("a", "2"), ("B", "3")]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(Carrier::keys(&list), ["b", "a"]);
    }

    #[test]
    fn a_carrier_lists_no_keys_by_default() {
        struct Empty;
        impl Carrier for Empty {
            fn get_all(&self, _: &str) -> Vec<&str> {
                Vec::new()
            }
            fn set(&mut self, _: &str, _: String) {}
        }
        assert!(Empty.keys().is_empty());
    }
}
