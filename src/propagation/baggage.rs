//! W3C Baggage: the `baggage` header.

use std::sync::OnceLock;

use opentelemetry::baggage::{Baggage, BaggageExt};
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::Context;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};

use super::trace_context::is_ows;

pub(crate) const BAGGAGE: &str = "baggage";
/// The W3C limits every participant must propagate: 64 members, 8192 bytes.
const MAX_MEMBERS: usize = 64;
const MAX_BYTES: usize = 8192;

/// What a value's bytes become on the wire: everything outside
/// `baggage-octet` (controls, space, `"`, `,`, `;`, `\`, non-ASCII) and `%`
/// itself is percent-encoded.
const VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b',')
    .add(b';')
    .add(b'\\')
    .add(b'%');

/// Propagates [`Baggage`] in [W3C Baggage] format, in the `baggage` header.
///
/// - **Values** are percent-encoded when written (everything but the
///   spec's `baggage-octet`s, and `%`) and decoded when read; an invalid
///   UTF-8 sequence decodes to U+FFFD.
/// - **Properties** (`key=value;p1;p2=v2`) are accepted and kept, as they
///   arrived, in the entry's [`BaggageMetadata`], and written back after the
///   value.
/// - **Invalid members are skipped one by one** (the baggage spec leaves the
///   choice open; the rest of the header is still useful): a member without
///   `=`, a key that is not an HTTP token, a value or a property outside the
///   grammar. Spaces and tabs around keys, values, properties and members are
///   ignored, and so are empty members. Of two members with the same key, the
///   first is kept.
/// - **Limits.** All headers are read in order, up to 64 members (and the
///   8192 bytes [`Baggage`] holds). At most 64 members and 8192 bytes are
///   written: a member that does not fit is left out whole, never cut.
///
/// A carrier without `baggage`, or with no valid member in it, leaves the
/// context unchanged; otherwise the extracted baggage replaces the context's.
///
/// [W3C Baggage]: https://www.w3.org/TR/baggage/
/// [`BaggageMetadata`]: opentelemetry::baggage::BaggageMetadata
///
/// ```
/// use std::collections::HashMap;
///
/// use opentelemetry::baggage::BaggageExt;
/// use opentelemetry::propagation::TextMapPropagator;
/// use opentelemetry::{Context, KeyValue};
/// use tracelink::propagation::BaggagePropagator;
///
/// let propagator = BaggagePropagator::new();
/// let cx = Context::new().with_baggage([KeyValue::new("user", "Amélie, admin")]);
/// let mut headers = HashMap::new();
/// propagator.inject_context(&cx, &mut headers);
/// assert_eq!(headers["baggage"], "user=Am%C3%A9lie%2C%20admin");
///
/// let cx = propagator.extract(&headers);
/// assert_eq!(cx.baggage().get("user").map(|v| v.as_str()), Some("Amélie, admin"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct BaggagePropagator {
    _private: (),
}

impl BaggagePropagator {
    /// A W3C Baggage propagator.
    ///
    /// ```
    /// let propagator = tracelink::propagation::BaggagePropagator::new();
    /// # let _ = propagator;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }
}

impl TextMapPropagator for BaggagePropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let baggage = cx.baggage();
        if baggage.is_empty() {
            return;
        }
        let mut header = String::new();
        let mut member = String::new();
        let mut members = 0;
        for (key, (value, metadata)) in baggage {
            if members == MAX_MEMBERS {
                break;
            }
            let key = key.as_str();
            // `Baggage` checks its keys too; this keeps the header valid whatever it allows.
            if !is_token(key) {
                continue;
            }
            member.clear();
            member.push_str(key);
            member.push('=');
            member.extend(utf8_percent_encode(value.as_str(), VALUE));
            let properties = metadata.as_str();
            if !properties.is_empty() && valid_properties(properties) {
                member.push(';');
                member.push_str(properties);
            }
            let comma = usize::from(!header.is_empty());
            if header.len() + comma + member.len() > MAX_BYTES {
                continue;
            }
            if comma == 1 {
                header.push(',');
            }
            header.push_str(&member);
            members += 1;
        }
        if !header.is_empty() {
            injector.set(BAGGAGE, header);
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let Some(values) = extractor.get_all(BAGGAGE) else {
            return cx.clone();
        };
        let mut baggage = Baggage::new();
        for member in values.iter().flat_map(|value| value.split(',')) {
            if baggage.len() == MAX_MEMBERS {
                break;
            }
            let Some((key, value, properties)) = parse_member(member) else {
                continue;
            };
            if baggage.get(key).is_some() {
                continue;
            }
            let value = percent_decode_str(value).decode_utf8_lossy().into_owned();
            baggage.insert_with_metadata(key.to_owned(), value, properties);
        }
        if baggage.is_empty() {
            return cx.clone();
        }
        cx.with_baggage(baggage)
    }

    fn fields(&self) -> FieldIter<'_> {
        static FIELDS: OnceLock<[String; 1]> = OnceLock::new();
        FieldIter::new(FIELDS.get_or_init(|| [BAGGAGE.to_owned()]))
    }
}

