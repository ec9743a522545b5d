//! The roles the binary can play, and how each is built from configuration.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use cogov_kit::Context;
use cogov_kit::auth::Authenticator;
use cogov_kit::clock::Clock;
use cogov_kit::config::{DbArgs, SecurityArgs, ServeArgs};
use cogov_kit::db::{self, Db, DbConfig};
use cogov_kit::directory::Directory;
use cogov_kit::events::jetstream::JetStreamBus;
use cogov_kit::events::memory::MemoryBus;
use cogov_kit::events::{self, Bus};
use cogov_kit::paging::PageTokens;
use cogov_kit::server::{RoleServer, shutdown_on_signals};
use tokio::net::TcpListener;
use tonic::transport::{Channel, Endpoint};

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
    /// The one entry for partners and staff, in front of the others.
    Gateway,
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
    /// The issues role, for the gateway.
    #[arg(
        long,
        env = "COGOV_ISSUES_ADDR",
        default_value = "http://127.0.0.1:50052"
    )]
    pub issues_addr: String,
    /// The volunteers role, for the gateway.
    #[arg(
        long,
        env = "COGOV_VOLUNTEERS_ADDR",
        default_value = "http://127.0.0.1:50053"
    )]
    pub volunteers_addr: String,
    /// The deliberation role, for the gateway.
    #[arg(
        long,
        env = "COGOV_DELIBERATION_ADDR",
        default_value = "http://127.0.0.1:50054"
    )]
    pub deliberation_addr: String,
    /// Seconds a partner's reach may be cached.
    #[arg(long, env = "COGOV_REACH_CACHE_SECONDS", default_value_t = 5)]
    pub reach_cache_seconds: u64,
    /// Seconds a verified person (a resident's home and role, for their
    /// scope, and where their notices go) may be cached; forgotten at once
    /// when their record changes.
    #[arg(long, env = "COGOV_PERSON_CACHE_SECONDS", default_value_t = 5)]
    pub person_cache_seconds: u64,
    /// Issues: a resolved issue nobody confirms closes after this many days.
    #[arg(long, env = "COGOV_AUTO_CLOSE_DAYS", default_value_t = 7)]
    pub auto_close_days: i64,
    /// Issues: this many reports of one sub-item in one courtyard within 30
    /// days make a recurring cluster.
    #[arg(long, env = "COGOV_CLUSTER_THRESHOLD", default_value_t = 3)]
    pub cluster_threshold: u64,
}

/// Where events travel between roles.
#[derive(Debug, Clone, clap::Args)]
pub struct EventArgs {
    /// NATS with JetStream, e.g. `nats://127.0.0.1:4222`: needed when roles
    /// run in separate processes. Without it events stay in this process.
    #[arg(long, env = "COGOV_NATS_URL")]
    pub nats_url: Option<String>,
    /// Prefix of the JetStream subjects and streams, so several systems can
    /// share one NATS.
    #[arg(long, env = "COGOV_NATS_NAMESPACE", default_value = "cogov")]
    pub nats_namespace: String,
}

impl EventArgs {
    /// The bus these settings describe.
    pub async fn bus(&self) -> Result<Bus, String> {
        match &self.nats_url {
            Some(url) => Ok(Arc::new(
                JetStreamBus::connect(url, &self.nats_namespace)
                    .await
                    .map_err(|e| e.to_string())?,
            )),
            None => Ok(Arc::new(MemoryBus::new())),
        }
    }
}

