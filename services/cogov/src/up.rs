//! `cogov up`: every role in one process, each on its own port, with SQLite
//! under the data directory and the Niujie demo data on first start. The
//! gateway listens on the base port; it prints an admin token and demo
//! keys for a property firm and an area unit, so a newcomer can call at
//! once.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cogov_kit::Context;
use cogov_kit::auth::Authenticator;
use cogov_kit::clock::Clock;
use cogov_kit::config::random_secret;
use cogov_kit::db::{DbConfig, SqliteSync};
use cogov_kit::events::Bus;
use cogov_kit::events::memory::MemoryBus;
use cogov_kit::paging::PageTokens;
use cogov_kit::server::{ShutdownTimings, shutdown_on_signals};
use tokio::net::TcpListener;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::demo;
use crate::roles::{GatewayArgs, Role};

/// Options of `cogov up`.
#[derive(Debug, clap::Args)]
pub struct UpArgs {
    /// Directory of the embedded databases.
    #[arg(long, env = "COGOV_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    /// Address to listen on.
    #[arg(long, env = "COGOV_HOST", default_value = "127.0.0.1")]
    host: IpAddr,
    /// The gateway's port; the roles listen on the ports after it
    /// (organizations on base + 1).
    #[arg(long, env = "COGOV_BASE_PORT", default_value_t = 50050)]
    base_port: u16,
    /// Start without loading the demo data.
    #[arg(long)]
    no_demo: bool,
    /// SQLite durability.
    #[arg(long, env = "COGOV_SQLITE_SYNC", value_enum, default_value_t = SqliteSync::Normal)]
    sqlite_sync: SqliteSync,
    /// Seconds in-flight calls get to finish on shutdown.
    #[arg(long, env = "COGOV_DRAIN_SECONDS", default_value_t = 5)]
    drain_seconds: u64,
}

fn port(base: u16, role: Role) -> u16 {
    match Role::ALL.iter().position(|r| *r == role) {
        Some(i) => base + i as u16 + 1,
        None => base,
    }
}

/// Runs until SIGINT or SIGTERM.
pub async fn run(args: UpArgs) -> Result<(), String> {
    let started = Instant::now();
    let clock = Clock::system();
    let internal_secret = random_secret();
    // The services accept only principals the gateway (or the demo loader)
    // signed with this per-process secret.
    let auth = Authenticator::new(internal_secret.as_bytes(), None, clock.clone());
    let gateway = GatewayArgs {
        media_store: Some(args.data_dir.join("media").display().to_string()),
        // A partner's receiver under development runs on this machine.
        webhook_allow_networks: "127.0.0.0/8,::1/128".into(),
        ..GatewayArgs::development(random_secret())
    };
    let tokens = PageTokens::new(random_secret().as_bytes());
    let shutdown = shutdown_on_signals();
    let timings = ShutdownTimings {
        pre_drain: Duration::ZERO,
        drain: Duration::from_secs(args.drain_seconds),
    };

    let address = |role| {
        format!(
            "http://{}",
            SocketAddr::new(args.host, port(args.base_port, role))
        )
    };
    let links = crate::roles::Links {
        organizations_addr: address(Role::Organizations),
        issues_addr: address(Role::Issues),
        volunteers_addr: address(Role::Volunteers),
        deliberation_addr: address(Role::Deliberation),
        reach_cache_seconds: 5,
        person_cache_seconds: 5,
        auto_close_days: 7,
        cluster_threshold: 3,
    };
    // One process: events travel in memory. Every consumer registers
    // before any relay publishes, so none misses an event left pending by
    // a previous run.
    let bus: Bus = Arc::new(MemoryBus::new());
    // One registry for the process; every role's port serves it at /metrics.
    let metrics = cogov_kit::metrics::Metrics::new();
    let mut dbs = Vec::new();
    let mut tasks = Vec::new();
    let mut addrs = Vec::new();
    for &role in Role::ALL.iter().chain([&Role::Gateway]) {
        let path = args.data_dir.join(format!("{}.db", role.name()));
        let config = DbConfig {
            url: format!("sqlite://{}?mode=rwc", path.display()),
            max_connections: 4,
            sqlite_sync: args.sqlite_sync,
            group_commit: true,
        };
        let db = role.connect(&config).await?;
        let addr = SocketAddr::new(args.host, port(args.base_port, role));
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| format!("{}: listening on {addr}: {e}", role.name()))?;
        dbs.push(db.clone());
        let ctx = Context {
            db: db.clone(),
            tokens: tokens.clone(),
            clock: clock.clone(),
        };
        let server = role
            .server(ctx, auth.clone(), &links, &gateway, &bus, &metrics)
            .await?
            .ready_when(db.clone())
            .with_metrics(metrics.clone());
        metrics.watch_database(role.name(), db.clone());
        tasks.push(tokio::spawn(server.run(
            listener,
            shutdown.clone(),
            timings,
        )));
        addrs.push((role, addr));
    }

    for db in &dbs {
        crate::roles::relay(db, &bus, &clock);
    }
    let metrics_addr = SocketAddr::new(args.host, args.base_port + 9);
    let metrics_listener = TcpListener::bind(metrics_addr)
        .await
        .map_err(|e| format!("metrics: listening on {metrics_addr}: {e}"))?;
    tokio::spawn(cogov_kit::metrics::serve(
        metrics_listener,
        metrics.clone(),
        shutdown.clone(),
    ));
    for (role, addr) in &addrs {
        wait_healthy(*addr)
            .await
            .map_err(|e| format!("{} did not become healthy: {e}", role.name()))?;
    }
    let healthy = started.elapsed();
    tracing::info!(elapsed_ms = healthy.as_millis() as u64, "all roles healthy");

    if !args.no_demo {
        let channels = demo::Channels {
            organizations: channel(addrs[0].1).await?,
            issues: channel(addrs[1].1).await?,
            volunteers: channel(addrs[2].1).await?,
            deliberation: channel(addrs[3].1).await?,
        };
        let loaded = demo::load_if_empty(channels, &auth).await?;
        if let Some(summary) = loaded {
            tracing::info!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "{summary}"
            );
        }
    }
    let tokens = gateway.staff_tokens(&clock)?;
    let admin_token = tokens.issue("newcomer", "street_admin", "", 24 * 3600)?;
    let gateway_addr = addrs.last().expect("the gateway").1;
    let (keys, logins, residents) = if args.no_demo {
        (Vec::new(), Vec::new(), Vec::new())
    } else {
        (
            demo::partner_keys(channel(gateway_addr).await?, &admin_token).await?,
            demo::staff_logins(channel(gateway_addr).await?, &admin_token).await?,
            demo::resident_logins(channel(gateway_addr).await?, &admin_token).await?,
        )
    };
    print_banner(
        &addrs,
        healthy,
        &admin_token,
        &Demo {
            keys,
            logins,
            residents,
        },
    );

    for task in tasks {
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(format!("server error: {e}")),
            Err(e) => return Err(format!("server task failed: {e}")),
        }
    }
    Ok(())
}

