//! The gateway: the one entry where partner units and staff plug in. It
//! authenticates API keys and staff tokens, applies the method policy, rate
//! limits and deadlines, forwards each call to the service that owns it
//! with the principal signed for that service, and records every mutating
//! call. Its own API administers partners, keys, staff accounts and the
//! audit log.
//!
//! Modules: [`front`] (the per-call pipeline), [`policy`] (who may call
//! what), [`credentials`], [`keys`], [`staff_tokens`], [`limits`],
//! [`audit`]; the own API's [`partners`], [`staff_accounts`], [`service`];
//! [`residents`], residents' sign-in by phone and their sessions;
//! [`open311`], GeoReport v2 over HTTP; [`console`], the staff's web pages;
//! [`app`], the residents' web pages; [`calls`], how both call the services;
//! [`webhooks`], events posted to partners' endpoints.

pub mod app;
pub mod audit;
pub mod calls;
pub mod console;
pub mod credentials;
pub mod entity;
pub mod events;
pub mod front;
pub mod keys;
pub mod limits;
pub mod media;
pub mod migration;
pub mod open311;
pub mod paging;
pub mod partners;
pub mod policy;
pub mod proto_json;
pub mod residents;
pub mod service;
pub mod staff_accounts;
pub mod staff_tokens;
pub mod standard_webhooks;
pub mod webhooks;

use std::sync::Arc;

use axum::response::Redirect;
use axum::routing::get;
use cogov_kit::Context;
use cogov_kit::auth::Authenticator;
use cogov_kit::directory::Directory;
use cogov_kit::server::RoleServer;
use tonic::service::Routes;

pub use front::Backends;
pub use limits::Settings;
pub use migration::Migrator;
pub use staff_tokens::StaffTokens;

/// The role name, as in `cogov serve gateway`.
pub const ROLE: &str = "gateway";
/// The default embedded database.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/gateway.db?mode=rwc";
/// Every API served on the gateway's port (health and reflection list them).
pub const PUBLIC_SERVICES: [&str; 6] = [
    "cogov.gateway.v1.GatewayService",
    "cogov.gateway.v1.ResidentsService",
    "cogov.organizations.v1.OrganizationsService",
    "cogov.issues.v1.IssuesService",
    "cogov.volunteers.v1.VolunteersService",
    "cogov.deliberation.v1.DeliberationService",
];

/// Installs the ring crypto provider for outbound TLS (the code sender's
/// and the S3 store's reqwest clients, built without a provider of their
/// own): the one the rest of the tree uses. Installing it twice is
/// harmless.
pub fn outbound_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The gateway's state.
#[derive(Debug, Clone)]
pub struct Gateway {
    /// Its database (partners, keys, staff, audit), page tokens, clock.
    pub ctx: Context,
    /// The organizations service: organisations and partners' reach.
    pub directory: Directory,
    /// Signs the principal for the services.
    pub internal: Authenticator,
    /// Verifies staff tokens.
    pub staff_tokens: StaffTokens,
    /// Rate limits, in-flight bound, deadlines.
    pub limits: Arc<limits::Limits>,
    /// Wakes WatchEvents streams when the event log grows.
    pub feed: events::Feed,
    /// Residents' sign-in and sessions.
    pub residents: Arc<residents::Residents>,
    /// The services behind the gateway, once it serves (a resident's
    /// export reads from each).
    pub backends: Arc<std::sync::OnceLock<Backends>>,
    /// Where photos are kept; none, and uploads are refused.
    pub media: Option<media::Media>,
    /// How events reach partners' webhook endpoints.
    pub webhooks: webhooks::Webhooks,
}

impl Gateway {
    /// The gateway.
    pub fn new(
        ctx: Context,
        directory: Directory,
        internal: Authenticator,
        staff_tokens: StaffTokens,
        settings: Settings,
    ) -> Self {
        Self {
            ctx,
            directory,
            internal,
            staff_tokens,
            limits: Arc::new(limits::Limits::new(settings)),
            feed: events::Feed::default(),
            residents: Arc::new(residents::Residents::new(residents::Config::default())),
            backends: Arc::default(),
            media: None,
            webhooks: webhooks::Webhooks::default(),
        }
    }

    /// The gateway with residents signing in as `config` says (by default
    /// sign-in by phone is off).
    pub fn with_residents(mut self, config: residents::Config) -> Self {
        self.residents = Arc::new(residents::Residents::new(config));
        self
    }

    /// The gateway keeping photos in `media`.
    pub fn with_media(mut self, media: media::Media) -> Self {
        self.media = Some(media);
        self
    }

    /// The gateway delivering webhooks as `config` says.
    pub fn with_webhooks(mut self, config: webhooks::Config) -> Self {
        self.webhooks = webhooks::Webhooks::new(config);
        self
    }

    /// Starts the gateway's consumers of `bus`: the event log behind
    /// WatchEvents and the webhooks, and the residents' inboxes.
    pub async fn start_consumers(&self, bus: &cogov_kit::events::Bus) -> cogov_kit::Result<()> {
        events::start(self, bus).await?;
        webhooks::start(self);
        residents::inbox::start(self, bus).await
    }

    /// The gateway's server in front of `backends`.
    pub fn server(self, backends: Backends) -> RoleServer {
        let _ = self.backends.set(backends.clone());
        let sink = audit::Sink::start(self.ctx.db.clone());
        self.residents
            .spawn_background(self.ctx.db.clone(), self.ctx.clock.clone());
        let open311 = open311::router(self.clone(), backends.clone(), sink.clone());
        let front = Arc::new(front::Front::new(self.clone(), backends, sink.clone()));
        let app = app::router(self.clone(), front.clone());
        let photos = axum::Router::new()
            .route("/media", axum::routing::post(media::upload::upload))
            .layer(axum::extract::DefaultBodyLimit::max(
                media::received::DRAIN_LIMIT,
            ))
            .with_state(media::upload::Door {
                gw: self.clone(),
                front: front.clone(),
            })
            .route("/media/{file}", get(media::links::serve))
            .with_state(self.clone());
        let console = console::router(self, front.clone(), sink);
        let router = axum::Router::new()
            .nest("/open311/v2", open311)
            .nest("/console", console)
            .nest("/app", app)
            .merge(photos)
            // Nested routers answer `/app` and `/console`; the slash-ended
            // forms people type go to the same pages.
            .route("/app/", get(|| async { Redirect::to("/app/home") }))
            .route(
                "/console/",
                get(|| async { Redirect::to("/console/dashboard") }),
            )
            .fallback_service(front.service());
        RoleServer::new(ROLE, Routes::from(router), PUBLIC_SERVICES.to_vec())
    }
}
