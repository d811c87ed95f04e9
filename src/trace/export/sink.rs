//! The one shape every exporter takes for the export thread: an object-safe
//! [`SpanExporter`], so OTLP, the console, the local file and the service's
//! own exporters sit in one list.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

pub(crate) type ExportFuture<'a> = Pin<Box<dyn Future<Output = OTelSdkResult> + Send + 'a>>;

/// An object-safe [`SpanExporter`].
pub(crate) trait DynExporter: Send + Sync + std::fmt::Debug {
    fn export(&self, batch: Vec<SpanData>) -> ExportFuture<'_>;
    fn shutdown(&mut self, timeout: Duration) -> OTelSdkResult;
    fn set_resource(&mut self, resource: &Resource);
    /// Names the exporter in diagnostics.
    fn describe(&self) -> String;
}

impl<E: SpanExporter + 'static> DynExporter for E {
    fn export(&self, batch: Vec<SpanData>) -> ExportFuture<'_> {
        Box::pin(SpanExporter::export(self, batch))
    }

    fn shutdown(&mut self, timeout: Duration) -> OTelSdkResult {
        SpanExporter::shutdown_with_timeout(self, timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        SpanExporter::set_resource(self, resource);
    }

    fn describe(&self) -> String {
        let name = std::any::type_name::<E>();
        name.rsplit("::").next().unwrap_or(name).to_owned()
    }
}

#[cfg(test)]
pub(crate) use recorder::{Answer, Recorder};

/// An exporter for the export thread's unit tests: it keeps every batch it
/// is given, answers as told, and notes its shutdown. (The real exporters
/// are tested against real OTLP receivers in `tests/`.)
#[cfg(test)]
mod recorder {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex, PoisonError};
    use std::time::Duration;

    use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
    use opentelemetry_sdk::trace::{SpanData, SpanExporter};

    /// How a [`Recorder`] answers each batch.
    #[derive(Clone, Copy, Debug)]
    pub(crate) enum Answer {
        /// Takes every batch.
        Take,
        /// Fails every batch.
        Fail,
        /// Fails every `n`-th batch it is given (the `n`-th, the `2n`-th, ...).
        FailEvery(usize),
        /// Never answers: the export stays pending until it is given up on.
        Never,
    }

    /// What a test runs each time a batch is given (while the export
    /// thread is busy with it): to queue more spans, or move a clock.
    type Hook = Box<dyn FnMut() + Send>;

    /// The batches a [`Recorder`] was given, shared with the test.
    #[derive(Clone)]
    pub(crate) struct Recorder {
        answer: Answer,
        batches: Arc<Mutex<Vec<Vec<SpanData>>>>,
        shut_down: Arc<AtomicBool>,
        on_export: Arc<Mutex<Option<Hook>>>,
    }

    impl std::fmt::Debug for Recorder {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Recorder")
                .field("answer", &self.answer)
                .finish_non_exhaustive()
        }
    }

    impl Recorder {
        pub(crate) fn new(answer: Answer) -> Self {
            Self {
                answer,
                batches: Arc::default(),
                shut_down: Arc::default(),
                on_export: Arc::default(),
            }
        }

        /// Runs `hook` each time a batch is given, before it is answered.
        pub(crate) fn on_export(&self, hook: impl FnMut() + Send + 'static) {
            *self
                .on_export
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(Box::new(hook));
        }

        /// Every batch so far, each as the spans it held, in order.
        pub(crate) fn batches(&self) -> Vec<Vec<SpanData>> {
            self.batches
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        }

        /// Whether the export thread shut it down.
        pub(crate) fn is_shut_down(&self) -> bool {
            self.shut_down.load(Ordering::Acquire)
        }
    }

    impl SpanExporter for Recorder {
        fn export(
            &self,
            batch: Vec<SpanData>,
        ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
            let nth = {
                let mut batches = self.batches.lock().unwrap_or_else(PoisonError::into_inner);
                batches.push(batch);
                batches.len()
            };
            if let Some(hook) = self
                .on_export
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_mut()
            {
                hook();
            }
            let answer = self.answer;
            async move {
                match answer {
                    Answer::Take => Ok(()),
                    Answer::FailEvery(n) if nth % n.max(1) != 0 => Ok(()),
                    Answer::Fail | Answer::FailEvery(_) => {
                        Err(OTelSdkError::InternalFailure("refused by the test".into()))
                    }
                    Answer::Never => std::future::pending().await,
                }
            }
        }

        fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
            self.shut_down.store(true, Ordering::Release);
            Ok(())
        }
    }
}
