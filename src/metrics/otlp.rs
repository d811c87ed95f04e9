//! What the recorder holds, as an OTLP `ExportMetricsServiceRequest`: the
//! same series and exemplars `/metrics` shows, under the names and label
//! keys they were recorded with.
//!
//! * counters: monotonic Sums of ints;
//! * gauges: Gauges of doubles;
//! * histograms: explicit-bucket Histograms with the series' own bounds,
//!   the count, and the sum while it is one (see `storage.rs`);
//! * `describe_*!` text and unit: description and unit (UCUM: `s`, `By`);
//! * every data point carries its exemplars: trace id, span id, value and
//!   time of the latest sample recorded in a sampled span (one a bucket for
//!   histograms).
//!
//! Cumulative by default; with [`Temporality::Delta`] (or `LowMemory`, the
//! same for the synchronous instruments the `metrics` crate has) each push
//! sends what changed since the last one, and only the exemplars recorded
//! since then. The SDK's `ResourceMetrics` can not be built outside it
//! (its fields are private), so the request is built here, from the
//! official proto types.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use metrics::{SharedString, Unit};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    exemplar, metric, number_data_point, AggregationTemporality, Exemplar as OtlpExemplar, Gauge,
    Histogram as OtlpHistogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics,
    ScopeMetrics, Sum,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

use super::exemplar::Exemplar;
use super::families::{Cell, Snapshot};
use super::names::{Kind, Labels};
use super::render::description;

/// Which temporality counters and histograms are pushed with
/// (`OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`).
///
/// ```
/// # fn main() -> Result<(), tracelink::Error> {
/// let config = tracelink::builder()
///     .with_env([
///         ("OTEL_METRICS_EXPORTER", "otlp"),
///         ("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "delta"),
///     ])
///     .config()?;
/// assert_eq!(config.metrics_temporality(), tracelink::metrics::Temporality::Delta);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Temporality {
    /// Every push carries the totals since the start. The default.
    #[default]
    Cumulative,
    /// Every push carries what changed since the last one.
    Delta,
    /// The specification's `lowmemory`: delta for synchronous counters and
    /// histograms (all the `metrics` crate has), so here the same as `Delta`.
    LowMemory,
}

impl Temporality {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Temporality::Cumulative => "cumulative",
            Temporality::Delta => "delta",
            Temporality::LowMemory => "lowmemory",
        }
    }

    fn is_delta(self) -> bool {
        self != Temporality::Cumulative
    }

    fn proto(self) -> i32 {
        if self.is_delta() {
            AggregationTemporality::Delta as i32
        } else {
            AggregationTemporality::Cumulative as i32
        }
    }
}

impl std::str::FromStr for Temporality {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "cumulative" => Ok(Temporality::Cumulative),
            "delta" => Ok(Temporality::Delta),
            "lowmemory" => Ok(Temporality::LowMemory),
            _ => Err("expected cumulative, delta or lowmemory".into()),
        }
    }
}

/// A series' values at the last push, for delta temporality.
#[derive(Debug)]
enum Previous {
    Counter(u64),
    /// Per-bucket counts (not cumulative) and the sum.
    Histogram(Vec<u64>, f64),
}

/// Turns snapshots into requests, keeping what delta temporality needs.
#[derive(Debug)]
pub(crate) struct Converter {
    temporality: Temporality,
    resource: Resource,
    scope: InstrumentationScope,
    /// When the cumulative series started (the recorder's start).
    start: u64,
    /// When the last push was made (the start of a delta interval).
    last: u64,
    /// By cell (the `Arc` is kept, so its address stays its own).
    previous: HashMap<usize, (Cell, Previous)>,
}

fn nanos(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

fn string(value: &str) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::StringValue(value.to_owned())),
    }
}

fn attributes(labels: &Labels) -> Vec<KeyValue> {
    labels
        .pairs()
        .map(|(key, value)| KeyValue {
            key: key.to_owned(),
            value: Some(string(value)),
            ..KeyValue::default()
        })
        .collect()
}

