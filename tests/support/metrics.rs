//! The metrics side of the test receivers: OTLP `MetricsService/Export` and
//! `POST /v1/metrics`, decoded with the official protos, and a flat view of
//! them for tests ([`ReceivedMetric`], [`DataPoint`], [`ReceivedExemplar`]).
//!
//! "Every counter exemplar names an exported span" reads
//!
//! ```ignore
//! let counter = receiver.metric("requests").expect("the counter arrived");
//! assert!(counter.exemplars_without_span(&receiver.spans()).is_empty());
//! ```
//!
//! or [`Receiver::exemplars_without_span`](super::Receiver::exemplars_without_span).

use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    exemplar, metric, number_data_point, AggregationTemporality, Exemplar, HistogramDataPoint,
    Metric, NumberDataPoint,
};

use super::{attr, hex, Inbox, ReceivedSpan, Signal, State, Transport};

/// One metrics export request a receiver accepted.
pub type MetricsRequest = super::Request<ExportMetricsServiceRequest>;

impl MetricsRequest {
    /// The names of the metrics the request carried, in order.
    pub fn metric_names(&self) -> Vec<&str> {
        self.body
            .resource_metrics
            .iter()
            .flat_map(|rm| &rm.scope_metrics)
            .flat_map(|sm| &sm.metrics)
            .map(|m| m.name.as_str())
            .collect()
    }
}

/// What kind of data a metric carries (OTLP's `Metric.data` oneof).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricKind {
    /// `Gauge`: last values.
    Gauge,
    /// `Sum`: a counter (monotonic) or an up-down counter.
    Sum,
    /// `Histogram` with explicit bucket bounds.
    Histogram,
    /// `ExponentialHistogram`.
    ExponentialHistogram,
    /// `Summary` (quantiles).
    Summary,
    /// No data at all.
    Empty,
}

/// One metric of one export request, with the resource and scope it was
/// sent under.
#[derive(Clone, Debug)]
pub struct ReceivedMetric {
    /// The protocol it came by.
    pub transport: Transport,
    /// The resource's attributes.
    pub resource: Vec<KeyValue>,
    /// The instrumentation scope (empty if the request had none).
    pub scope: InstrumentationScope,
    /// The metric as decoded (the raw data, for what the flat view omits).
    pub metric: Metric,
}

impl ReceivedMetric {
    /// The metric's name.
    pub fn name(&self) -> &str {
        &self.metric.name
    }

    /// The description, `""` if none.
    pub fn description(&self) -> &str {
        &self.metric.description
    }

    /// The unit (UCUM, such as `"s"` or `"By"`), `""` if none.
    pub fn unit(&self) -> &str {
        &self.metric.unit
    }

    /// What kind of data it carries.
    pub fn kind(&self) -> MetricKind {
        match &self.metric.data {
            Some(metric::Data::Gauge(_)) => MetricKind::Gauge,
            Some(metric::Data::Sum(_)) => MetricKind::Sum,
            Some(metric::Data::Histogram(_)) => MetricKind::Histogram,
            Some(metric::Data::ExponentialHistogram(_)) => MetricKind::ExponentialHistogram,
            Some(metric::Data::Summary(_)) => MetricKind::Summary,
            None => MetricKind::Empty,
        }
    }

    /// Whether it is a monotonic sum (a counter); `false` for anything else.
    pub fn is_monotonic(&self) -> bool {
        matches!(&self.metric.data, Some(metric::Data::Sum(sum)) if sum.is_monotonic)
    }

    /// The aggregation temporality of a sum or histogram; `Unspecified` for
    /// gauges and summaries, which have none.
    pub fn temporality(&self) -> AggregationTemporality {
        let value = match &self.metric.data {
            Some(metric::Data::Sum(sum)) => sum.aggregation_temporality,
            Some(metric::Data::Histogram(h)) => h.aggregation_temporality,
            Some(metric::Data::ExponentialHistogram(h)) => h.aggregation_temporality,
            _ => 0,
        };
        AggregationTemporality::try_from(value).unwrap_or(AggregationTemporality::Unspecified)
    }

