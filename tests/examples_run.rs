//! Every example runs to completion on a machine with no collector and no
//! network, as its opening block says: each is built (once, by cargo, with
//! the features they need) and run, and must exit 0 within a minute.
//! `reqwest_client`, `metrics_exemplars` and `local_store` also check the
//! link they show and exit 1 if it is broken.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const EXAMPLES: &[&str] = &[
    "quickstart",
    "axum_server",
    "reqwest_client",
    "queue",
    "own_layer",
    "metrics_exemplars",
    "local_store",
];

/// Builds the examples, as a user's `cargo run --example` would. The flags
/// are the suite's own (`scripts/test.sh` builds `--workspace --all-targets`
/// with these features), so after it this is a no-op, not a second build.
fn build() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--locked",
            "--workspace",
            "--examples",
            "--features",
            "tower,reqwest",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the examples build");
    // target/debug/deps/examples_run-… → target/debug/examples/
    let exe = std::env::current_exe().expect("test binary");
    exe.parent()
        .and_then(|deps| deps.parent())
        .map(|debug| debug.join("examples"))
        .expect("the target directory")
}

#[test]
fn every_example_runs_to_completion() {
    let dir = build();
    for name in EXAMPLES {
        let path = dir.join(name);
        assert!(path.is_file(), "{} is not built", path.display());
        let child = Command::new(&path)
            // Free ports only, and no proxy between an example and itself.
            .env("OTEL_EXPORTER_PROMETHEUS_PORT", "0")
            .env_remove("RUST_LOG")
            .env_remove("OTEL_TRACES_EXPORTER")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .env_remove("HTTP_PROXY")
            .env_remove("http_proxy")
            .env_remove("ALL_PROXY")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let started = Instant::now();
        let pid = child.id();
        // Read both pipes to the end on a thread of their own, so a chatty
        // example never blocks on a full pipe; stop it by its pid if late.
        let (done, output) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = done.send(child.wait_with_output());
        });
        let Ok(output) = output.recv_timeout(Duration::from_secs(60)) else {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("{name} still runs after 60 s");
        };
        let output = output.expect("output");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "{name} exited with {}:\n{stderr}",
            output.status
        );
        println!("{name}: ok in {:?}", started.elapsed());
    }
}
