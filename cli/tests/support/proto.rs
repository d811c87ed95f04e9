//! OTLP protobuf builders: attributes, an error status, an event. Shared by
//! the tests (through `support`) and `examples/generate_store.rs`.

#![allow(dead_code)]

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::{span, status, Status};

pub(crate) fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        key_strindex: 0,
    }
}

/// A string attribute.
pub(crate) fn s(key: &str, value: &str) -> KeyValue {
    kv(key, any_value::Value::StringValue(value.into()))
}

/// An integer attribute.
pub(crate) fn int(key: &str, value: i64) -> KeyValue {
    kv(key, any_value::Value::IntValue(value))
}

/// Status `ERROR` with `message`.
pub(crate) fn error_status(message: &str) -> Status {
    Status {
        message: message.into(),
        code: status::StatusCode::Error as i32,
    }
}

/// A span event at `time_unix_nano`.
pub(crate) fn event(time_unix_nano: u64, name: &str, attributes: Vec<KeyValue>) -> span::Event {
    span::Event {
        time_unix_nano,
        name: name.into(),
        attributes,
        dropped_attributes_count: 0,
    }
}