    /// Its data points, flattened (see [`DataPoint`]).
    pub fn points(&self) -> Vec<DataPoint> {
        match &self.metric.data {
            Some(metric::Data::Gauge(gauge)) => gauge
                .data_points
                .iter()
                .map(DataPoint::from_number)
                .collect(),
            Some(metric::Data::Sum(sum)) => {
                sum.data_points.iter().map(DataPoint::from_number).collect()
            }
            Some(metric::Data::Histogram(h)) => h
                .data_points
                .iter()
                .map(DataPoint::from_histogram)
                .collect(),
            Some(metric::Data::ExponentialHistogram(h)) => h
                .data_points
                .iter()
                .map(|p| DataPoint {
                    attributes: p.attributes.clone(),
                    start_time_unix_nano: p.start_time_unix_nano,
                    time_unix_nano: p.time_unix_nano,
                    flags: p.flags,
                    count: Some(p.count),
                    sum: p.sum,
                    min: p.min,
                    max: p.max,
                    exemplars: p.exemplars.iter().map(ReceivedExemplar::from).collect(),
                    ..DataPoint::default()
                })
                .collect(),
            Some(metric::Data::Summary(s)) => s
                .data_points
                .iter()
                .map(|p| DataPoint {
                    attributes: p.attributes.clone(),
                    start_time_unix_nano: p.start_time_unix_nano,
                    time_unix_nano: p.time_unix_nano,
                    flags: p.flags,
                    count: Some(p.count),
                    sum: Some(p.sum),
                    quantiles: p
                        .quantile_values
                        .iter()
                        .map(|q| (q.quantile, q.value))
                        .collect(),
                    ..DataPoint::default()
                })
                .collect(),
            None => Vec::new(),
        }
    }

    /// The data point whose attributes include every `(key, value)` of
    /// `attributes` (values compared in string form); the first such.
    pub fn point(&self, attributes: &[(&str, &str)]) -> Option<DataPoint> {
        self.points().into_iter().find(|p| p.has_attrs(attributes))
    }

    /// Every exemplar of every data point.
    pub fn exemplars(&self) -> Vec<ReceivedExemplar> {
        self.points()
            .into_iter()
            .flat_map(|p| p.exemplars)
            .collect()
    }

    /// The exemplars that name none of `spans` by trace id and span id (an
    /// exemplar without ids names none).
    pub fn exemplars_without_span(&self, spans: &[ReceivedSpan]) -> Vec<ReceivedExemplar> {
        self.exemplars()
            .into_iter()
            .filter(|e| !spans.iter().any(|span| e.names(span)))
            .collect()
    }

    /// The instrumentation scope's name.
    pub fn scope_name(&self) -> &str {
        &self.scope.name
    }

    /// A resource attribute, as a string.
    pub fn resource_attr(&self, key: &str) -> Option<String> {
        attr(&self.resource, key)
    }
}

/// One data point of any kind, flattened: what a kind lacks is `None` or
/// empty (a sum has no bucket counts, a histogram no `value`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DataPoint {
    /// The point's attributes.
    pub attributes: Vec<KeyValue>,
    /// Start of the aggregation interval.
    pub start_time_unix_nano: u64,
    /// End of the interval: when it was measured.
    pub time_unix_nano: u64,
    /// OTLP `DataPointFlags` (1: no recorded value).
    pub flags: u32,
    /// Sums and gauges: the value with its type (`AsInt` or `AsDouble`).
    pub value: Option<number_data_point::Value>,
    /// Histograms and summaries: how many measurements.
    pub count: Option<u64>,
    /// Histograms and summaries: their sum, if sent.
    pub sum: Option<f64>,
    /// Histograms: the smallest measurement, if sent.
    pub min: Option<f64>,
    /// Histograms: the largest measurement, if sent.
    pub max: Option<f64>,
    /// Explicit-bucket histograms: the upper bounds (one fewer than counts).
    pub explicit_bounds: Vec<f64>,
    /// Explicit-bucket histograms: the count of each bucket (not cumulative).
    pub bucket_counts: Vec<u64>,
    /// Summaries: `(quantile, value)` pairs.
    pub quantiles: Vec<(f64, f64)>,
    /// The point's exemplars.
    pub exemplars: Vec<ReceivedExemplar>,
}

impl DataPoint {
    fn from_number(point: &NumberDataPoint) -> Self {
        Self {
            attributes: point.attributes.clone(),
            start_time_unix_nano: point.start_time_unix_nano,
            time_unix_nano: point.time_unix_nano,
            flags: point.flags,
            value: point.value,
            exemplars: point.exemplars.iter().map(ReceivedExemplar::from).collect(),
            ..Self::default()
        }
    }

    fn from_histogram(point: &HistogramDataPoint) -> Self {
        Self {
            attributes: point.attributes.clone(),
            start_time_unix_nano: point.start_time_unix_nano,
            time_unix_nano: point.time_unix_nano,
            flags: point.flags,
            count: Some(point.count),
            sum: point.sum,
            min: point.min,
            max: point.max,
            explicit_bounds: point.explicit_bounds.clone(),
            bucket_counts: point.bucket_counts.clone(),
            exemplars: point.exemplars.iter().map(ReceivedExemplar::from).collect(),
            ..Self::default()
        }
    }

    /// A sum's or gauge's value sent as an integer (`None` if it is a
    /// double, or the point has no value).
    pub fn as_int(&self) -> Option<i64> {
        match self.value {
            Some(number_data_point::Value::AsInt(i)) => Some(i),
            _ => None,
        }
    }