/// How the gateway checks staff tokens and what it limits.
#[derive(Debug, Clone, clap::Args)]
pub struct GatewayArgs {
    /// Staff tokens' issuer (`iss`).
    #[arg(long, env = "COGOV_JWT_ISSUER", default_value = "cogov")]
    pub jwt_issuer: String,
    /// Staff tokens' audience (`aud`).
    #[arg(long, env = "COGOV_JWT_AUDIENCE", default_value = "cogov-gateway")]
    pub jwt_audience: String,
    /// PEM public key that verifies staff tokens (production).
    #[arg(long, env = "COGOV_JWT_PUBLIC_KEY_FILE")]
    pub jwt_public_key_file: Option<PathBuf>,
    /// The staff tokens' algorithm with a public key: EdDSA, ES256 or RS256.
    #[arg(long, env = "COGOV_JWT_ALGORITHM", default_value = "EdDSA")]
    pub jwt_algorithm: String,
    /// Development only: an HS256 secret that signs and verifies staff
    /// tokens, instead of a public key.
    #[arg(long, env = "COGOV_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// A partner's sustained calls per second unless its record says.
    #[arg(long, env = "COGOV_PARTNER_RATE", default_value_t = 50)]
    pub partner_rate: u32,
    /// A partner's burst unless its record says.
    #[arg(long, env = "COGOV_PARTNER_BURST", default_value_t = 100)]
    pub partner_burst: u32,
    /// Calls in flight through the gateway at most; more are shed.
    #[arg(long, env = "COGOV_MAX_IN_FLIGHT", default_value_t = 1024)]
    pub max_in_flight: usize,
    /// Seconds a call may take when the caller sets no deadline.
    #[arg(long, env = "COGOV_DEFAULT_DEADLINE_SECONDS", default_value_t = 30)]
    pub default_deadline_seconds: u64,
    /// The longest deadline a caller may ask for, in seconds.
    #[arg(long, env = "COGOV_MAX_DEADLINE_SECONDS", default_value_t = 120)]
    pub max_deadline_seconds: u64,
    /// Whether Open311's GET endpoints answer without an API key, with the
    /// public view.
    #[arg(long, env = "COGOV_OPEN311_PUBLIC", default_value_t = true, action = clap::ArgAction::Set)]
    pub open311_public: bool,
    /// How residents' sign-in codes are delivered: `none` (sign-in by
    /// phone is off), `log` (development: into the log) or `http` (a signed
    /// JSON POST to COGOV_SIGN_IN_HTTP_URL).
    #[arg(long, env = "COGOV_SIGN_IN_SENDER", default_value = "none")]
    pub sign_in_sender: String,
    /// Where the `http` sender posts: the street's SMS gateway or
    /// messaging system.
    #[arg(long, env = "COGOV_SIGN_IN_HTTP_URL")]
    pub sign_in_http_url: Option<String>,
    /// The `http` sender's signing secret (Standard Webhooks: `whsec_…`).
    #[arg(long, env = "COGOV_SIGN_IN_HTTP_SECRET", hide_env_values = true)]
    pub sign_in_http_secret: Option<String>,
    /// The key of residents' tokens; by default one made on first start
    /// and kept in the gateway's database, shared by its replicas.
    #[arg(long, env = "COGOV_RESIDENT_TOKEN_SECRET", hide_env_values = true)]
    pub resident_token_secret: Option<String>,
    /// Where photos of issues are kept: `s3://bucket` (an S3-compatible
    /// store: MinIO, Aliyun OSS, Tencent COS; endpoint and credentials
    /// from AWS_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
    /// AWS_REGION, AWS_ALLOW_HTTP) or a folder. Unset: uploads are refused.
    #[arg(long, env = "COGOV_MEDIA_STORE")]
    pub media_store: Option<String>,
    /// Networks webhook deliveries may reach although they are private or
    /// loopback, comma-separated (development only, such as
    /// `127.0.0.1/32`); with any set, `http://` endpoints are accepted.
    #[arg(long, env = "COGOV_WEBHOOK_ALLOW_NETWORKS", default_value = "")]
    pub webhook_allow_networks: String,
}

impl GatewayArgs {
    /// Development settings around an HS256 `jwt_secret`.
    pub fn development(jwt_secret: String) -> Self {
        Self {
            jwt_issuer: "cogov".into(),
            jwt_audience: "cogov-gateway".into(),
            jwt_public_key_file: None,
            jwt_algorithm: "EdDSA".into(),
            jwt_secret: Some(jwt_secret),
            partner_rate: 50,
            partner_burst: 100,
            max_in_flight: 1024,
            default_deadline_seconds: 30,
            max_deadline_seconds: 120,
            open311_public: true,
            sign_in_sender: "log".into(),
            sign_in_http_url: None,
            sign_in_http_secret: None,
            resident_token_secret: None,
            media_store: None,
            webhook_allow_networks: String::new(),
        }
    }

    /// How webhooks are delivered, as these settings say, reporting into
    /// `meter`.
    pub fn webhooks(
        &self,
        meter: cogov_kit::metrics::WebhookMeter,
    ) -> Result<cogov_gateway::webhooks::Config, String> {
        let allow_networks =
            cogov_gateway::webhooks::ssrf::Guard::parse_allow(&self.webhook_allow_networks)
                .map_err(|e| format!("COGOV_WEBHOOK_ALLOW_NETWORKS: {e}"))?;
        Ok(cogov_gateway::webhooks::Config {
            allow_networks,
            meter,
            ..Default::default()
        })
    }

