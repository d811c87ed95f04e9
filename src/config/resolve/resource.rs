//! The resource every span carries: detected attributes (host, process,
//! SDK, a per-process `service.instance.id`), then
//! `OTEL_RESOURCE_ATTRIBUTES`, then `OTEL_SERVICE_NAME`, then code: each
//! later one wins.

use std::sync::OnceLock;

use opentelemetry::KeyValue;

use crate::config::env::{parse_key_values, EnvReader};
use crate::config::Builder;
use crate::env::{OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME};

/// The opentelemetry_sdk version tracelink is built against.
const OTEL_SDK_VERSION: &str = "0.33";

/// `service.name`, and every attribute, `service.name` included.
#[derive(Debug)]
pub(super) struct Resource {
    pub(super) service_name: String,
    pub(super) attributes: Vec<KeyValue>,
}

pub(super) fn resource(b: &Builder, env: &mut EnvReader<'_>) -> Resource {
    let mut attributes = vec![
        KeyValue::new("service.instance.id", instance_id()),
        KeyValue::new(
            "host.name",
            gethostname::gethostname().to_string_lossy().into_owned(),
        ),
        KeyValue::new("process.pid", i64::from(std::process::id())),
        KeyValue::new("process.executable.name", executable_name()),
        KeyValue::new("process.runtime.name", "rust"),
        KeyValue::new("telemetry.sdk.name", "opentelemetry"),
        KeyValue::new("telemetry.sdk.language", "rust"),
        KeyValue::new("telemetry.sdk.version", OTEL_SDK_VERSION),
        KeyValue::new("telemetry.distro.name", "tracelink"),
        KeyValue::new("telemetry.distro.version", env!("CARGO_PKG_VERSION")),
    ];
    if let Some(pairs) = env.parse(OTEL_RESOURCE_ATTRIBUTES, "no attributes from it", |v| {
        parse_key_values(v)
    }) {
        for (key, value) in pairs {
            upsert(&mut attributes, KeyValue::new(key, value));
        }
    }
    let env_service_name = env.raw(OTEL_SERVICE_NAME).map(|s| s.trim().to_owned());
    let from_attributes = attributes
        .iter()
        .find(|kv| kv.key.as_str() == "service.name")
        .map(|kv| kv.value.to_string());
    for kv in &b.resource {
        upsert(&mut attributes, kv.clone());
    }
    let code_name = b
        .resource
        .iter()
        .rev()
        .find(|kv| kv.key.as_str() == "service.name");
    let service_name = b
        .service_name
        .clone()
        .or_else(|| code_name.map(|kv| kv.value.to_string()))
        .or(env_service_name)
        .or(from_attributes)
        .unwrap_or_else(|| format!("unknown_service:{}", executable_name()));
    upsert(
        &mut attributes,
        KeyValue::new("service.name", service_name.clone()),
    );
    Resource {
        service_name,
        attributes,
    }
}

/// Replaces the attribute with `kv`'s key, in place, or appends `kv`.
fn upsert(attributes: &mut Vec<KeyValue>, kv: KeyValue) {
    match attributes
        .iter_mut()
        .find(|existing| existing.key == kv.key)
    {
        Some(existing) => *existing = kv,
        None => attributes.push(kv),
    }
}

/// A random UUID v4, the same for the whole process.
fn instance_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let mut bytes: [u8; 16] = rand::random();
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let mut hex = String::with_capacity(32);
        crate::encode::hex::bytes(&mut hex, &bytes);
        format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    })
}

