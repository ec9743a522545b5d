//! Configuration shared by every role: flags with `COGOV_*` environment
//! twins (clap), grouped so the `cogov` binary can flatten what each
//! command needs.

use std::net::SocketAddr;
use std::time::Duration;

use crate::auth::{Authenticator, Principal};
use crate::clock::Clock;
use crate::db::{DbConfig, SqliteSync};
use crate::paging::PageTokens;
use crate::server::ShutdownTimings;
use crate::telemetry::LogFormat;

/// Logging.
#[derive(Debug, Clone, clap::Args)]
pub struct LogArgs {
    /// Log format: `pretty` for people, `json` for collectors.
    #[arg(long, env = "COGOV_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    pub log_format: LogFormat,
    /// Log filter in tracing's EnvFilter syntax, e.g. `info,cogov_organizations=debug`.
    #[arg(long, env = "COGOV_LOG", default_value = "info", global = true)]
    pub log: String,
}

/// The database.
#[derive(Debug, Clone, clap::Args)]
pub struct DbArgs {
    /// `sqlite://data/organizations.db?mode=rwc` or `postgres://user@host/db`.
    #[arg(long, env = "COGOV_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Connections in the pool.
    #[arg(long, env = "COGOV_DB_MAX_CONNECTIONS", default_value_t = 8)]
    pub db_max_connections: u32,
    /// SQLite durability: `normal` survives a killed process, `full` a power cut.
    #[arg(long, env = "COGOV_SQLITE_SYNC", value_enum, default_value_t = SqliteSync::Normal)]
    pub sqlite_sync: SqliteSync,
    /// SQLite: concurrent writes share one commit (each in a savepoint of
    /// its own). `false` commits each write alone: slower, for comparison.
    #[arg(
        long,
        env = "COGOV_SQLITE_GROUP_COMMIT",
        default_value_t = true,
        action = clap::ArgAction::Set
    )]
    pub sqlite_group_commit: bool,
    /// Bring the schema up to date when the role starts. In Kubernetes a
    /// migration Job (`cogov migrate <role>`) does it once, so replicas
    /// never race: set `false` there.
    #[arg(
        long,
        env = "COGOV_MIGRATE_ON_START",
        default_value_t = true,
        action = clap::ArgAction::Set
    )]
    pub migrate_on_start: bool,
}

impl DbArgs {
    /// The connection settings, with `default_url` when none is configured.
    pub fn config(&self, default_url: &str) -> DbConfig {
        DbConfig {
            url: self
                .database_url
                .clone()
                .unwrap_or_else(|| default_url.to_owned()),
            max_connections: self.db_max_connections,
            sqlite_sync: self.sqlite_sync,
            group_commit: self.sqlite_group_commit,
        }
    }
}

/// Secrets and the development principal.
#[derive(Clone, clap::Args)]
pub struct SecurityArgs {
    /// Secret shared by the gateway and the services; signs principal
    /// assertions. Required unless `--dev-principal` is set.
    #[arg(long, env = "COGOV_INTERNAL_SECRET", hide_env_values = true)]
    pub internal_secret: Option<String>,
    /// Secret that signs page tokens; every replica of a role needs the same.
    /// Random per process when unset.
    #[arg(long, env = "COGOV_PAGE_TOKEN_SECRET", hide_env_values = true)]
    pub page_token_secret: Option<String>,
    /// INSECURE, for development only: calls that carry no principal run as
    /// this one (`street-admin`, `community-admin:communities/{id}`,
    /// `partner:organizations/{id}`, `resident:persons/{id}`).
    #[arg(long, env = "COGOV_DEV_PRINCIPAL")]
    pub dev_principal: Option<String>,
}

impl std::fmt::Debug for SecurityArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecurityArgs")
            .field("dev_principal", &self.dev_principal)
            .finish_non_exhaustive()
    }
}

/// 32 random bytes as hex, for secrets nobody configured.
pub fn random_secret() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

impl SecurityArgs {
    /// The authenticator and page-token signer these settings describe.
    pub fn build(&self, clock: &Clock) -> Result<(Authenticator, PageTokens), String> {
        let dev = self
            .dev_principal
            .as_deref()
            .map(Principal::parse_spec)
            .transpose()?;
        if dev.is_some() {
            tracing::warn!(
                "--dev-principal is set: calls without credentials are trusted (development only)"
            );
        }
        let internal = match (&self.internal_secret, &dev) {
            (Some(s), _) if s.len() >= 16 => s.clone(),
            (Some(_), _) => {
                return Err("COGOV_INTERNAL_SECRET must be at least 16 characters".into());
            }
            (None, Some(_)) => random_secret(),
            (None, None) => {
                return Err("set COGOV_INTERNAL_SECRET (shared with the gateway), or COGOV_DEV_PRINCIPAL for development".into());
            }
        };
        let tokens = self.page_token_secret.clone().unwrap_or_else(random_secret);
        Ok((
            Authenticator::new(internal.as_bytes(), dev, clock.clone()),
            PageTokens::new(tokens.as_bytes()),
        ))
    }
}

/// Where and how a role serves.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "COGOV_LISTEN", default_value = "0.0.0.0:50051")]
    pub listen: SocketAddr,
    /// Address of the Prometheus endpoint (`GET /metrics`).
    #[arg(long, env = "COGOV_METRICS_LISTEN", default_value = "0.0.0.0:9090")]
    pub metrics_listen: SocketAddr,
    /// Seconds to keep serving while reporting NOT_SERVING before draining
    /// (let Kubernetes withdraw the endpoint).
    #[arg(long, env = "COGOV_PRE_DRAIN_SECONDS", default_value_t = 0)]
    pub pre_drain_seconds: u64,
    /// Seconds in-flight calls get to finish on shutdown.
    #[arg(long, env = "COGOV_DRAIN_SECONDS", default_value_t = 10)]
    pub drain_seconds: u64,
}

impl ServeArgs {
    /// The shutdown timings.
    pub fn timings(&self) -> ShutdownTimings {
        ShutdownTimings {
            pre_drain: Duration::from_secs(self.pre_drain_seconds),
            drain: Duration::from_secs(self.drain_seconds),
        }
    }
}
