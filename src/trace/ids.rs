//! Random trace and span ids from a per-thread generator.

use std::cell::RefCell;

use opentelemetry::trace::{SpanId, TraceId};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

thread_local! {
    // Seeded once per thread from the OS-seeded thread RNG; Xoshiro256++ after that.
    static RNG: RefCell<SmallRng> = RefCell::new(SmallRng::from_rng(&mut rand::rng()));
}

pub(crate) fn trace_id() -> TraceId {
    RNG.with(|rng| {
        let mut rng = rng.borrow_mut();
        loop {
            let id: u128 = rng.random();
            if id != 0 {
                return TraceId::from(id);
            }
        }
    })
}

pub(crate) fn span_id() -> SpanId {
    RNG.with(|rng| {
        let mut rng = rng.borrow_mut();
        loop {
            let id: u64 = rng.random();
            if id != 0 {
                return SpanId::from(id);
            }
        }
    })
}
