//! The benchmark program. It starts what it measures — the organizations
//! and issues services and the gateway in front of them on loopback, on
//! SQLite (and PostgreSQL with `--postgres`) — and prints figures:
//!
//! - event delivery latency from a report's commit to a `WatchEvents`
//!   watcher, on the in-process bus (and JetStream with `--nats`, where a
//!   backlog published straight to the bus also times the gateway's log);
//! - webhooks: commit to delivery at 100 partners' endpoints, and
//!   deliveries a second under a burst;
//! - the gateway's cost: the same cheap call (`GetSubItem`) through a bare
//!   tonic pass-through proxy built here and through the gateway
//!   (authentication, policy, rate limit, principal signing);
//! - `ReportIssue` throughput and latency at concurrency 1 and 64, straight
//!   to the issues service and through the gateway, and `UpdateIssue` of one
//!   field through the gateway;
//! - the other writes residents make in bursts, through the gateway at
//!   concurrency 64: `CreateSignup`, `CheckInSignup`, `SupportTopic`,
//!   `CreateOpinion`, `CastVote`, `ConfirmIssue` (the volunteers and
//!   deliberation services run beside the others for them);
//! - `ListIssues` (a page of 50 with typical filters) and
//!   `ComputeIssueStatistics` latency with `--issues` rows stored (bulk
//!   loaded straight into the database), and the query plans behind them;
//! - `cogov up` (the real binary, built if need be): time to healthy, and
//!   the whole system's peak memory under load through the gateway.
//!
//! Run: `cargo run --release -p cogov-bench -- [--issues 1000000] [--postgres URL] [--nats URL]`
//! (`--writes-only`, `--events-only`, `--gateway-only`, `--webhooks-only`, `--app-only` for one part).

mod app;
mod bulk;
mod bursts;
mod cpu;
mod events;
mod operations;
mod plans;
mod residents;
mod sheets;
mod webhooks;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use clap::Parser;
use cogov_issues::taxonomy_seed::SUB_ITEMS;
use cogov_kit::Context;
use cogov_kit::auth::{Authenticator, Principal};
use cogov_kit::clock::Clock;
use cogov_kit::db::{self, DbConfig};
use cogov_kit::directory::Directory;
use cogov_kit::events::Bus;
use cogov_kit::events::jetstream::JetStreamBus;
use cogov_kit::events::memory::MemoryBus;
use cogov_kit::paging::PageTokens;
use cogov_kit::testing::{TestDb, TestServer};
use cogov_proto::issues::issues_service_client::IssuesServiceClient;
use cogov_proto::issues::*;
use cogov_proto::organizations as org;
use cogov_proto::organizations::organizations_service_client::OrganizationsServiceClient;
use sea_orm::ConnectionTrait;
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tower::ServiceExt;
use uuid::Uuid;

/// mimalloc rather than the C library's allocator, for Rust's allocations
/// and (its `override` feature) SQLite's: a request's buffers are made on
/// one thread and dropped on another (tokio's workers, each database
/// connection's thread), which glibc's arenas serve with locks and periodic
/// consolidation. BENCHMARKS.md has the figures.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(about = "Prints cogov's performance figures")]
struct Args {
    /// Issues stored for the read measurements.
    #[arg(long, default_value_t = 100_000)]
    issues: usize,
    /// Reports sent per write measurement.
    #[arg(long, default_value_t = 3_000)]
    reports: usize,
    /// Calls per read measurement.
    #[arg(long, default_value_t = 300)]
    reads: usize,
    /// Also measure on this PostgreSQL server (a database is created and
    /// dropped), e.g. postgres://postgres@127.0.0.1:5432/postgres.
    #[arg(long, env = "COGOV_TEST_DATABASE_URL")]
    postgres: Option<String>,
    /// Also measure event delivery through this NATS JetStream server
    /// (streams under a namespace of their own, removed after), e.g.
    /// nats://127.0.0.1:4222.
    #[arg(long)]
    nats: Option<String>,
    /// Reports timed from commit to a watcher, per bus.
    #[arg(long, default_value_t = 200)]
    events: usize,
    /// Only the residents' app's pages (on `cogov up`).
    #[arg(long)]
    app_only: bool,
    /// Only the operations figures of `cogov up` (start-up, demo load,
    /// memory under load).
    #[arg(long)]
    operations_only: bool,
    /// Only the writes (reports and updates, into an empty database), on
    /// SQLite and on `--postgres` if given: a quick before/after.
    #[arg(long)]
    writes_only: bool,
    /// With `--writes-only`: first bulk-load this many issues, for the
    /// writes into a street with a history.
    #[arg(long, default_value_t = 0)]
    preload: usize,
    /// Only the event pipeline on `--nats` (latency, a burst of reports,
    /// a backlog into the gateway's log), with the services on SQLite and
    /// on `--postgres` if given.
    #[arg(long)]
    events_only: bool,
    /// Events in the backlog published straight to JetStream.
    #[arg(long, default_value_t = 10_000)]
    backlog: usize,
    /// Only the gateway's cost against a bare proxy (GetSubItem at
    /// concurrency 1 and 64, `--rounds` interleaved rounds) and the
    /// credential checks, on SQLite.
    #[arg(long)]
    gateway_only: bool,
    /// Interleaved rounds with `--gateway-only`.
    #[arg(long, default_value_t = 7)]
    rounds: usize,
    /// Only the webhooks (latency and a burst to 100 endpoints), on SQLite
    /// and on `--postgres` if given.
    #[arg(long)]
    webhooks_only: bool,
    /// Only the spreadsheets: a roster imported, then every issue exported
    /// (after a bulk load to `--issues`), on SQLite.
    #[arg(long)]
    sheets_only: bool,
    /// Persons in the imported roster.
    #[arg(long, default_value_t = 10_000)]
    sheets_persons: usize,
    /// Reports in the webhook burst (each to 100 endpoints).
    #[arg(long, default_value_t = 128)]
    webhook_burst: usize,
    /// SQLite's concurrent writes share commits (`false`: each commits
    /// alone, the way before issue 21's group commit, for comparison).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    group_commit: bool,
}