/// The UCUM unit of a `metrics` unit (`s`, `By`, ...).
fn unit(unit: Unit) -> &'static str {
    match unit {
        Unit::Count => "1",
        Unit::Percent => "%",
        Unit::Seconds => "s",
        Unit::Milliseconds => "ms",
        Unit::Microseconds => "us",
        Unit::Nanoseconds => "ns",
        Unit::Tebibytes => "TiBy",
        Unit::Gibibytes => "GiBy",
        Unit::Mebibytes => "MiBy",
        Unit::Kibibytes => "KiBy",
        Unit::Bytes => "By",
        Unit::TerabitsPerSecond => "Tbit/s",
        Unit::GigabitsPerSecond => "Gbit/s",
        Unit::MegabitsPerSecond => "Mbit/s",
        Unit::KilobitsPerSecond => "kbit/s",
        Unit::BitsPerSecond => "bit/s",
        Unit::CountPerSecond => "1/s",
    }
}

fn key(cell: &Cell) -> usize {
    match cell {
        Cell::Counter(c) => Arc::as_ptr(c) as usize,
        Cell::Gauge(g) => Arc::as_ptr(g) as usize,
        Cell::Histogram(h) => Arc::as_ptr(h) as usize,
    }
}

impl Converter {
    pub(crate) fn new(
        temporality: Temporality,
        resource: &opentelemetry_sdk::Resource,
        start: SystemTime,
    ) -> Self {
        let resource = Resource {
            attributes: resource
                .iter()
                .map(|(key, value)| KeyValue {
                    key: key.to_string(),
                    value: Some(opentelemetry_proto::tonic::common::v1::AnyValue::from(
                        value.clone(),
                    )),
                    ..KeyValue::default()
                })
                .collect(),
            ..Resource::default()
        };
        let start = nanos(start);
        Self {
            temporality,
            resource,
            scope: InstrumentationScope {
                name: "tracelink".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                ..InstrumentationScope::default()
            },
            start,
            last: start,
            previous: HashMap::new(),
        }
    }