fn executable_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|path| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Warning;

    fn resolved(b: &Builder) -> (Resource, Vec<Warning>) {
        let mut env = EnvReader::new(&b.env);
        let resource = resource(b, &mut env);
        (resource, env.issues)
    }

    fn attribute(resource: &Resource, key: &str) -> Option<String> {
        resource
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.to_string())
    }

    #[test]
    fn without_a_name_the_service_is_unknown_and_the_sdk_is_described() {
        let (found, issues) = resolved(&crate::builder().with_env::<_, String, String>([]));
        assert_eq!(
            found.service_name,
            format!("unknown_service:{}", executable_name())
        );
        assert_eq!(
            attribute(&found, "service.name").as_ref(),
            Some(&found.service_name)
        );
        assert_eq!(
            attribute(&found, "telemetry.sdk.language").as_deref(),
            Some("rust")
        );
        assert_eq!(
            attribute(&found, "telemetry.distro.name").as_deref(),
            Some("tracelink")
        );
        assert_eq!(
            attribute(&found, "process.pid"),
            Some(std::process::id().to_string())
        );
        assert!(issues.is_empty(), "{issues:?}");
    }

    #[test]
    fn the_instance_id_is_one_uuid_v4_per_process() {
        let id = instance_id();
        assert_eq!(id, instance_id());
        let groups: Vec<usize> = id.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12], "{id}");
        assert_eq!(id.as_bytes()[14], b'4', "version 4: {id}");
        assert!(
            matches!(id.as_bytes()[19], b'8' | b'9' | b'a' | b'b'),
            "variant: {id}"
        );
        let (found, _) = resolved(&crate::builder().with_env::<_, String, String>([]));
        assert_eq!(
            attribute(&found, "service.instance.id").as_deref(),
            Some(id)
        );
    }

    #[test]
    fn service_name_code_beats_env_beats_attributes() {
        let attributes_only =
            crate::builder().with_env([(OTEL_RESOURCE_ATTRIBUTES, "service.name=from-attrs")]);
        assert_eq!(resolved(&attributes_only).0.service_name, "from-attrs");

        let both = crate::builder().with_env([
            (OTEL_RESOURCE_ATTRIBUTES, "service.name=from-attrs"),
            (OTEL_SERVICE_NAME, " from-env "),
        ]);
        let (found, _) = resolved(&both);
        assert_eq!(found.service_name, "from-env");
        assert_eq!(
            attribute(&found, "service.name").as_deref(),
            Some("from-env")
        );

        let attribute_in_code = crate::builder()
            .with_env([(OTEL_SERVICE_NAME, "from-env")])
            .with_resource_attribute("service.name", "first")
            .with_resource_attribute("service.name", "from-code");
        assert_eq!(resolved(&attribute_in_code).0.service_name, "from-code");

        let method = crate::builder()
            .with_env([(OTEL_SERVICE_NAME, "from-env")])
            .with_resource_attribute("service.name", "from-attribute")
            .with_service_name("from-method");
        let (found, _) = resolved(&method);
        assert_eq!(found.service_name, "from-method");
        assert_eq!(
            attribute(&found, "service.name").as_deref(),
            Some("from-method")
        );
    }

    #[test]
    fn attributes_are_percent_decoded_and_code_overrides_the_same_key() {
        let b = crate::builder()
            .with_env([(
                OTEL_RESOURCE_ATTRIBUTES,
                "deployment.environment.name=prod%20eu,host.name=h1,team=core",
            )])
            .with_resource_attribute("team", "payments");
        let (found, issues) = resolved(&b);
        assert_eq!(
            attribute(&found, "deployment.environment.name").as_deref(),
            Some("prod eu")
        );
        // A variable beats a detected attribute, in place.
        assert_eq!(attribute(&found, "host.name").as_deref(), Some("h1"));
        assert_eq!(attribute(&found, "team").as_deref(), Some("payments"));
        let keys: Vec<&str> = found.attributes.iter().map(|kv| kv.key.as_str()).collect();
        assert_eq!(keys.iter().filter(|k| **k == "team").count(), 1, "{keys:?}");
        assert_eq!(keys[1], "host.name", "{keys:?}");
        assert!(issues.is_empty(), "{issues:?}");
    }

    #[test]
    fn a_bad_list_gives_no_attribute_and_one_warning() {
        let b = crate::builder().with_env([(OTEL_RESOURCE_ATTRIBUTES, "team=core,service.name")]);
        let (found, issues) = resolved(&b);
        assert_eq!(attribute(&found, "team"), None);
        assert!(found.service_name.starts_with("unknown_service:"));
        assert_eq!(
            issues,
            [Warning {
                name: OTEL_RESOURCE_ATTRIBUTES,
                value: "team=core,service.name".into(),
                reason: "member \"service.name\" has no '='".into(),
                fallback: "no attributes from it".into(),
            }]
        );
    }
}
