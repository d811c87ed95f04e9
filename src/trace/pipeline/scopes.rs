//! Instrumentation scopes: the registry the tracers add to, and the export
//! thread's lookup of each span's scope.
//!
//! A span made through the OpenTelemetry API carries the index of its
//! tracer's scope in the [`ScopeRegistry`] (a `u32` in its record, not a
//! clone of the scope). A `tracing` span carries its callsite, and its scope
//! is its target (`my_crate::orders`), as OpenTelemetry's own `tracing` log
//! bridge maps it; [`Scopes`] builds that one once per callsite, keyed by
//! the callsite's address ([`AddressHasher`]).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Mutex, PoisonError};

use opentelemetry::InstrumentationScope;

/// Every instrumentation scope a tracer was made for, once each, in the
/// order they were first asked for. Locked when a tracer is made, and once
/// per batch by the export thread; never on a span's path.
#[derive(Debug, Default)]
pub(crate) struct ScopeRegistry(Mutex<Vec<InstrumentationScope>>);

impl ScopeRegistry {
    /// The index of `scope`, added if new.
    pub(crate) fn register(&self, scope: InstrumentationScope) -> u32 {
        let mut scopes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(index) = scopes.iter().position(|known| *known == scope) {
            index as u32
        } else {
            scopes.push(scope);
            (scopes.len() - 1) as u32
        }
    }
}

/// The export thread's view of each exported span's instrumentation scope:
/// for a `tracing` span its target, for a span made through the
/// OpenTelemetry API its tracer's.
#[derive(Debug, Default)]
pub(crate) struct Scopes {
    /// The registry's table of tracer scopes, as of the current batch.
    tracers: Vec<InstrumentationScope>,
    /// By callsite address: one hash of a pointer a span.
    targets: HashMap<usize, InstrumentationScope, BuildHasherDefault<AddressHasher>>,
}

impl Scopes {
    /// Catches up with the tracers made since the last batch.
    pub(crate) fn refresh(&mut self, registry: &ScopeRegistry) {
        self.tracers
            .clone_from(&registry.0.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// The scope of the tracer registered as `index`; the empty scope if
    /// there is none (a record can not carry an index the registry did not
    /// hand out, but the export thread does not panic on it).
    pub(crate) fn of_tracer(&self, index: u32) -> InstrumentationScope {
        self.tracers
            .get(index as usize)
            .cloned()
            .unwrap_or_default()
    }

    /// The scope named after the callsite's target, built on its first span.
    pub(crate) fn of_callsite(
        &mut self,
        callsite: &'static tracing_core::Metadata<'static>,
    ) -> InstrumentationScope {
        let address = std::ptr::from_ref::<tracing_core::Metadata<'static>>(callsite) as usize;
        self.targets
            .entry(address)
            .or_insert_with(|| InstrumentationScope::builder(callsite.target()).build())
            .clone()
    }
}

/// Hashes a callsite's address: static data, 8-byte aligned, unique.
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 << 8 | u64::from(byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_usize(&mut self, address: usize) {
        // Fibonacci hashing: the high bits, which `HashMap` uses, mix all
        // of the address.
        self.0 = (address as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

#[cfg(test)]
mod tests {
    use std::hash::Hash;

    use tracing_core::metadata::Kind;
    use tracing_core::{Level, Metadata};

    use super::*;

    /// Two callsites, in two targets.
    struct Cs;
    static CS: Cs = Cs;
    impl tracing_core::Callsite for Cs {
        fn set_interest(&self, _: tracing_core::Interest) {}
        fn metadata(&self) -> &Metadata<'_> {
            &ORDERS
        }
    }
    static ORDERS: Metadata<'static> = tracing_core::metadata! {
        name: "place_order",
        target: "shop::orders",
        level: Level::INFO,
        fields: &[],
        callsite: &CS,
        kind: Kind::SPAN,
    };
    static PAYMENTS: Metadata<'static> = tracing_core::metadata! {
        name: "charge",
        target: "shop::payments",
        level: Level::INFO,
        fields: &[],
        callsite: &CS,
        kind: Kind::SPAN,
    };

    #[test]
    fn each_scope_is_registered_once_and_keeps_its_index() {
        let registry = ScopeRegistry::default();
        let shop = InstrumentationScope::builder("shop").build();
        let db = InstrumentationScope::builder("db")
            .with_version("1.0")
            .build();
        assert_eq!(registry.register(shop.clone()), 0);
        assert_eq!(registry.register(db.clone()), 1);
        assert_eq!(registry.register(shop.clone()), 0);
        // Same name, another version: another scope.
        let db2 = InstrumentationScope::builder("db")
            .with_version("2.0")
            .build();
        assert_eq!(registry.register(db2), 2);

        let mut scopes = Scopes::default();
        assert_eq!(scopes.of_tracer(1), InstrumentationScope::default());
        scopes.refresh(&registry);
        assert_eq!(scopes.of_tracer(0), shop);
        assert_eq!(scopes.of_tracer(1), db);
        assert_eq!(scopes.of_tracer(7), InstrumentationScope::default());
    }

    #[test]
    fn a_callsite_scope_is_its_target_built_once() {
        let mut scopes = Scopes::default();
        let orders = scopes.of_callsite(&ORDERS);
        assert_eq!(orders.name(), "shop::orders");
        assert_eq!(scopes.of_callsite(&PAYMENTS).name(), "shop::payments");
        assert_eq!(scopes.of_callsite(&ORDERS), orders);
        assert_eq!(scopes.targets.len(), 2);
    }

    #[test]
    fn addresses_differ_in_the_high_bits() {
        fn hash(address: usize) -> u64 {
            let mut hasher = AddressHasher::default();
            address.hash(&mut hasher);
            hasher.finish()
        }
        // Neighbouring, 8-byte aligned addresses: `HashMap` picks buckets by
        // the top 7 bits and the low ones, so both must change.
        let (a, b) = (hash(0x5555_0000_1000), hash(0x5555_0000_1008));
        assert_ne!(a >> 57, b >> 57);
        assert_ne!(a & 0xff, b & 0xff);
        assert_eq!(hash(0x1000), hash(0x1000));
    }
}