    /// Every family of `snapshot` as of `now`, and how many data points.
    pub(crate) fn request(
        &mut self,
        snapshot: &Snapshot,
        descriptions: &HashMap<String, (Option<Unit>, SharedString)>,
        now: SystemTime,
    ) -> (ExportMetricsServiceRequest, usize) {
        let now = nanos(now).max(self.last);
        let start = if self.temporality.is_delta() {
            self.last
        } else {
            self.start
        };
        let mut points = 0;
        let mut metrics = Vec::with_capacity(snapshot.families.len());
        for family in &snapshot.families {
            let (unit_, help) = description(descriptions, family)
                .map_or((None, ""), |(unit, help)| (*unit, &**help));
            let cells = &snapshot.cells[family.cells.clone()];
            points += cells.len();
            let data = match family.kind {
                Kind::Counter => metric::Data::Sum(Sum {
                    data_points: cells
                        .iter()
                        .filter_map(|cell| self.counter_point(cell, start, now))
                        .collect(),
                    aggregation_temporality: self.temporality.proto(),
                    is_monotonic: true,
                }),
                Kind::Gauge => metric::Data::Gauge(Gauge {
                    data_points: cells
                        .iter()
                        .filter_map(|cell| match cell {
                            Cell::Gauge(g) => Some(NumberDataPoint {
                                attributes: attributes(&g.labels),
                                time_unix_nano: now,
                                value: Some(number_data_point::Value::AsDouble(g.value())),
                                ..NumberDataPoint::default()
                            }),
                            _ => None,
                        })
                        .collect(),
                }),
                Kind::Histogram => metric::Data::Histogram(OtlpHistogram {
                    data_points: cells
                        .iter()
                        .filter_map(|cell| self.histogram_point(cell, start, now))
                        .collect(),
                    aggregation_temporality: self.temporality.proto(),
                }),
            };
            metrics.push(Metric {
                name: family.recorded.to_string(),
                description: help.to_owned(),
                unit: unit_.map(unit).unwrap_or_default().to_owned(),
                data: Some(data),
                ..Metric::default()
            });
        }
        self.last = now;
        let request = ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: Some(self.resource.clone()),
                scope_metrics: vec![ScopeMetrics {
                    scope: Some(self.scope.clone()),
                    metrics,
                    ..ScopeMetrics::default()
                }],
                ..ResourceMetrics::default()
            }],
        };
        (request, points)
    }

    /// An exemplar, if it belongs in the interval that began at `start`.
    fn exemplar(&self, exemplar: Option<Exemplar>, start: u64, int: bool) -> Option<OtlpExemplar> {
        let e = exemplar?;
        let time = (e.timestamp * 1e9) as u64;
        if self.temporality.is_delta() && time < start {
            return None;
        }
        Some(OtlpExemplar {
            time_unix_nano: time,
            span_id: e.span_id.to_be_bytes().to_vec(),
            trace_id: e.trace_id.to_be_bytes().to_vec(),
            value: Some(if int {
                exemplar::Value::AsInt(e.value as i64)
            } else {
                exemplar::Value::AsDouble(e.value)
            }),
            ..OtlpExemplar::default()
        })
    }

    fn counter_point(&mut self, cell: &Cell, start: u64, now: u64) -> Option<NumberDataPoint> {
        let Cell::Counter(c) = cell else { return None };
        let total = c.value();
        let value = if self.temporality.is_delta() {
            let entry = self
                .previous
                .entry(key(cell))
                .or_insert_with(|| (cell.clone(), Previous::Counter(0)));
            let before = match &mut entry.1 {
                Previous::Counter(before) => std::mem::replace(before, total),
                Previous::Histogram(..) => 0,
            };
            total.saturating_sub(before)
        } else {
            total
        };
        Some(NumberDataPoint {
            attributes: attributes(&c.labels),
            start_time_unix_nano: start,
            time_unix_nano: now,
            value: Some(number_data_point::Value::AsInt(
                i64::try_from(value).unwrap_or(i64::MAX),
            )),
            exemplars: self
                .exemplar(c.exemplar(), start, true)
                .into_iter()
                .collect(),
            ..NumberDataPoint::default()
        })
    }

    fn histogram_point(&mut self, cell: &Cell, start: u64, now: u64) -> Option<HistogramDataPoint> {
        let Cell::Histogram(h) = cell else {
            return None;
        };
        let mut bounds = Vec::new();
        let mut counts = Vec::new();
        let mut exemplars = Vec::new();
        let mut below = 0u64;
        h.buckets(|le, cumulative, exemplar| {
            if le.is_finite() {
                bounds.push(le);
            }
            counts.push(cumulative.saturating_sub(below));
            below = cumulative;
            exemplars.push(exemplar);
        });
        let sum = h.sum();
        if self.temporality.is_delta() {
            let entry = self.previous.entry(key(cell)).or_insert_with(|| {
                (
                    cell.clone(),
                    Previous::Histogram(vec![0; counts.len()], 0.0),
                )
            });
            if let Previous::Histogram(before, before_sum) = &mut entry.1 {
                let now_counts = counts.clone();
                for (count, was) in counts.iter_mut().zip(before.iter()) {
                    *count = count.saturating_sub(*was);
                }
                *before = now_counts;
                let total = sum.unwrap_or(0.0);
                let delta_sum = total - *before_sum;
                *before_sum = total;
                return Some(self.histogram_data(
                    h,
                    bounds,
                    counts,
                    exemplars,
                    sum.map(|_| delta_sum),
                    start,
                    now,
                ));
            }
        }
        Some(self.histogram_data(h, bounds, counts, exemplars, sum, start, now))
    }

    #[allow(clippy::too_many_arguments)]
    fn histogram_data(
        &self,
        h: &super::storage::Histogram,
        bounds: Vec<f64>,
        counts: Vec<u64>,
        exemplars: Vec<Option<Exemplar>>,
        sum: Option<f64>,
        start: u64,
        now: u64,
    ) -> HistogramDataPoint {
        HistogramDataPoint {
            attributes: attributes(&h.labels),
            start_time_unix_nano: start,
            time_unix_nano: now,
            count: counts.iter().sum(),
            sum,
            bucket_counts: counts,
            explicit_bounds: bounds,
            exemplars: exemplars
                .into_iter()
                .filter_map(|e| self.exemplar(e, start, false))
                .collect(),
            ..HistogramDataPoint::default()
        }
    }
}