    /// Where photos are kept, as these settings say.
    pub fn media(&self) -> Result<Option<cogov_gateway::media::Media>, String> {
        self.media_store
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| cogov_gateway::media::Media::from_setting(s).map_err(|e| e.to_string()))
            .transpose()
    }

    /// How residents sign in, as these settings say.
    pub fn residents(&self) -> Result<cogov_gateway::residents::Config, String> {
        use cogov_gateway::residents::sender::{CodeSender, HttpSender};
        let sender = match self.sign_in_sender.as_str() {
            "none" => CodeSender::Disabled,
            "log" => CodeSender::Log,
            "http" => {
                let (Some(url), Some(secret)) = (&self.sign_in_http_url, &self.sign_in_http_secret)
                else {
                    return Err(
                        "COGOV_SIGN_IN_SENDER=http needs COGOV_SIGN_IN_HTTP_URL and COGOV_SIGN_IN_HTTP_SECRET"
                            .into(),
                    );
                };
                CodeSender::Http(HttpSender::new(url, secret)?)
            }
            other => {
                return Err(format!(
                    "COGOV_SIGN_IN_SENDER is `{other}`: use none, log or http"
                ));
            }
        };
        Ok(cogov_gateway::residents::Config {
            sender,
            token_secret: self.resident_token_secret.clone(),
        })
    }

    /// The staff token verifier these settings describe.
    pub fn staff_tokens(&self, clock: &Clock) -> Result<cogov_gateway::StaffTokens, String> {
        match (&self.jwt_public_key_file, &self.jwt_secret) {
            (Some(path), _) => {
                let pem = std::fs::read(path)
                    .map_err(|e| format!("reading {}: {e}", path.display()))?;
                let algorithm = self
                    .jwt_algorithm
                    .parse()
                    .map_err(|_| format!("unknown algorithm {}", self.jwt_algorithm))?;
                cogov_gateway::StaffTokens::public_key(
                    &pem,
                    algorithm,
                    &self.jwt_issuer,
                    &self.jwt_audience,
                    clock.clone(),
                )
            }
            (None, Some(secret)) => Ok(cogov_gateway::StaffTokens::shared_secret(
                secret.as_bytes(),
                &self.jwt_issuer,
                &self.jwt_audience,
                clock.clone(),
            )),
            (None, None) => Err(
                "the gateway needs COGOV_JWT_PUBLIC_KEY_FILE (or, in development, COGOV_JWT_SECRET)"
                    .into(),
            ),
        }
    }

    fn settings(&self) -> cogov_gateway::Settings {
        cogov_gateway::Settings {
            partner_rate: self.partner_rate.max(1),
            partner_burst: self.partner_burst.max(1),
            max_in_flight: self.max_in_flight.max(1),
            default_deadline: Duration::from_secs(self.default_deadline_seconds.max(1)),
            max_deadline: Duration::from_secs(self.max_deadline_seconds.max(1)),
            open311_public: self.open311_public,
            ..cogov_gateway::Settings::default()
        }
    }
}

