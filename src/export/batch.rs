//! How a pipeline batches: [`BatchConfig`], public as
//! `tracelink::trace::BatchConfig` and `tracelink::logs::BatchConfig`.

use std::time::Duration;

use crate::env::{
    OTEL_BLRP_EXPORT_TIMEOUT_DEFAULT, OTEL_BLRP_MAX_EXPORT_BATCH_SIZE_DEFAULT,
    OTEL_BLRP_MAX_QUEUE_SIZE_DEFAULT, OTEL_BLRP_SCHEDULE_DELAY_DEFAULT,
    OTEL_BSP_EXPORT_TIMEOUT_DEFAULT, OTEL_BSP_MAX_EXPORT_BATCH_SIZE_DEFAULT,
    OTEL_BSP_MAX_QUEUE_SIZE_DEFAULT, OTEL_BSP_SCHEDULE_DELAY_DEFAULT,
};

/// How spans (`OTEL_BSP_*`) or log records (`OTEL_BLRP_*`) are batched on
/// their way out. The defaults are the specification's for spans;
/// [`BatchConfig::logs`] gives those for log records (which differ only
/// in the schedule delay: 1 s rather than 5 s).
///
/// ```
/// use std::time::Duration;
/// use tracelink::trace::BatchConfig;
///
/// let batch = BatchConfig::default()
///     .with_max_queue_size(8192)
///     .with_scheduled_delay(Duration::from_millis(500));
/// assert_eq!(batch.max_queue_size(), 8192);
/// assert_eq!(BatchConfig::logs().scheduled_delay(), Duration::from_secs(1));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchConfig {
    pub(crate) scheduled_delay: Duration,
    pub(crate) export_timeout: Duration,
    pub(crate) max_queue_size: usize,
    pub(crate) max_export_batch_size: usize,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self {
            scheduled_delay: OTEL_BSP_SCHEDULE_DELAY_DEFAULT,
            export_timeout: OTEL_BSP_EXPORT_TIMEOUT_DEFAULT,
            max_queue_size: OTEL_BSP_MAX_QUEUE_SIZE_DEFAULT,
            max_export_batch_size: OTEL_BSP_MAX_EXPORT_BATCH_SIZE_DEFAULT,
        }
    }
}

impl BatchConfig {
    /// The specification's defaults for log records (`OTEL_BLRP_*`): 1 s
    /// schedule delay, 30 s export timeout, a queue of 2048, batches of 512.
    pub fn logs() -> Self {
        Self {
            scheduled_delay: OTEL_BLRP_SCHEDULE_DELAY_DEFAULT,
            export_timeout: OTEL_BLRP_EXPORT_TIMEOUT_DEFAULT,
            max_queue_size: OTEL_BLRP_MAX_QUEUE_SIZE_DEFAULT,
            max_export_batch_size: OTEL_BLRP_MAX_EXPORT_BATCH_SIZE_DEFAULT,
        }
    }

    /// The longest an ended span or a log record waits before it is exported.
    ///
    /// Defaults to 5 s for spans, 1 s for logs. Corresponding environment
    /// variables: `OTEL_BSP_SCHEDULE_DELAY`, `OTEL_BLRP_SCHEDULE_DELAY`;
    /// this overrides them.
    #[must_use]
    pub fn with_scheduled_delay(mut self, delay: Duration) -> Self {
        self.scheduled_delay = delay;
        self
    }

    /// The longest one batch may take to export, retries included.
    ///
    /// Defaults to 30 s. Corresponding environment variables:
    /// `OTEL_BSP_EXPORT_TIMEOUT`, `OTEL_BLRP_EXPORT_TIMEOUT`; this overrides them.
    #[must_use]
    pub fn with_export_timeout(mut self, timeout: Duration) -> Self {
        self.export_timeout = timeout;
        self
    }

    /// How many spans or log records may wait for export; more are dropped
    /// and counted.
    ///
    /// Defaults to 2048. Corresponding environment variables:
    /// `OTEL_BSP_MAX_QUEUE_SIZE`, `OTEL_BLRP_MAX_QUEUE_SIZE`; this overrides them.
    #[must_use]
    pub fn with_max_queue_size(mut self, size: usize) -> Self {
        self.max_queue_size = size.max(1);
        self
    }

    /// How many spans or log records one export carries at most.
    ///
    /// Defaults to 512. Corresponding environment variables:
    /// `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, `OTEL_BLRP_MAX_EXPORT_BATCH_SIZE`;
    /// this overrides them.
    #[must_use]
    pub fn with_max_export_batch_size(mut self, size: usize) -> Self {
        self.max_export_batch_size = size.max(1);
        self
    }

    /// The longest an item waits before it is exported.
    pub fn scheduled_delay(&self) -> Duration {
        self.scheduled_delay
    }

    /// The longest one batch may take to export.
    pub fn export_timeout(&self) -> Duration {
        self.export_timeout
    }

    /// How many items may wait for export.
    pub fn max_queue_size(&self) -> usize {
        self.max_queue_size
    }

    /// How many items one export carries at most.
    pub fn max_export_batch_size(&self) -> usize {
        self.max_export_batch_size
    }
}