async fn channel(addr: SocketAddr) -> Result<Channel, String> {
    Channel::from_shared(format!("http://{addr}"))
        .map_err(|e| e.to_string())?
        .connect()
        .await
        .map_err(|e| format!("connecting to {addr}: {e}"))
}

async fn wait_healthy(addr: SocketAddr) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(ch) = channel(addr).await {
            let status = HealthClient::new(ch)
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await;
            if let Ok(r) = status
                && r.into_inner().status == ServingStatus::Serving as i32
            {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            return Err(format!("no SERVING answer from {addr} within 10 s"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The demo's credentials the banner shows.
struct Demo {
    keys: Vec<demo::DemoKey>,
    logins: Vec<demo::DemoLogin>,
    residents: Vec<demo::DemoResident>,
}

fn print_banner(addrs: &[(Role, SocketAddr)], healthy: Duration, admin_token: &str, demo: &Demo) {
    let (keys, logins) = (&demo.keys, &demo.logins);
    let gateway = addrs.last().expect("the gateway").1;
    println!();
    println!(
        "cogov is up ({} ms to healthy). Press Ctrl-C to stop.",
        healthy.as_millis()
    );
    println!();
    println!("  gateway        grpc://{gateway}   (every API; gRPC-Web too)");
    println!("  console        http://{gateway}/console   (staff web pages)");
    println!("  residents      http://{gateway}/app       (residents' web app, for phones)");
    println!(
        "  metrics        http://{}:{}/metrics",
        gateway.ip(),
        gateway.port() + 9
    );
    for (role, addr) in addrs.iter().filter(|(r, _)| *r != Role::Gateway) {
        println!("  {:<14} grpc://{addr}   (internal)", role.name());
    }
    println!();
    println!("Credentials for this run (send as `authorization: Bearer …`):");
    println!();
    println!("  street admin token (24 h):");
    println!("    export COGOV_TOKEN={admin_token}");
    for key in keys {
        println!("  {} ({}):", key.label, key.organization);
        println!("    export {}={}", key.variable, key.secret);
    }
    if !logins.is_empty() {
        println!();
        println!("Console sign-in for this run (http://{gateway}/console):");
        for login in logins {
            println!(
                "  {:<32} username {}   password {}",
                login.label, login.username, login.password
            );
        }
    }
    if !demo.residents.is_empty() {
        println!();
        println!(
            "Residents sign in by phone at http://{gateway}/app (or ResidentsService's SendSignInCode"
        );
        println!("and SignIn) with the code this run writes to its log (\"sign-in code\"):");
        for r in &demo.residents {
            println!("  {:<32} {:<8} phone {}", r.label, r.display_name, r.phone);
        }
    }
    println!();
    println!("Try:");
    println!(
        "  buf curl --protocol grpc --http2-prior-knowledge -H \"authorization: Bearer $COGOV_FIRM_KEY\" \\\n      -d '{{}}' http://{gateway}/cogov.gateway.v1.GatewayService/GetCaller"
    );
    println!();
}