fn lazy_channel(address: &str) -> Result<Channel, String> {
    Ok(Endpoint::from_shared(address.to_owned())
        .map_err(|e| format!("address {address}: {e}"))?
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true)
        .connect_lazy())
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
    /// The services behind the gateway, in start order.
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
            Role::Gateway => cogov_gateway::ROLE,
        }
    }

    /// The embedded database it uses when none is configured.
    pub fn default_database_url(self) -> &'static str {
        match self {
            Role::Organizations => cogov_organizations::DEFAULT_DATABASE_URL,
            Role::Issues => cogov_issues::DEFAULT_DATABASE_URL,
            Role::Volunteers => cogov_volunteers::DEFAULT_DATABASE_URL,
            Role::Deliberation => cogov_deliberation::DEFAULT_DATABASE_URL,
            Role::Gateway => cogov_gateway::DEFAULT_DATABASE_URL,
        }
    }

    /// Connects to its database and runs its migrations.
    pub async fn connect(self, config: &DbConfig) -> Result<Db, String> {
        let db = match self {
            Role::Organizations => db::connect::<cogov_organizations::Migrator>(config).await,
            Role::Issues => db::connect::<cogov_issues::Migrator>(config).await,
            Role::Volunteers => db::connect::<cogov_volunteers::Migrator>(config).await,
            Role::Deliberation => db::connect::<cogov_deliberation::Migrator>(config).await,
            Role::Gateway => db::connect::<cogov_gateway::Migrator>(config).await,
        };
        db.map_err(|e| format!("{}: database {}: {e}", self.name(), redact(&config.url)))
    }

    /// Its gRPC server; starts its background work and its event
    /// consumers on `bus` (its outbox relay is [`Role::relay`]'s, started
    /// once every consumer of the process is listening).
    pub async fn server(
        self,
        ctx: Context,
        auth: Authenticator,
        links: &Links,
        gateway: &GatewayArgs,
        bus: &Bus,
        metrics: &cogov_kit::metrics::Metrics,
    ) -> Result<RoleServer, String> {
        cogov_kit::idempotency::spawn_pruner(ctx.db.clone(), ctx.clock.clone());
        // Every directory forgets cached reach when an agreement changes,
        // and a cached person when their record does.
        let directory = || {
            let directory = Directory::new(
                &links.organizations_addr,
                auth.clone(),
                self.name(),
                ctx.clock.clone(),
                Duration::from_secs(links.reach_cache_seconds),
            )
            .map_err(|e| e.to_string())?
            .caching_persons_for(Duration::from_secs(links.person_cache_seconds));
            events::forget_on_changes(bus, directory.clone());
            Ok::<_, String>(directory)
        };
        let consumer = |e: cogov_kit::Error| format!("{}: event consumer: {e}", self.name());
        Ok(match self {
            Role::Organizations => {
                let svc = cogov_organizations::Organizations::new(ctx);
                cogov_organizations::consumers::start(&svc, bus)
                    .await
                    .map_err(consumer)?;
                svc.server(auth)
            }
            Role::Volunteers => {
                let directory = directory()?;
                let svc = cogov_volunteers::Volunteers::new(ctx, directory);
                cogov_volunteers::consumers::start(&svc, bus)
                    .await
                    .map_err(consumer)?;
                cogov_volunteers::reminders::spawn(svc.clone());
                svc.server(auth)
            }
            Role::Deliberation => {
                let directory = directory()?;
                let svc = cogov_deliberation::Deliberation::new(ctx, directory);
                cogov_deliberation::consumers::start(&svc, bus)
                    .await
                    .map_err(consumer)?;
                svc.server(auth)
            }
            Role::Issues => {
                let directory = directory()?;
                let issues = cogov_issues::Issues::new(ctx, directory, links.issues_settings());
                cogov_issues::consumers::start(&issues, bus)
                    .await
                    .map_err(consumer)?;
                cogov_issues::transitions::spawn_auto_close(issues.clone());
                issues.server(auth)
            }
            Role::Gateway => {
                let directory = directory()?;
                let tokens = gateway.staff_tokens(&ctx.clock)?;
                let backends = cogov_gateway::Backends {
                    organizations: lazy_channel(&links.organizations_addr)?,
                    issues: lazy_channel(&links.issues_addr)?,
                    volunteers: lazy_channel(&links.volunteers_addr)?,
                    deliberation: lazy_channel(&links.deliberation_addr)?,
                };
                let mut gw =
                    cogov_gateway::Gateway::new(ctx, directory, auth, tokens, gateway.settings())
                        .with_residents(gateway.residents()?)
                        .with_webhooks(gateway.webhooks(metrics.webhooks(cogov_gateway::ROLE))?);
                if let Some(media) = gateway.media()? {
                    gw = gw.with_media(media);
                }
                gw.start_consumers(bus).await.map_err(consumer)?;
                gw.server(backends)
            }
        })
    }
}

/// Starts the relay that publishes `db`'s outbox to `bus`.
pub fn relay(db: &Db, bus: &Bus, clock: &Clock) {
    events::relay::spawn(db.clone(), bus.clone(), clock.clone());
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
    gateway: GatewayArgs,
    events: EventArgs,
) -> Result<(), String> {
    let clock = Clock::system();
    let bus = events.bus().await?;
    let (auth, tokens): (Authenticator, PageTokens) = security.build(&clock)?;
    let config = db.config(role.default_database_url());
    let db = if db.migrate_on_start {
        role.connect(&config).await?
    } else {
        db::open(&config)
            .await
            .map_err(|e| format!("{}: database {}: {e}", role.name(), redact(&config.url)))?
    };
    let listener = TcpListener::bind(serve.listen)
        .await
        .map_err(|e| format!("listening on {}: {e}", serve.listen))?;
    let ctx = Context {
        db: db.clone(),
        tokens,
        clock: clock.clone(),
    };
    let shutdown = shutdown_on_signals();
    let metrics = cogov_kit::metrics::Metrics::new();
    metrics.watch_database(role.name(), db.clone());
    let metrics_listener = TcpListener::bind(serve.metrics_listen)
        .await
        .map_err(|e| format!("metrics: listening on {}: {e}", serve.metrics_listen))?;
    tokio::spawn(cogov_kit::metrics::serve(
        metrics_listener,
        metrics.clone(),
        shutdown.clone(),
    ));
    let server = role
        .server(ctx, auth, &links, &gateway, &bus, &metrics)
        .await?
        .ready_when(db.clone())
        .ready_with_bus(bus.clone())
        .with_metrics(metrics);
    relay(&db, &bus, &clock);
    server
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
