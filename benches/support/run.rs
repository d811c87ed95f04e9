//! The `main` every bench shares.

use criterion::Criterion;

/// Counts (`count_mode`, for callgrind) or benches: criterion's groups, then,
/// under `cargo bench`, the summary. `cargo test --benches` runs each group
/// once and skips the summary.
pub(crate) fn main(count_mode: fn() -> bool, benches: fn(), summary: fn()) {
    if count_mode() {
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
    if std::env::args().any(|arg| arg == "--bench") {
        summary();
    }
}