/// `--group-commit`, for every database the bench opens.
static GROUP_COMMIT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// A service's database settings in the bench.
fn db_config(url: &str) -> DbConfig {
    let mut cfg = DbConfig::new(url);
    cfg.max_connections = 16;
    cfg.group_commit = GROUP_COMMIT.load(std::sync::atomic::Ordering::Relaxed);
    cfg
}

const SECRET: &[u8] = b"benchmark internal secret";

const STAFF_SECRET: &[u8] = b"benchmark staff token secret";

/// How the bench calls: as a service would (a principal it signs itself),
/// or as staff through the gateway (a bearer token).
#[derive(Clone)]
enum Admin {
    Signed(Authenticator),
    Bearer(String),
}

impl Interceptor for Admin {
    fn call(&mut self, mut r: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        match self {
            Admin::Signed(auth) => auth.attach(
                r.metadata_mut(),
                &Principal::StreetAdmin {
                    subject: "bench".into(),
                },
                chrono::Duration::seconds(600),
            ),
            Admin::Bearer(token) => {
                r.metadata_mut().insert(
                    "authorization",
                    format!("Bearer {token}").parse().expect("ascii"),
                );
            }
        }
        Ok(r)
    }
}

type Issues = IssuesServiceClient<InterceptedService<Channel, Admin>>;

struct Stack {
    issues: TestServer,
    /// The gateway, for its own service.
    gateway_channel: Channel,
    /// A street admin's bearer token for the gateway.
    token: String,
    svc: cogov_issues::Issues,
    /// Straight to the issues service.
    client: Issues,
    /// Through the gateway, as a street admin.
    gateway: Issues,
    /// Through the bare proxy, with a principal signed here.
    proxied: Issues,
    courtyards: Vec<(Uuid, Uuid)>,
    /// The gateway itself, for its token checks in process.
    gw: cogov_gateway::Gateway,
    /// Where residents' codes arrive.
    phones: cogov_kit::testing::phones::Phones,
    _dbs: Dbs,
    _servers: Vec<TestServer>,
    _proxy: tokio_util::sync::DropGuard,
}

