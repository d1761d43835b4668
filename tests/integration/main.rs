//! The integration tests, one module a file, built as one test binary:
//! one compile of `common` and one link instead of one of each a file,
//! and all the tests share the cores instead of running file after file.
//! Run one file's tests with its module path, e.g.
//! `cargo test --release --test integration cli::`.
//!
//! The fuzz tests (`tests/fuzz.rs`) stay a binary of their own: they make
//! a scratch directory the process's working directory, which the
//! relative paths of the tests here would follow.

#[path = "../common/mod.rs"]
mod common;

mod adr;
mod browser;
mod busy_threshold;
mod catalog_scan_cost;
mod cli;
mod cloud_gateway;
mod co_management;
mod content_location;
mod content_sources;
mod determinism;
mod early_installs;
mod enforcement;
mod errors;
mod fast_path;
mod feature_updates;
mod golden;
mod hierarchy;
mod laws;
mod lifecycle;
mod long_tail;
mod output_dir;
mod phased_deployments;
mod power;
mod properties;
mod readme;
mod report;
mod rule_estates;
mod scale;
mod scans;
mod servers;
mod state_message_loss;
mod study;
mod study_locations;
mod supersedence;
mod sync_failure;
mod wan_links;
mod wsus_pool;