    /// A sum's or gauge's value sent as a double (`None` if it is an
    /// integer, or the point has no value).
    pub fn as_double(&self) -> Option<f64> {
        match self.value {
            Some(number_data_point::Value::AsDouble(d)) => Some(d),
            _ => None,
        }
    }

    /// A sum's or gauge's value as a double, whatever its type.
    pub fn number(&self) -> Option<f64> {
        self.as_double().or(self.as_int().map(|i| i as f64))
    }

    /// A point attribute's value as received, with its protobuf type.
    pub fn attr_value(&self, key: &str) -> Option<&any_value::Value> {
        self.attributes
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref())
            .and_then(|v| v.value.as_ref())
    }

    /// A point attribute, as a string.
    pub fn attr(&self, key: &str) -> Option<String> {
        attr(&self.attributes, key)
    }

    /// Whether the point's attributes include every `(key, value)` given
    /// (values compared in string form).
    pub fn has_attrs(&self, attributes: &[(&str, &str)]) -> bool {
        attributes
            .iter()
            .all(|(key, value)| self.attr(key).as_deref() == Some(*value))
    }
}

/// An exemplar: one measurement, with the span it was taken in.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReceivedExemplar {
    /// The trace id in lower-case hex, `""` if none.
    pub trace_id: String,
    /// The span id in lower-case hex, `""` if none.
    pub span_id: String,
    /// The measurement with its type (`AsInt` or `AsDouble`).
    pub value: Option<exemplar::Value>,
    /// When it was measured.
    pub time_unix_nano: u64,
    /// The measurement's attributes that the point's attributes left out.
    pub filtered_attributes: Vec<KeyValue>,
}

impl ReceivedExemplar {
    /// The measurement as a double, whatever its type.
    pub fn number(&self) -> Option<f64> {
        match self.value {
            Some(exemplar::Value::AsDouble(d)) => Some(d),
            Some(exemplar::Value::AsInt(i)) => Some(i as f64),
            None => None,
        }
    }

    /// Whether it names `span`: same trace id and span id, both present.
    pub fn names(&self, span: &ReceivedSpan) -> bool {
        !self.span_id.is_empty()
            && self.trace_id == span.trace_id()
            && self.span_id == span.span_id()
    }
}

impl From<&Exemplar> for ReceivedExemplar {
    fn from(exemplar: &Exemplar) -> Self {
        Self {
            trace_id: hex(&exemplar.trace_id),
            span_id: hex(&exemplar.span_id),
            value: exemplar.value,
            time_unix_nano: exemplar.time_unix_nano,
            filtered_attributes: exemplar.filtered_attributes.clone(),
        }
    }
}

/// Every metric of these requests, in order, with resource and scope.
pub(super) fn flatten(requests: &[MetricsRequest]) -> Vec<ReceivedMetric> {
    let mut metrics = Vec::new();
    for request in requests {
        for resource_metrics in &request.body.resource_metrics {
            let resource = resource_metrics
                .resource
                .as_ref()
                .map(|r| r.attributes.clone())
                .unwrap_or_default();
            for scope_metrics in &resource_metrics.scope_metrics {
                let scope = scope_metrics.scope.clone().unwrap_or_default();
                for metric in &scope_metrics.metrics {
                    metrics.push(ReceivedMetric {
                        transport: request.transport,
                        resource: resource.clone(),
                        scope: scope.clone(),
                        metric: metric.clone(),
                    });
                }
            }
        }
    }
    metrics
}

/// The last metric named `name` among these requests.
pub(super) fn latest(requests: &[MetricsRequest], name: &str) -> Option<ReceivedMetric> {
    // Newest request first; flattening only that one.
    requests.iter().rev().find_map(|request| {
        flatten(std::slice::from_ref(request))
            .into_iter()
            .rev()
            .find(|m| m.name() == name)
    })
}

impl Inbox<MetricsRequest> {
    /// Waits until the latest data of `name` satisfies `until`; returns it.
    pub(super) fn wait_for_metric(
        &self,
        name: &str,
        timeout: Duration,
        mut until: impl FnMut(&ReceivedMetric) -> bool,
    ) -> Option<ReceivedMetric> {
        let requests = self.wait_until(timeout, |requests| {
            latest(requests, name).is_some_and(|m| until(&m))
        });
        latest(&requests, name)
    }
}

/// The gRPC metrics service of the Rust receiver.
pub(super) fn grpc_service(state: Arc<State>) -> MetricsServiceServer<GrpcMetricsService> {
    MetricsServiceServer::new(GrpcMetricsService { state })
}

pub(super) struct GrpcMetricsService {
    state: Arc<State>,
}

#[tonic::async_trait]
impl MetricsService for GrpcMetricsService {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        super::take_grpc(
            &self.state,
            Signal::Metrics,
            &self.state.inboxes.metrics,
            request,
        )?;
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}
