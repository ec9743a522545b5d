//! `cogov`: one binary for every role of the system.
//!
//! - `cogov up` runs every role in one process with embedded storage and
//!   the Niujie demo data;
//! - `cogov serve <role>` runs one role, as in Kubernetes;
//! - `cogov migrate <role>` brings a role's database schema up to date;
//! - `cogov issues|activities|topics|keys|webhooks …` does daily work
//!   through the gateway; `cogov import|export …` moves spreadsheets in
//!   and out.

mod cli;
mod demo;
mod roles;
mod up;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use cogov_kit::config::{DbArgs, LogArgs, SecurityArgs, ServeArgs};
use cogov_kit::telemetry;

use crate::roles::Role;

/// mimalloc rather than the C library's allocator, for Rust's allocations
/// and (its `override` feature) SQLite's: a request's buffers are made on
/// one thread and dropped on another (tokio's workers, each database
/// connection's thread), which glibc's arenas serve with locks and periodic
/// consolidation. Built without transparent huge pages (the workspace's
/// `no_thp`), which would cost resident memory. BENCHMARKS.md has the
/// figures.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "cogov",
    version,
    about = "Neighbourhood co-governance: organizations, issues, volunteers and deliberation behind one gateway"
)]
struct Cli {
    #[command(flatten)]
    log: LogArgs,
    #[command(flatten)]
    connection: cli::Connection,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every role in one process, with SQLite under the data directory
    /// and the Niujie demo data loaded on first start.
    Up(up::UpArgs),
    /// Run one role (as a Kubernetes Deployment does).
    Serve(Box<ServeCommand>),
    /// Bring a role's database schema up to date, then exit.
    Migrate {
        /// The role whose database to migrate.
        role: Role,
        #[command(flatten)]
        db: DbArgs,
    },
    #[command(flatten)]
    Work(cli::Work),
}

/// `cogov serve`'s arguments.
#[derive(Debug, clap::Args)]
struct ServeCommand {
    /// The role to run.
    role: Role,
    #[command(flatten)]
    serve: ServeArgs,
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    security: SecurityArgs,
    #[command(flatten)]
    links: roles::Links,
    #[command(flatten)]
    gateway: roles::GatewayArgs,
    #[command(flatten)]
    events: roles::EventArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = cogov_kit::runtime::multi_thread().expect("starting the tokio runtime");
    let service = match &cli.command {
        Command::Serve(c) => format!("cogov-{}", c.role.name()),
        _ => "cogov".to_owned(),
    };
    // The trace exporter's channel lives in the runtime.
    let telemetry = {
        let _runtime = runtime.enter();
        telemetry::init(cli.log.log_format, &cli.log.log, &service)
    };
    let serving = !matches!(cli.command, Command::Work(_));
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Up(args) => up::run(args).await,
            Command::Serve(c) => {
                let ServeCommand {
                    role,
                    serve,
                    db,
                    security,
                    links,
                    gateway,
                    events,
                } = *c;
                roles::serve(role, serve, db, security, links, gateway, events).await
            }
            Command::Migrate { role, db } => roles::migrate(role, &db).await,
            Command::Work(work) => cli::run(cli.connection, work).await,
        }
    });
    // Flushes the last spans while the runtime still runs.
    drop(telemetry);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if serving {
                tracing::error!("{e}");
            }
            eprintln!("cogov: {e}");
            ExitCode::FAILURE
        }
    }
}