/// A tonic server that forwards every call to `backend` untouched: the
/// least a gateway could do, for comparison.
/// Serves until the guard is dropped.
async fn bare_proxy(backend: Channel) -> (Channel, tokio_util::sync::DropGuard) {
    let forward = tower::service_fn(move |req: http::Request<axum::body::Body>| {
        let backend = backend.clone();
        async move {
            let response = match backend.oneshot(req.map(tonic::body::Body::new)).await {
                Ok(r) => r.map(axum::body::Body::new),
                Err(e) => tonic::Status::unavailable(e.to_string()).into_http::<axum::body::Body>(),
            };
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    let router = axum::Router::new().fallback_service(forward);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = tokio_util::sync::CancellationToken::new();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_routes(tonic::service::Routes::from(router))
            .serve_with_incoming_shutdown(
                tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
                shutdown.clone().cancelled_owned(),
            ),
    );
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    (channel, shutdown.drop_guard())
}

/// A database for each service the bench starts.
struct Dbs {
    orgs: TestDb,
    issues: TestDb,
    gateway: TestDb,
    volunteers: TestDb,
    deliberation: TestDb,
}

impl Dbs {
    fn sqlite() -> Dbs {
        Dbs {
            orgs: TestDb::sqlite(),
            issues: TestDb::sqlite(),
            gateway: TestDb::sqlite(),
            volunteers: TestDb::sqlite(),
            deliberation: TestDb::sqlite(),
        }
    }

    async fn postgres(url: &str) -> Dbs {
        Dbs {
            orgs: TestDb::postgres_at(url).await,
            issues: TestDb::postgres_at(url).await,
            gateway: TestDb::postgres_at(url).await,
            volunteers: TestDb::postgres_at(url).await,
            deliberation: TestDb::postgres_at(url).await,
        }
    }
}

/// A service's context on a database at `url`, its outbox relayed to `bus`.
async fn relayed<M: sea_orm_migration::MigratorTrait>(url: &str, bus: &Bus) -> Context {
    let db = db::connect::<M>(&db_config(url))
        .await
        .expect("a service's database");
    cogov_kit::events::relay::spawn(db.clone(), bus.clone(), Clock::system());
    Context {
        db,
        tokens: PageTokens::new(b"bench page tokens"),
        clock: Clock::system(),
    }
}

/// The organizations service's directory, for the role `role`, with
/// `cogov serve`'s default caches, forgetting on the changes heard on
/// `bus`.
fn directory(orgs: &TestServer, auth: &Authenticator, bus: &Bus, role: &'static str) -> Directory {
    let directory = Directory::from_channel(
        orgs.channel.clone(),
        auth.clone(),
        role,
        Clock::system(),
        Duration::from_secs(5),
    )
    .caching_persons_for(Duration::from_secs(5));
    cogov_kit::events::forget_on_changes(bus, directory.clone());
    directory
}

/// The services on `bus`, with their outbox relays and the gateway's event
/// consumer.
async fn start(dbs: Dbs, bus: Bus) -> Stack {
    let clock = Clock::system();
    let auth = Authenticator::new(SECRET, None, clock.clone());
    let tokens = PageTokens::new(b"bench page tokens");
    let cfg = db_config(&dbs.orgs.url);
    let orgs = TestServer::start(
        cogov_organizations::Organizations::new(Context {
            db: db::connect::<cogov_organizations::Migrator>(&cfg)
                .await
                .expect("organizations database"),
            tokens: tokens.clone(),
            clock: clock.clone(),
        })
        .server(auth.clone()),
    )
    .await;
    let cfg = db_config(&dbs.issues.url);
    let svc = cogov_issues::Issues::new(
        Context {
            db: db::connect::<cogov_issues::Migrator>(&cfg)
                .await
                .expect("issues database"),
            tokens,
            clock,
        },
        directory(&orgs, &auth, &bus, "issues"),
        cogov_issues::Settings::default(),
    );
    let issues = TestServer::start(svc.clone().server(auth.clone())).await;
    cogov_kit::events::relay::spawn(svc.ctx.db.clone(), bus.clone(), Clock::system());
    let volunteers = TestServer::start(
        cogov_volunteers::Volunteers::new(
            relayed::<cogov_volunteers::Migrator>(&dbs.volunteers.url, &bus).await,
            directory(&orgs, &auth, &bus, "volunteers"),
        )
        .server(auth.clone()),
    )
    .await;
    let deliberation = TestServer::start(
        cogov_deliberation::Deliberation::new(
            relayed::<cogov_deliberation::Migrator>(&dbs.deliberation.url, &bus).await,
            directory(&orgs, &auth, &bus, "deliberation"),
        )
        .server(auth.clone()),
    )
    .await;

    // A street of 10 communities with 56 courtyards.
    let mut o = OrganizationsServiceClient::with_interceptor(
        orgs.channel.clone(),
        Admin::Signed(auth.clone()),
    );
    let street = o
        .create_street(org::CreateStreetRequest {
            street: Some(org::Street {
                display_name: "Niujie".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .name;
    let mut courtyards = Vec::new();
    for c in 0..10 {
        let community = o
            .create_community(org::CreateCommunityRequest {
                community: Some(org::Community {
                    street: street.clone(),
                    display_name: format!("C{c}"),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .name;
        let n = if c < 2 { 13 } else { 4 } - usize::from(c >= 8);
        for y in 0..n {
            let yard = o
                .create_courtyard(org::CreateCourtyardRequest {
                    courtyard: Some(org::Courtyard {
                        community: community.clone(),
                        display_name: format!("Y{c}-{y}"),
                        kind: org::CourtyardKind::Estate as i32,
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await
                .unwrap()
                .into_inner()
                .name;
            courtyards.push((id(&yard), id(&community)));
        }
    }
    let client =
        IssuesServiceClient::with_interceptor(issues.channel.clone(), Admin::Signed(auth.clone()));

    // The gateway in front, and the bare proxy beside it.
    let phones = cogov_kit::testing::phones::Phones::start().await;
    let cfg = db_config(&dbs.gateway.url);
    let clock = Clock::system();
    let staff = cogov_gateway::StaffTokens::shared_secret(
        STAFF_SECRET,
        "cogov",
        "cogov-gateway",
        clock.clone(),
    );
    let token = staff
        .issue("bench", "street_admin", "", 24 * 3600)
        .expect("a staff token");
    // The webhook bench's receiver listens on loopback.
    let webhooks = cogov_gateway::webhooks::Config {
        allow_networks: vec!["127.0.0.0/8".parse().expect("a network")],
        ..Default::default()
    };
    let gw = cogov_gateway::Gateway::new(
        Context {
            db: db::connect::<cogov_gateway::Migrator>(&cfg)
                .await
                .expect("gateway database"),
            tokens: PageTokens::new(b"bench gateway page tokens"),
            clock: clock.clone(),
        },
        directory(&orgs, &auth, &bus, "gateway"),
        auth.clone(),
        staff,
        cogov_gateway::Settings {
            max_in_flight: 4096,
            ..cogov_gateway::Settings::default()
        },
    )
    .with_residents(cogov_gateway::residents::Config {
        sender: cogov_gateway::residents::sender::CodeSender::Http(
            cogov_gateway::residents::sender::HttpSender::new(
                &phones.url,
                cogov_kit::testing::phones::SECRET,
            )
            .expect("the code sender"),
        ),
        token_secret: None,
    })
    .with_webhooks(webhooks);
    gw.start_consumers(&bus)
        .await
        .expect("the gateway's event consumer");
    let gateway = TestServer::start(gw.clone().server(cogov_gateway::Backends {
        organizations: orgs.channel.clone(),
        issues: issues.channel.clone(),
        volunteers: volunteers.channel.clone(),
        deliberation: deliberation.channel.clone(),
    }))
    .await;
    let (proxy, proxy_guard) = bare_proxy(issues.channel.clone()).await;
    Stack {
        gateway: IssuesServiceClient::with_interceptor(
            gateway.channel.clone(),
            Admin::Bearer(token.clone()),
        ),
        gateway_channel: gateway.channel.clone(),
        token,
        proxied: IssuesServiceClient::with_interceptor(proxy, Admin::Signed(auth)),
        issues,
        svc,
        client,
        courtyards,
        gw,
        phones,
        _dbs: dbs,
        _servers: vec![orgs, volunteers, deliberation, gateway],
        _proxy: proxy_guard,
    }
}

fn id(name: &str) -> Uuid {
    Uuid::parse_str(name.rsplit('/').next().unwrap()).unwrap()
}

/// p50 and p99 of sorted latencies.
fn percentiles(mut d: Vec<Duration>) -> (Duration, Duration) {
    d.sort();
    let at = |q: f64| {
        d[((d.len() as f64 * q).ceil() as usize)
            .saturating_sub(1)
            .min(d.len() - 1)]
    };
    (at(0.50), at(0.99))
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// What a run of calls measured.
#[derive(Debug, Clone, Copy)]
struct Run {
    /// Calls a second.
    rate: f64,
    p50: Duration,
    p99: Duration,
    /// CPU time per call of everything on the machine that served it:
    /// this process (client, servers, SQLite) and PostgreSQL's processes.
    /// None when the servers ran elsewhere.
    cpu: Option<Duration>,
}

/// `total` calls of `call` by `concurrency` clients.
async fn load<F, Fut>(total: usize, concurrency: usize, call: F) -> Run
where
    F: Fn(usize, usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let per_task = total / concurrency;
    let cpu_before = cpu::seconds();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..concurrency {
        let call = call.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per_task);
            for i in 0..per_task {
                let t0 = Instant::now();
                call(t, i).await;
                lat.push(t0.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let calls = all.len();
    let rate = calls as f64 / started.elapsed().as_secs_f64();
    let cpu = Duration::from_secs_f64((cpu::seconds() - cpu_before).max(0.0) / calls as f64);
    let (p50, p99) = percentiles(all);
    Run {
        rate,
        p50,
        p99,
        cpu: Some(cpu),
    }
}

/// `GetSubItem`: a cheap call, for what the way in costs.
async fn cheap_calls(client: &Issues, total: usize, concurrency: usize) -> Run {
    let client = client.clone();
    load(total, concurrency, move |_, _| {
        let mut c = client.clone();
        async move {
            c.get_sub_item(GetSubItemRequest {
                name: "subItems/roof_leak".into(),
            })
            .await
            .expect("GetSubItem");
        }
    })
    .await
}

async fn writes(
    client: &Issues,
    courtyards: &[(Uuid, Uuid)],
    total: usize,
    concurrency: usize,
) -> Run {
    let courtyards = Arc::new(courtyards.to_vec());
    let client = client.clone();
    load(total, concurrency, move |t, i| {
        let mut c = client.clone();
        let (courtyard, _) = courtyards[(t * 7 + i) % courtyards.len()];
        let sub_item = SUB_ITEMS[(t + i) % SUB_ITEMS.len()].code;
        async move {
            c.report_issue(ReportIssueRequest {
                issue: Some(Issue {
                    courtyard: format!("courtyards/{courtyard}"),
                    sub_item: format!("subItems/{sub_item}"),
                    title: "bench".into(),
                    ..Default::default()
                }),
                request_id: Uuid::new_v4().to_string(),
            })
            .await
            .expect("report");
        }
    })
    .await
}

/// `UpdateIssue` of one field: each client edits an issue of its own, so
/// the figure is the write unit's cost (read, etag, mask, guarded save,
/// timeline entry), not contention on one row.
async fn updates(
    client: &Issues,
    courtyards: &[(Uuid, Uuid)],
    total: usize,
    concurrency: usize,
) -> Run {
    let mut own = Vec::with_capacity(concurrency);
    for t in 0..concurrency {
        let (courtyard, _) = courtyards[t % courtyards.len()];
        let issue = client
            .clone()
            .report_issue(ReportIssueRequest {
                issue: Some(Issue {
                    courtyard: format!("courtyards/{courtyard}"),
                    sub_item: format!("subItems/{}", SUB_ITEMS[0].code),
                    title: "bench".into(),
                    ..Default::default()
                }),
                request_id: Uuid::new_v4().to_string(),
            })
            .await
            .expect("report")
            .into_inner();
        own.push(issue.name);
    }
    let own = Arc::new(own);
    let client = client.clone();
    load(total, concurrency, move |t, i| {
        let mut c = client.clone();
        let name = own[t].clone();
        async move {
            c.update_issue(UpdateIssueRequest {
                issue: Some(Issue {
                    name,
                    title: format!("bench {i}"),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["title".into()],
                }),
            })
            .await
            .expect("update");
        }
    })
    .await
}

async fn reads<F, Fut>(count: usize, mut call: F) -> (Duration, Duration)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut lat = Vec::with_capacity(count);
    for _ in 0..count {
        let t0 = Instant::now();
        call().await;
        lat.push(t0.elapsed());
    }
    percentiles(lat)
}

fn figures(what: &str, run: Run, unit: &str) -> f64 {
    let cpu = run
        .cpu
        .map(|c| format!(", CPU {} a call", ms(c)))
        .unwrap_or_default();
    println!(
        "| {what} | {:.0} {unit}/s, p50 {}, p99 {}{cpu} |",
        run.rate,
        ms(run.p50),
        ms(run.p99)
    );
    run.rate
}

fn table(name: &str) {
    println!("\n## {name}\n");
    println!("| measurement | figure |");
    println!("|---|---|");
}

/// The writes: reports and one-field updates, at concurrency 1 and 64,
/// then the other writes residents make in bursts.
async fn write_figures(stack: &Stack, args: &Args) {
    let levels: &[usize] = if std::env::var_os("BENCH_C64_ONLY").is_some() {
        &[64]
    } else {
        &[1, 64]
    };
    for &concurrency in levels {
        figures(
            &format!("ReportIssue straight to the service, concurrency {concurrency}"),
            writes(&stack.client, &stack.courtyards, args.reports, concurrency).await,
            "reports",
        );
        let before = stack.svc.ctx.db.group_commits();
        figures(
            &format!("ReportIssue through the gateway, concurrency {concurrency}"),
            writes(&stack.gateway, &stack.courtyards, args.reports, concurrency).await,
            "reports",
        );
        if let (Some(b), Some(a)) = (before, stack.svc.ctx.db.group_commits()) {
            let commits = a.commits - b.commits;
            let (ends, calls) = (a.ends - b.ends, a.end_calls - b.end_calls);
            println!(
                "| the same reports' commits in the issues database | {commits} commits, {:.1} writes a commit; {:.1} writes' ends a call |",
                (a.writes - b.writes) as f64 / commits.max(1) as f64,
                ends as f64 / calls.max(1) as f64
            );
        }
        figures(
            &format!("UpdateIssue (title) through the gateway, concurrency {concurrency}"),
            updates(&stack.gateway, &stack.courtyards, args.reports, concurrency).await,
            "updates",
        );
    }
    // An activity holds at most 10,000 sign-ups.
    bursts::measure(stack, args.reports.min(10_000)).await;
}

/// GetSubItem through the bare proxy and through the gateway, in
/// interleaved rounds so that the machine's drift falls on both; the
/// median round's figures are printed.
async fn gateway_cost(stack: &Stack, calls: usize, rounds: usize) {
    for concurrency in [1, 64] {
        let mut measured = Vec::new();
        for _ in 0..rounds {
            let bare = cheap_calls(&stack.proxied, calls, concurrency).await;
            let gateway = cheap_calls(&stack.gateway, calls, concurrency).await;
            measured.push((bare.rate / gateway.rate, bare, gateway));
        }
        measured.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (ratio, bare, gateway) = measured[measured.len() / 2];
        figures(
            &format!("GetSubItem through a bare proxy, concurrency {concurrency}"),
            bare,
            "calls",
        );
        figures(
            &format!("GetSubItem through the gateway, concurrency {concurrency}"),
            gateway,
            "calls",
        );
        let all: Vec<String> = measured.iter().map(|r| format!("{:.2}", r.0)).collect();
        println!(
            "| gateway cost, concurrency {concurrency} | {ratio:.2}× the bare proxy's time per call (median of {}) |",
            all.join(", ")
        );
    }
}

async fn measure(name: &str, stack: Stack, args: &Args) {
    table(name);
    let (p50, p99) = events::latency(&stack, args.events).await;
    println!(
        "| event delivery, commit to WatchEvents, in-process bus | p50 {}, p99 {} |",
        ms(p50),
        ms(p99)
    );
    webhooks::measure(&stack, args.events, args.webhook_burst).await;
    gateway_cost(&stack, args.reads * 10, 3).await;
    residents::measure(&stack).await;
    let already = args.events;
    preload(&stack, args.issues, already).await;
    let db = &stack.svc.ctx.db;

    let (courtyard, community) = stack.courtyards[3];
    let filters = [
        ("community", format!("community = communities/{community}")),
        (
            "community AND state",
            format!("community = communities/{community} AND state = DISPATCHED"),
        ),
        (
            "courtyard AND sub_item",
            format!("courtyard = courtyards/{courtyard} AND sub_item = subItems/roof_leak"),
        ),
        ("overdue", "overdue = true".to_owned()),
        ("state, by resolve_by", "state = IN_PROGRESS".to_owned()),
    ];
    for (label, filter) in filters {
        let order_by = if label.contains("resolve_by") {
            "resolve_by"
        } else {
            ""
        };
        let c = stack.client.clone();
        let (p50, p99) = reads(args.reads, || {
            let mut c = c.clone();
            let filter = filter.clone();
            async move {
                c.list_issues(ListIssuesRequest {
                    page_size: 50,
                    filter,
                    order_by: order_by.into(),
                    ..Default::default()
                })
                .await
                .expect("list");
            }
        })
        .await;
        println!(
            "| ListIssues page of 50, {label} | p50 {}, p99 {} |",
            ms(p50),
            ms(p99)
        );
    }
    for (label, group, days) in [
        ("by community, last 30 days", StatisticsGroup::Community, 30),
        (
            "by community, last 365 days",
            StatisticsGroup::Community,
            365,
        ),
        (
            "by community, all two years",
            StatisticsGroup::Community,
            731,
        ),
        ("by month, last 365 days", StatisticsGroup::Month, 365),
        ("by courtyard, last 30 days", StatisticsGroup::Courtyard, 30),
        (
            "by sub-item, last 30 days (from the issues)",
            StatisticsGroup::SubItem,
            30,
        ),
    ] {
        let c = stack.client.clone();
        let (p50, p99) = reads(args.reads.min(50), || {
            let mut c = c.clone();
            async move {
                c.compute_issue_statistics(ComputeIssueStatisticsRequest {
                    group_by: group as i32,
                    interval: Some(cogov_proto::common::Interval {
                        start_time: Some(cogov_kit::convert::timestamp(
                            Utc::now() - chrono::Duration::days(days),
                        )),
                        end_time: None,
                    }),
                    ..Default::default()
                })
                .await
                .expect("statistics");
            }
        })
        .await;
        println!("| statistics {label} | p50 {}, p99 {} |", ms(p50), ms(p99));
    }
    // Writes last, into a million issues, where they do not crowd the
    // reads' partial days.
    write_figures(&stack, args).await;
    plans::print(db, courtyard, community).await;
    drop(stack.issues);
}

/// Bulk-loads issues until `total` are stored (`already` are), as a
/// street with two years of history, and tidies up after.
async fn preload(stack: &Stack, total: usize, already: usize) {
    let db = &stack.svc.ctx.db;
    let loaded = bulk::load(db, &stack.courtyards, total.saturating_sub(already)).await;
    println!(
        "| bulk load to {total} issues (two years) | {:.1} s |",
        loaded.as_secs_f64()
    );
    let started = Instant::now();
    cogov_issues::statistics::day_counts::rebuild(db.write())
        .await
        .expect("day counts");
    println!(
        "| day counts rebuilt from {total} issues | {:.1} s |",
        started.elapsed().as_secs_f64()
    );
    // What an operator (or autovacuum) does after a bulk load: fresh
    // planner statistics, and on PostgreSQL a visibility map that lets
    // covering indexes answer alone.
    let tidy = match db.write().get_database_backend() {
        sea_orm::DbBackend::Postgres => "VACUUM ANALYZE",
        _ => "ANALYZE",
    };
    db.write().execute_unprepared(tidy).await.expect(tidy);
}

/// The stack on PostgreSQL: a database of its own for each service.
async fn start_postgres(url: &str) -> Stack {
    let memory: Bus = Arc::new(MemoryBus::new());
    start(Dbs::postgres(url).await, memory).await
}

/// Event delivery through JetStream, the services on SQLite, or on
/// PostgreSQL at `postgres`.
async fn jetstream_figures(url: &str, postgres: Option<&str>, args: &Args) {
    let on = if postgres.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    table(&format!("JetStream, the services on {on}"));
    // A namespace per stack: the consumers of a stack gone keep asking
    // for their streams.
    let namespace = format!("bench{}{}", std::process::id(), on.to_lowercase());
    let jetstream = JetStreamBus::connect(url, &namespace)
        .await
        .expect("JetStream");
    let bus: Bus = Arc::new(jetstream.clone());
    let dbs = match postgres {
        Some(url) => Dbs::postgres(url).await,
        None => Dbs::sqlite(),
    };
    let stack = start(dbs, bus.clone()).await;
    let (p50, p99) = events::latency(&stack, args.events).await;
    println!(
        "| event delivery, commit to WatchEvents, JetStream ({on} services) | p50 {}, p99 {} |",
        ms(p50),
        ms(p99)
    );
    let (rate, behind) = events::burst(&stack, args.reports).await;
    println!(
        "| event pipeline under a burst of {} reports (concurrency 64), JetStream | {rate:.0} events/s watched; the last watched {} after its report was answered |",
        args.reports / 64 * 64,
        ms(behind)
    );
    let (rate, published, behind) = events::backlog(&stack, &bus, args.backlog).await;
    println!(
        "| a backlog of {} events published to JetStream, into the gateway's log ({on}) | {rate:.0} events/s logged; publishing took {:.2} s, the last logged {} after it |",
        args.backlog,
        published.as_secs_f64(),
        ms(behind)
    );
    drop(stack);
    jetstream
        .delete()
        .await
        .expect("removing the bench's streams");
}

fn main() {
    let args = Args::parse();
    GROUP_COMMIT.store(args.group_commit, std::sync::atomic::Ordering::Relaxed);
    let runtime = cogov_kit::runtime::multi_thread().expect("starting the tokio runtime");
    runtime.block_on(async {
        if args.app_only {
            app_pages().await;
            return;
        }
        if args.operations_only {
            operations_figures(&args).await;
            return;
        }
        if args.sheets_only {
            let memory: Bus = Arc::new(MemoryBus::new());
            let sqlite = start(Dbs::sqlite(), memory).await;
            table("Spreadsheets, SQLite (WAL, synchronous=NORMAL, group commit)");
            sheets::imports(&sqlite, args.sheets_persons).await;
            let db = &sqlite.svc.ctx.db;
            let loaded = bulk::load(db, &sqlite.courtyards, args.issues).await;
            println!(
                "| bulk load to {} issues (two years) | {:.1} s |",
                args.issues,
                loaded.as_secs_f64()
            );
            sheets::exports(&sqlite, args.issues).await;
            return;
        }
        if args.gateway_only {
            let memory: Bus = Arc::new(MemoryBus::new());
            let sqlite = start(Dbs::sqlite(), memory).await;
            table("The gateway's cost, SQLite (WAL, synchronous=NORMAL)");
            gateway_cost(&sqlite, args.reads * 10, args.rounds.max(1)).await;
            residents::measure(&sqlite).await;
            return;
        }
        if args.webhooks_only {
            let memory: Bus = Arc::new(MemoryBus::new());
            let sqlite = start(Dbs::sqlite(), memory).await;
            table("Webhooks, SQLite (WAL, synchronous=NORMAL, group commit)");
            webhooks::measure(&sqlite, args.events, args.webhook_burst).await;
            drop(sqlite);
            if let Some(url) = args.postgres.as_ref().filter(|u| !u.is_empty()) {
                let pg = start_postgres(url).await;
                table("Webhooks, PostgreSQL");
                webhooks::measure(&pg, args.events, args.webhook_burst).await;
            }
            return;
        }
        if args.writes_only {
            let memory: Bus = Arc::new(MemoryBus::new());
            let sqlite = start(Dbs::sqlite(), memory).await;
            let into = if args.preload == 0 {
                "empty database".to_owned()
            } else {
                format!("into {} issues", args.preload)
            };
            table(&if args.group_commit {
                format!("Writes, SQLite (WAL, synchronous=NORMAL, group commit), {into}")
            } else {
                format!("Writes, SQLite (WAL, synchronous=NORMAL, a commit per write), {into}")
            });
            if args.preload > 0 {
                preload(&sqlite, args.preload, 0).await;
            }
            write_figures(&sqlite, &args).await;
            drop(sqlite);
            if let Some(url) = args.postgres.as_ref().filter(|u| !u.is_empty()) {
                let pg = start_postgres(url).await;
                table(&format!("Writes, PostgreSQL, {into}"));
                if args.preload > 0 {
                    preload(&pg, args.preload, 0).await;
                }
                write_figures(&pg, &args).await;
            }
            if let Some(url) = args.nats.as_ref().filter(|u| !u.is_empty()) {
                jetstream_figures(url, None, &args).await;
            }
            return;
        }
        if args.events_only {
            let url = args
                .nats
                .as_ref()
                .filter(|u| !u.is_empty())
                .expect("--events-only measures JetStream: give --nats");
            jetstream_figures(url, None, &args).await;
            if let Some(postgres) = args.postgres.as_ref().filter(|u| !u.is_empty()) {
                jetstream_figures(url, Some(postgres), &args).await;
            }
            return;
        }
        println!(
            "# cogov benchmark — {} issues stored, {} cores",
            args.issues,
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        let memory: Bus = Arc::new(MemoryBus::new());
        measure(
            "SQLite (WAL, synchronous=NORMAL)",
            start(Dbs::sqlite(), memory).await,
            &args,
        )
        .await;
        if let Some(url) = args.postgres.as_ref().filter(|u| !u.is_empty()) {
            measure("PostgreSQL", start_postgres(url).await, &args).await;
        }
        if let Some(url) = args.nats.as_ref().filter(|u| !u.is_empty()) {
            jetstream_figures(url, None, &args).await;
        }
        operations_figures(&args).await;
        app_pages().await;
    });
}

/// `cogov up`: start-up, the demo load, and the whole system's memory
/// under a load of reports and lists.
async fn operations_figures(args: &Args) {
    table("Operations: `cogov up` (every role in one process, SQLite)");
    match operations::measure(args.reports, args.reads).await {
        Ok(f) => {
            let s = |d: Duration| format!("{:.2} s", d.as_secs_f64());
            println!(
                "| first start to all roles healthy (migrations run) | {} |",
                s(f.first_healthy)
            );
            println!(
                "| first start to demo loaded and credentials printed | {} |",
                s(f.demo_loaded)
            );
            println!(
                "| restart to all roles healthy | {} |",
                s(f.restart_healthy)
            );
            figures(
                "ReportIssue through the gateway, concurrency 64, during the load",
                f.reports,
                "reports",
            );
            figures(
                "ListIssues through the gateway, concurrency 16, during the load",
                f.lists,
                "pages",
            );
            println!(
                "| resident memory after the demo load | {:.0} MB |",
                f.rss_idle_mb
            );
            println!(
                "| peak resident memory (VmHWM), whole system | {:.0} MB |",
                f.rss_peak_mb
            );
        }
        Err(e) => println!("| operations | not measured: {e} |"),
    }
}

async fn app_pages() {
    table("The residents' app: server time per page on `cogov up` (SQLite), sequential");
    if let Err(e) = app::measure().await {
        println!("| the residents' app | not measured: {e} |");
    }
}
