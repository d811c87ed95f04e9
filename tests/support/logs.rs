//! The logs side of the test receivers: OTLP `LogsService/Export` and
//! `POST /v1/logs`, decoded with the official protos, and what a test reads
//! of them ([`LogsRequest`], [`ReceivedLog`]).

use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;

use super::{any_value_to_string, attr, hex, Inbox, Signal, State, Transport};

/// One logs export request a receiver accepted.
pub type LogsRequest = super::Request<ExportLogsServiceRequest>;

impl LogsRequest {
    /// How many log records the request carried.
    pub fn record_count(&self) -> usize {
        self.body
            .resource_logs
            .iter()
            .flat_map(|rl| &rl.scope_logs)
            .map(|sl| sl.log_records.len())
            .sum()
    }
}

/// A received log record with the resource and scope it was sent under.
#[derive(Clone, Debug)]
pub struct ReceivedLog {
    /// The protocol it came by.
    pub transport: Transport,
    /// The resource's attributes.
    pub resource: Vec<KeyValue>,
    /// The instrumentation scope (empty if the request had none).
    pub scope: InstrumentationScope,
    /// The record as decoded.
    pub record: LogRecord,
}

impl ReceivedLog {
    /// The trace id in lower-case hex (32 digits), or `""` if the record
    /// carries none.
    pub fn trace_id(&self) -> String {
        hex(&self.record.trace_id)
    }

    /// The span id in lower-case hex (16 digits), or `""` if the record
    /// carries none.
    pub fn span_id(&self) -> String {
        hex(&self.record.span_id)
    }

    /// The OTLP `flags` field (its low 8 bits are the W3C trace flags).
    pub fn flags(&self) -> u32 {
        self.record.flags
    }

    /// The OTLP severity number (`SeverityNumber`: 9 is INFO, 17 ERROR...).
    pub fn severity_number(&self) -> i32 {
        self.record.severity_number
    }

    /// The severity text as sent (`"INFO"`, ...), `""` if none.
    pub fn severity_text(&self) -> &str {
        &self.record.severity_text
    }

    /// The body as received, with its protobuf type; `None` without a body.
    pub fn body(&self) -> Option<&any_value::Value> {
        self.record.body.as_ref().and_then(|v| v.value.as_ref())
    }

    /// The body as a string (see [`any_value_to_string`]); `None` without a
    /// body.
    pub fn body_string(&self) -> Option<String> {
        self.record.body.as_ref().map(any_value_to_string)
    }

    /// A record attribute's value as received, with its protobuf type.
    pub fn attr_value(&self, key: &str) -> Option<&any_value::Value> {
        self.record
            .attributes
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref())
            .and_then(|v| v.value.as_ref())
    }

    /// A record attribute that arrived as an OTLP `intValue` (`None` if it is
    /// missing or of another type).
    pub fn int_attr(&self, key: &str) -> Option<i64> {
        match self.attr_value(key) {
            Some(any_value::Value::IntValue(i)) => Some(*i),
            _ => None,
        }
    }

    /// A record attribute, as a string.
    pub fn attr(&self, key: &str) -> Option<String> {
        attr(&self.record.attributes, key)
    }

    /// How many times the record carries the attribute `key` (OTLP allows one).
    pub fn attr_count(&self, key: &str) -> usize {
        self.record
            .attributes
            .iter()
            .filter(|kv| kv.key == key)
            .count()
    }

    /// The instrumentation scope's name.
    pub fn scope_name(&self) -> &str {
        &self.scope.name
    }

    /// A resource attribute, as a string.
    pub fn resource_attr(&self, key: &str) -> Option<String> {
        attr(&self.resource, key)
    }

    /// When the event happened (0 if unknown).
    pub fn time_unix_nano(&self) -> u64 {
        self.record.time_unix_nano
    }

    /// When the record was observed by the exporting side.
    pub fn observed_time_unix_nano(&self) -> u64 {
        self.record.observed_time_unix_nano
    }

    /// The event name, `""` for a record that is not an event.
    pub fn event_name(&self) -> &str {
        &self.record.event_name
    }
}

/// Every log record of these requests, in order, with resource and scope.
pub(super) fn flatten(requests: &[LogsRequest]) -> Vec<ReceivedLog> {
    let mut logs = Vec::new();
    for request in requests {
        for resource_logs in &request.body.resource_logs {
            let resource = resource_logs
                .resource
                .as_ref()
                .map(|r| r.attributes.clone())
                .unwrap_or_default();
            for scope_logs in &resource_logs.scope_logs {
                let scope = scope_logs.scope.clone().unwrap_or_default();
                for record in &scope_logs.log_records {
                    logs.push(ReceivedLog {
                        transport: request.transport,
                        resource: resource.clone(),
                        scope: scope.clone(),
                        record: record.clone(),
                    });
                }
            }
        }
    }
    logs
}

impl Inbox<LogsRequest> {
    /// Waits for `n` log records in all; returns every record received.
    pub(super) fn wait_for_logs(&self, n: usize, timeout: Duration) -> Vec<ReceivedLog> {
        let requests = self.wait_until(timeout, |requests| {
            requests
                .iter()
                .map(LogsRequest::record_count)
                .sum::<usize>()
                >= n
        });
        flatten(&requests)
    }
}

/// The gRPC logs service of the Rust receiver.
pub(super) fn grpc_service(state: Arc<State>) -> LogsServiceServer<GrpcLogsService> {
    LogsServiceServer::new(GrpcLogsService { state })
}

pub(super) struct GrpcLogsService {
    state: Arc<State>,
}

#[tonic::async_trait]
impl LogsService for GrpcLogsService {
    async fn export(
        &self,
        request: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        super::take_grpc(&self.state, Signal::Logs, &self.state.inboxes.logs, request)?;
        Ok(tonic::Response::new(ExportLogsServiceResponse::default()))
    }
}
