//! Logging and tracing setup, in one place.
//!
//! `tracing` with an `EnvFilter` in front of every layer; pretty output for
//! people, JSON lines for collectors. The OpenTelemetry export layer joins
//! the registry here (after the filter, so h2/hyper internals never reach
//! the exporter).

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum LogFormat {
    /// Human-readable, coloured when on a terminal (development).
    #[default]
    Pretty,
    /// One JSON object per line (production).
    Json,
}

/// Installs the global subscriber. `filter` uses `EnvFilter` syntax
/// (`info,cogov_organizations=debug`). Calling it twice is harmless.
pub fn init(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|e| {
        eprintln!("invalid log filter {filter:?} ({e}); using `info`");
        EnvFilter::new("info")
    });
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Pretty => registry
            .with(tracing_subscriber::fmt::layer().with_target(false))
            .try_init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true),
            )
            .try_init(),
    };
    // Already installed (tests, or `cogov up` after a subcommand): keep it.
    let _ = result;
}
