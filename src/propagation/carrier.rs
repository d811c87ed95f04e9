//! Where a context travels: HTTP headers, message headers, maps.

use std::collections::HashMap;

/// Headers a context can be written to and read from.
///
/// Implemented for [`http::HeaderMap`], `HashMap<String, String>` and
/// `Vec<(String, String)>`; implement it for your broker's message headers.
/// Names are the lowercase W3C names (`traceparent`, `tracestate`,
/// `baggage`); a carrier whose names are case-sensitive should match them
/// ignoring ASCII case.
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
///             .filter_map(|(_, v)| std::str::from_utf8(v).ok())
///             .collect()
///     }
///     fn set(&mut self, name: &str, value: String) {
///         self.0.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
///         self.0.push((name.to_owned(), value.into_bytes()));
///     }
/// }
/// ```
pub trait Carrier {
    /// Every value of header `name`, in the order they arrived.
    fn get_all(&self, name: &str) -> Vec<&str>;

    /// Sets header `name` to `value`, replacing any value it had.
    fn set(&mut self, name: &str, value: String);
}

impl Carrier for http::HeaderMap {
    fn get_all(&self, name: &str) -> Vec<&str> {
        http::HeaderMap::get_all(self, name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }

    fn set(&mut self, name: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::try_from(name),
            http::HeaderValue::try_from(value),
        ) {
            self.insert(name, value);
        }
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
}
