//! The roles the binary can play, and how each is built from configuration.

use cogov_kit::Context;
use cogov_kit::auth::Authenticator;
use cogov_kit::clock::Clock;
use cogov_kit::config::{DbArgs, SecurityArgs, ServeArgs};
use cogov_kit::db::{self, Db, DbConfig};
use cogov_kit::paging::PageTokens;
use cogov_kit::server::{RoleServer, shutdown_on_signals};
use tokio::net::TcpListener;

/// A role: one service of the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    /// Places, organisations, persons, agreements and reach.
    Organizations,
}

impl Role {
    /// Every role, in start order.
    pub const ALL: &'static [Role] = &[Role::Organizations];

    /// Its name, as on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Role::Organizations => cogov_organizations::ROLE,
        }
    }

    /// The embedded database it uses when none is configured.
    pub fn default_database_url(self) -> &'static str {
        match self {
            Role::Organizations => cogov_organizations::DEFAULT_DATABASE_URL,
        }
    }

    /// Connects to its database and runs its migrations.
    pub async fn connect(self, config: &DbConfig) -> Result<Db, String> {
        let db = match self {
            Role::Organizations => db::connect::<cogov_organizations::Migrator>(config).await,
        };
        db.map_err(|e| format!("{}: database {}: {e}", self.name(), redact(&config.url)))
    }

    /// Its gRPC server.
    pub fn server(self, ctx: Context, auth: Authenticator) -> RoleServer {
        match self {
            Role::Organizations => cogov_organizations::Organizations::new(ctx).server(auth),
        }
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
    role.server(ctx, auth)
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
