//! The roles the binary can play, and how each is built from configuration.

use cogov_kit::Context;
use cogov_kit::auth::Authenticator;
use cogov_kit::clock::Clock;
use cogov_kit::config::{DbArgs, SecurityArgs, ServeArgs};
use cogov_kit::db::{self, Db, DbConfig};
use cogov_kit::paging::PageTokens;
use cogov_kit::server::{RoleServer, shutdown_on_signals};
use std::time::Duration;

use cogov_kit::directory::Directory;
use tokio::net::TcpListener;

/// A role: one service of the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    /// Places, organisations, persons, agreements and reach.
    Organizations,
    /// Reported problems, their lifecycle, inspections and statistics.
    Issues,
    /// Volunteers, teams, training, activities, hours and the time bank.
    Volunteers,
    /// Councils, topics, meetings, polls and resolutions.
    Deliberation,
}

/// Where a role finds the roles it calls.
#[derive(Debug, Clone, clap::Args)]
pub struct Links {
    /// The organizations role, for places, persons and partners' reach.
    #[arg(
        long,
        env = "COGOV_ORGANIZATIONS_ADDR",
        default_value = "http://127.0.0.1:50051"
    )]
    pub organizations_addr: String,
    /// Seconds a partner's reach may be cached.
    #[arg(long, env = "COGOV_REACH_CACHE_SECONDS", default_value_t = 5)]
    pub reach_cache_seconds: u64,
    /// Issues: a resolved issue nobody confirms closes after this many days.
    #[arg(long, env = "COGOV_AUTO_CLOSE_DAYS", default_value_t = 7)]
    pub auto_close_days: i64,
    /// Issues: this many reports of one sub-item in one courtyard within 30
    /// days make a recurring cluster.
    #[arg(long, env = "COGOV_CLUSTER_THRESHOLD", default_value_t = 3)]
    pub cluster_threshold: u64,
}

impl Links {
    /// The issues service's settings.
    pub fn issues_settings(&self) -> cogov_issues::Settings {
        cogov_issues::Settings {
            auto_close_days: self.auto_close_days.max(1),
            cluster_threshold: self.cluster_threshold.max(2),
            ..cogov_issues::Settings::default()
        }
    }
}

impl Role {
    /// Every role, in start order.
    pub const ALL: &'static [Role] = &[
        Role::Organizations,
        Role::Issues,
        Role::Volunteers,
        Role::Deliberation,
    ];

    /// Its name, as on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Role::Organizations => cogov_organizations::ROLE,
            Role::Issues => cogov_issues::ROLE,
            Role::Volunteers => cogov_volunteers::ROLE,
            Role::Deliberation => cogov_deliberation::ROLE,
        }
    }

    /// The embedded database it uses when none is configured.
    pub fn default_database_url(self) -> &'static str {
        match self {
            Role::Organizations => cogov_organizations::DEFAULT_DATABASE_URL,
            Role::Issues => cogov_issues::DEFAULT_DATABASE_URL,
            Role::Volunteers => cogov_volunteers::DEFAULT_DATABASE_URL,
            Role::Deliberation => cogov_deliberation::DEFAULT_DATABASE_URL,
        }
    }

    /// Connects to its database and runs its migrations.
    pub async fn connect(self, config: &DbConfig) -> Result<Db, String> {
        let db = match self {
            Role::Organizations => db::connect::<cogov_organizations::Migrator>(config).await,
            Role::Issues => db::connect::<cogov_issues::Migrator>(config).await,
            Role::Volunteers => db::connect::<cogov_volunteers::Migrator>(config).await,
            Role::Deliberation => db::connect::<cogov_deliberation::Migrator>(config).await,
        };
        db.map_err(|e| format!("{}: database {}: {e}", self.name(), redact(&config.url)))
    }

    /// Its gRPC server, and starts its background work.
    pub fn server(
        self,
        ctx: Context,
        auth: Authenticator,
        links: &Links,
    ) -> Result<RoleServer, String> {
        cogov_kit::idempotency::spawn_pruner(ctx.db.clone(), ctx.clock.clone());
        let directory = || {
            Directory::new(
                &links.organizations_addr,
                auth.clone(),
                self.name(),
                ctx.clock.clone(),
                Duration::from_secs(links.reach_cache_seconds),
            )
            .map_err(|e| e.to_string())
        };
        Ok(match self {
            Role::Organizations => cogov_organizations::Organizations::new(ctx).server(auth),
            Role::Volunteers => {
                let directory = directory()?;
                cogov_volunteers::Volunteers::new(ctx, directory).server(auth)
            }
            Role::Deliberation => {
                let directory = directory()?;
                cogov_deliberation::Deliberation::new(ctx, directory).server(auth)
            }
            Role::Issues => {
                let directory = directory()?;
                let issues = cogov_issues::Issues::new(ctx, directory, links.issues_settings());
                cogov_issues::transitions::spawn_auto_close(issues.clone());
                issues.server(auth)
            }
        })
    }
}

/// A URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// `cogov serve <role>`.
pub async fn serve(
    role: Role,
    serve: ServeArgs,
    db: DbArgs,
    security: SecurityArgs,
    links: Links,
) -> Result<(), String> {
    let clock = Clock::system();
    let (auth, tokens): (Authenticator, PageTokens) = security.build(&clock)?;
    let db = role
        .connect(&db.config(role.default_database_url()))
        .await?;
    let listener = TcpListener::bind(serve.listen)
        .await
        .map_err(|e| format!("listening on {}: {e}", serve.listen))?;
    let ctx = Context {
        db: db.clone(),
        tokens,
        clock,
    };
    let shutdown = shutdown_on_signals();
    role.server(ctx, auth, &links)?
        .run(listener, shutdown, serve.timings())
        .await
        .map_err(|e| format!("{}: {e}", role.name()))?;
    db.close().await.ok();
    Ok(())
}

/// `cogov migrate <role>`.
pub async fn migrate(role: Role, db: &DbArgs) -> Result<(), String> {
    let config = db.config(role.default_database_url());
    let db = role.connect(&config).await?;
    tracing::info!(role = role.name(), "migrations applied");
    db.close().await.ok();
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("sqlite://data/x.db"), "sqlite://data/x.db");
    }
}