/// One list member: key, still-encoded value, properties (`""` if none);
/// `None` if it is empty or invalid.
fn parse_member(member: &str) -> Option<(&str, &str, &str)> {
    let (pair, properties) = member.split_once(';').unwrap_or((member, ""));
    let (key, value) = pair.split_once('=')?;
    let key = key.trim_matches(is_ows);
    let value = value.trim_matches(is_ows);
    let properties = properties.trim_matches(is_ows);
    let valid = is_token(key)
        && value.bytes().all(is_baggage_octet)
        && (properties.is_empty() || valid_properties(properties));
    valid.then_some((key, value, properties))
}

/// `property *( OWS ";" OWS property )`, a property being `key OWS "=" OWS
/// value` or `key`.
fn valid_properties(properties: &str) -> bool {
    properties.split(';').all(|property| {
        let (key, value) = property.split_once('=').unwrap_or((property, ""));
        is_token(key.trim_matches(is_ows))
            && value.trim_matches(is_ows).bytes().all(is_baggage_octet)
    })
}

/// An HTTP token (RFC 9110): one or more `tchar`s.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

/// US-ASCII but controls, whitespace, `"`, `,`, `;` and `\`.
fn is_baggage_octet(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x2b | 0x2d..=0x3a | 0x3c..=0x5b | 0x5d..=0x7e)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use opentelemetry::baggage::KeyValueMetadata;
    use opentelemetry::KeyValue;

    use super::*;
    use crate::propagation::{AsExtractor, AsInjector};

    /// key -> (value, properties)
    type Entries = BTreeMap<String, (String, String)>;

    fn entries(cx: &Context) -> Entries {
        cx.baggage()
            .iter()
            .map(|(k, (v, m))| (k.to_string(), (v.to_string(), m.as_str().to_owned())))
            .collect()
    }

    fn extract(values: &[&str]) -> Entries {
        let carrier: Vec<(String, String)> = values
            .iter()
            .map(|v| ("baggage".to_owned(), (*v).to_owned()))
            .collect();
        entries(&BaggagePropagator::new().extract(&AsExtractor(&carrier)))
    }

    fn inject(cx: &Context) -> Option<String> {
        let mut carrier: Vec<(String, String)> = Vec::new();
        BaggagePropagator::new().inject_context(cx, &mut AsInjector(&mut carrier));
        carrier
            .into_iter()
            .find(|(k, _)| k == "baggage")
            .map(|(_, v)| v)
    }

    fn e(pairs: &[(&str, &str, &str)]) -> Entries {
        pairs
            .iter()
            .map(|(k, v, p)| ((*k).to_owned(), ((*v).to_owned(), (*p).to_owned())))
            .collect()
    }

    #[test]
    fn members_are_read_across_headers() {
        assert_eq!(
            extract(&["userId=alice", "serverNode=DF%2028,isProduction=false"]),
            e(&[
                ("userId", "alice", ""),
                ("serverNode", "DF 28", ""),
                ("isProduction", "false", "")
            ])
        );
    }

    #[test]
    fn spaces_and_tabs_around_keys_values_and_members_are_ignored() {
        assert_eq!(
            extract(&[
                "userId =   alice",
                "serverNode = DF%2028, isProduction = false"
            ]),
            e(&[
                ("userId", "alice", ""),
                ("serverNode", "DF 28", ""),
                ("isProduction", "false", "")
            ])
        );
        assert_eq!(
            extract(&["\ta=1\t,\t b = 2 "]),
            e(&[("a", "1", ""), ("b", "2", "")])
        );
    }

    #[test]
    fn values_are_percent_decoded() {
        assert_eq!(
            extract(&["userId=Am%C3%A9lie,pct=100%25,eq=a=b"]),
            e(&[
                ("userId", "Amélie", ""),
                ("pct", "100%", ""),
                ("eq", "a=b", "")
            ])
        );
        // Invalid UTF-8 becomes U+FFFD.
        assert_eq!(extract(&["k=%FFx"]), e(&[("k", "\u{fffd}x", "")]));
        // An empty value is a value.
        assert_eq!(extract(&["k="]), e(&[("k", "", "")]));
    }

    #[test]
    fn properties_are_kept() {
        assert_eq!(
            extract(&["key1=value1;property1;property2, key3=value3; propertyKey=propertyValue"]),
            e(&[
                ("key1", "value1", "property1;property2"),
                ("key3", "value3", "propertyKey=propertyValue")
            ])
        );
    }

    #[test]
    fn invalid_members_are_skipped_alone() {
        let got = extract(&[
            "ok1=1,noequals,=nokey,bad key=1,k(=1,sp=a b,q=\"x\",bs=a\\b,ok2=2,,",
            "badprop=1;p q,badprop2=1;=x,uni=é,ok3=3",
        ]);
        assert_eq!(
            got,
            e(&[("ok1", "1", ""), ("ok2", "2", ""), ("ok3", "3", "")])
        );
    }

    #[test]
    fn the_first_of_duplicate_keys_wins() {
        assert_eq!(extract(&["k=1,k=2", "k=3"]), e(&[("k", "1", "")]));
    }

    #[test]
    fn at_most_64_members_are_read() {
        let header: Vec<String> = (0..100).map(|i| format!("k{i}={i}")).collect();
        let got = extract(&[&header.join(",")]);
        assert_eq!(got.len(), 64);
        assert!(got.contains_key("k0") && got.contains_key("k63") && !got.contains_key("k64"));
    }

    #[test]
    fn no_header_or_no_valid_member_leaves_the_context_unchanged() {
        let before = Context::new().with_baggage([KeyValue::new("mine", "1")]);
        let carrier: Vec<(String, String)> = vec![("baggage".into(), "bad key=1".into())];
        let after = BaggagePropagator::new().extract_with_context(&before, &AsExtractor(&carrier));
        assert_eq!(entries(&after), e(&[("mine", "1", "")]));
        let empty: Vec<(String, String)> = Vec::new();
        let after = BaggagePropagator::new().extract_with_context(&before, &AsExtractor(&empty));
        assert_eq!(entries(&after), e(&[("mine", "1", "")]));
    }

    #[test]
    fn values_are_percent_encoded() {
        let cx = Context::new().with_baggage([KeyValue::new("serverNode", "DF 28")]);
        assert_eq!(inject(&cx).as_deref(), Some("serverNode=DF%2028"));
        let cx = Context::new().with_baggage([KeyValue::new("k", " a,b;c\\d\"e%f=g/h\té ")]);
        let header = inject(&cx).expect("written");
        assert_eq!(header, "k=%20a%2Cb%3Bc%5Cd%22e%25f=g/h%09%C3%A9%20");
        assert!(header.bytes().skip(2).all(is_baggage_octet), "{header}");
    }

    #[test]
    fn properties_are_written_after_the_value() {
        let mut baggage = Baggage::new();
        baggage.insert_with_metadata("k", "v", "p1;p2=x");
        baggage.insert_with_metadata("bad", "v", "p,1");
        let cx = Context::new().with_baggage(baggage);
        let header = inject(&cx).expect("written");
        let mut members: Vec<_> = header.split(',').collect();
        members.sort_unstable();
        // Properties that would break the header are left out.
        assert_eq!(members, ["bad=v", "k=v;p1;p2=x"]);
    }

    #[test]
    fn at_most_64_members_are_written() {
        let cx = Context::new()
            .with_baggage((0..64).map(|i| KeyValueMetadata::new(format!("k{i}"), "v", "")));
        assert_eq!(cx.baggage().len(), 64);
        let header = inject(&cx).expect("written");
        assert_eq!(header.split(',').count(), 64);
    }

    #[test]
    fn at_most_8192_bytes_are_written_in_whole_members() {
        // Spaces grow threefold when encoded: 9 members of 902 bytes fit in
        // Baggage's 8192, but take 2703 bytes each on the wire.
        let cx = Context::new().with_baggage(
            (0..9).map(|i| KeyValueMetadata::new(format!("k{i}"), " ".repeat(900), "")),
        );
        assert_eq!(cx.baggage().len(), 9);
        let header = inject(&cx).expect("written");
        assert!(header.len() <= 8192, "{}", header.len());
        let members: Vec<_> = header.split(',').collect();
        // Three fit (8111 bytes with the commas), a fourth would not.
        assert_eq!(members.len(), 3);
        for member in members {
            let (key, value) = member.split_once('=').expect("whole member");
            assert!(key.starts_with('k'));
            assert_eq!(value, "%20".repeat(900));
        }
    }

    #[test]
    fn an_empty_baggage_writes_nothing() {
        assert_eq!(inject(&Context::new()), None);
    }

    #[test]
    fn fields_are_the_header() {
        let propagator = BaggagePropagator::new();
        let fields: Vec<_> = propagator.fields().collect();
        assert_eq!(fields, ["baggage"]);
    }
}
