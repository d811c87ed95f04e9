//! The pieces of the OpenTelemetry HTTP semantic conventions (stable, v1.23
//! and later) that the server layer and the client share.

use http::{Method, Version};

/// `_OTHER`: the `http.request.method` of a method the conventions do not know.
pub(crate) const OTHER: &str = "_OTHER";

/// The `http.request.method` of `method`: the method itself when it is one
/// of the nine the conventions list (case-sensitive), `_OTHER` otherwise. A
/// static string either way, so a hostile method cannot grow a metric's
/// label set.
pub(crate) fn method(method: &Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        "PATCH" => "PATCH",
        "CONNECT" => "CONNECT",
        "TRACE" => "TRACE",
        _ => OTHER,
    }
}

/// `http.request.method_original`: the method as sent, when
/// [`method`] had to say `_OTHER`.
pub(crate) fn method_original<'a>(method: &'a Method, known: &str) -> Option<&'a str> {
    (known == OTHER).then(|| method.as_str())
}

/// The span name's `{method}` part: `HTTP` for an unknown method, as the
/// conventions require (a span name must not carry arbitrary input).
pub(crate) fn name_method(known: &'static str) -> &'static str {
    if known == OTHER {
        "HTTP"
    } else {
        known
    }
}

/// `network.protocol.version`: `1.1`, `2`, ...
pub(crate) fn protocol_version(version: Version) -> Option<&'static str> {
    Some(match version {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_11 => "1.1",
        Version::HTTP_2 => "2",
        Version::HTTP_3 => "3",
        _ => return None,
    })
}

/// `server.address` from a host as URLs write it: an IPv6 address loses its
/// brackets (`[::1]` → `::1`).
pub(crate) fn address(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_methods_stay_others_become_other() {
        for known in [
            "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "CONNECT", "TRACE",
        ] {
            let m = Method::from_bytes(known.as_bytes()).unwrap();
            assert_eq!(method(&m), known);
            assert_eq!(method_original(&m, method(&m)), None);
            assert_eq!(name_method(method(&m)), known);
        }
        for other in ["get", "PURGE", "QUERY", "X-WEIRD"] {
            let m = Method::from_bytes(other.as_bytes()).unwrap();
            assert_eq!(method(&m), "_OTHER");
            assert_eq!(method_original(&m, method(&m)), Some(other));
            assert_eq!(name_method(method(&m)), "HTTP");
        }
    }

    #[test]
    fn versions_and_addresses() {
        assert_eq!(protocol_version(Version::HTTP_11), Some("1.1"));
        assert_eq!(protocol_version(Version::HTTP_2), Some("2"));
        assert_eq!(address("[::1]"), "::1");
        assert_eq!(address("example.com"), "example.com");
        assert_eq!(address("["), "[");
    }
}
