//! The one shape every exporter of a signal takes for its export thread:
//! an object-safe [`Exporter`] of that signal's batches, so OTLP, the
//! console, the local file and the service's own exporters sit in one list.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::Resource;

pub(crate) type ExportFuture<'a> = Pin<Box<dyn Future<Output = OTelSdkResult> + Send + 'a>>;

/// An exporter of batches `B`, object-safe. The SDK's span and log
/// exporters get it from blanket impls in `trace/export` and `logs/export`.
pub(crate) trait Exporter<B>: Send + Sync + std::fmt::Debug {
    fn export(&self, batch: B) -> ExportFuture<'_>;
    fn shutdown(&mut self, timeout: Duration) -> OTelSdkResult;
    fn set_resource(&mut self, resource: &Resource);
    /// Names the exporter in diagnostics.
    fn describe(&self) -> String;
}

/// The short name of type `E`, for [`Exporter::describe`].
pub(crate) fn type_name<E>() -> String {
    let name = std::any::type_name::<E>();
    let name = name.split('<').next().unwrap_or(name);
    name.rsplit("::").next().unwrap_or(name).to_owned()
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
    use opentelemetry_sdk::Resource;

    use super::{ExportFuture, Exporter};

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
    /// thread is busy with it): to queue more items, or move a clock.
    type Hook = Box<dyn FnMut() + Send>;

    /// The batches a [`Recorder`] was given, shared with the test.
    pub(crate) struct Recorder<B> {
        answer: Answer,
        batches: Arc<Mutex<Vec<B>>>,
        shut_down: Arc<AtomicBool>,
        on_export: Arc<Mutex<Option<Hook>>>,
    }

    impl<B> Clone for Recorder<B> {
        fn clone(&self) -> Self {
            Self {
                answer: self.answer,
                batches: Arc::clone(&self.batches),
                shut_down: Arc::clone(&self.shut_down),
                on_export: Arc::clone(&self.on_export),
            }
        }
    }

    impl<B> std::fmt::Debug for Recorder<B> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Recorder")
                .field("answer", &self.answer)
                .finish_non_exhaustive()
        }
    }

    impl<B: Clone> Recorder<B> {
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

        /// Every batch so far, in order.
        pub(crate) fn batches(&self) -> Vec<B> {
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

    impl<B: Send + 'static> Exporter<B> for Recorder<B> {
        fn export(&self, batch: B) -> ExportFuture<'_> {
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
            Box::pin(async move {
                match answer {
                    Answer::Take => Ok(()),
                    Answer::FailEvery(n) if nth % n.max(1) != 0 => Ok(()),
                    Answer::Fail | Answer::FailEvery(_) => {
                        Err(OTelSdkError::InternalFailure("refused by the test".into()))
                    }
                    Answer::Never => std::future::pending().await,
                }
            })
        }

        fn shutdown(&mut self, _timeout: Duration) -> OTelSdkResult {
            self.shut_down.store(true, Ordering::Release);
            Ok(())
        }

        fn set_resource(&mut self, _resource: &Resource) {}

        fn describe(&self) -> String {
            "Recorder".into()
        }
    }
}
