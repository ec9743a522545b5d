//! What the fault and replica tests share: `cogov serve` processes that can
//! be killed and restarted, TCP middlemen that can cut or spread their
//! connections, and counting straight from the databases.

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use cogov_kit::clock::Clock;
use cogov_proto::organizations as org;
use cogov_proto::organizations::organizations_service_client::OrganizationsServiceClient;

use crate::{Bearer, KillOnDrop, free_port};

/// The parts of the PostgreSQL URL the test was given that it rewrites:
/// `postgres://{user}@{host_port}/{database}?{query}`.
pub struct PostgresUrl {
    scheme_and_user: String,
    pub host_port: String,
    query: String,
}

impl PostgresUrl {
    pub fn parse(url: &str) -> PostgresUrl {
        let (scheme, rest) = url.split_once("://").expect("a postgres:// URL");
        let (authority, tail) = rest.split_once('/').unwrap_or((rest, ""));
        let (user, host_port) = match authority.rsplit_once('@') {
            Some((user, host)) => (format!("{user}@"), host),
            None => (String::new(), authority),
        };
        let host_port = if host_port.contains(':') {
            host_port.to_owned()
        } else {
            format!("{host_port}:5432")
        };
        let query = tail.split_once('?').map(|(_, q)| format!("?{q}"));
        PostgresUrl {
            scheme_and_user: format!("{scheme}://{user}"),
            host_port,
            query: query.unwrap_or_default(),
        }
    }

    /// The same server's `database`, reached at `host_port`.
    pub fn with(&self, host_port: &str, database: &str) -> String {
        format!(
            "{}{host_port}/{database}{}",
            self.scheme_and_user, self.query
        )
    }
}

/// A TCP relay to PostgreSQL that can go away and come back, as a
/// restarted server does for its clients.
pub struct Relay {
    pub port: u16,
    upstream: String,
    cut: std::sync::Mutex<CancellationToken>,
}

impl Relay {
    pub async fn start(upstream: String) -> Arc<Relay> {
        let relay = Arc::new(Relay {
            port: free_port(),
            upstream,
            cut: std::sync::Mutex::new(CancellationToken::new()),
        });
        relay.listen().await;
        relay
    }

    async fn listen(&self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("binding the PostgreSQL relay");
        let cut = self.cut.lock().unwrap().clone();
        let upstream = self.upstream.clone();
        tokio::spawn(async move {
            loop {
                let (mut client, _) = tokio::select! {
                    () = cut.cancelled() => return,
                    accepted = listener.accept() => match accepted {
                        Ok(a) => a,
                        Err(_) => continue,
                    },
                };
                let (cut, upstream) = (cut.clone(), upstream.clone());
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        () = cut.cancelled() => {}
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                    }
                });
            }
        });
    }

    /// Drops every connection and refuses new ones for `down`.
    pub async fn restart(&self, down: Duration) {
        let old = std::mem::replace(&mut *self.cut.lock().unwrap(), CancellationToken::new());
        old.cancel();
        tokio::time::sleep(down).await;
        self.listen().await;
    }
}

/// One `cogov serve` process, restartable on the same port.
pub struct Role {
    pub name: &'static str,
    pub port: u16,
    pub env: Vec<(String, String)>,
    pub child: Option<KillOnDrop>,
    /// Where its warnings go (every start appends), to show on a failure.
    pub log: std::path::PathBuf,
}

impl Role {
    pub fn start(&mut self) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cogov"));
        command
            .args(["serve", self.name])
            .env("COGOV_LISTEN", format!("127.0.0.1:{}", self.port))
            .env("COGOV_METRICS_LISTEN", "127.0.0.1:0")
            .env("COGOV_LOG", "warn");
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("the role's log");
        use std::io::Write;
        let _ = writeln!(log, "--- {} starts at {}", self.name, chrono::Utc::now());
        // Logs go to standard output; panics to standard error.
        command
            .stdout(log.try_clone().expect("the role's log"))
            .stderr(log);
        for (k, v) in &self.env {
            command.env(k, v);
        }
        self.child = Some(KillOnDrop(command.spawn().expect("starting cogov serve")));
    }

    /// What it logged, for a failure's message.
    pub fn logged(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn kill(&mut self) {
        // KillOnDrop sends SIGKILL and reaps.
        self.child = None;
    }

    /// SIGTERM, then waits (off the runtime's threads) for the drain to
    /// end.
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let pid = child.0.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        tokio::task::spawn_blocking(move || child.0.wait().unwrap())
            .await
            .unwrap()
    }

    pub fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://127.0.0.1:{}", self.port))
            .unwrap()
            .connect_lazy()
    }

    pub async fn ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let status = HealthClient::new(self.channel())
                .check(HealthCheckRequest {
                    service: cogov_kit::server::READINESS.into(),
                })
                .await
                .map(|r| r.into_inner().status);
            if status.is_ok_and(|s| s == ServingStatus::Serving as i32) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} never became ready",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

pub async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

pub async fn strings(db: &DatabaseConnection, sql: &str) -> Vec<String> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect()
}

/// A TCP balancer in front of a service's replicas, as a Kubernetes
/// Service is: each new connection goes to the next replica that accepts
/// it, and lives and dies with that replica.
pub struct Balancer {
    pub port: u16,
}

impl Balancer {
    pub async fn start(upstreams: Vec<u16>) -> Balancer {
        let port = free_port();
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("binding the balancer");
        tokio::spawn(async move {
            let mut next = 0usize;
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                let start = next;
                next = next.wrapping_add(1);
                let upstreams = upstreams.clone();
                tokio::spawn(async move {
                    for i in 0..upstreams.len() {
                        let port = upstreams[(start + i) % upstreams.len()];
                        if let Ok(mut server) =
                            tokio::net::TcpStream::connect(("127.0.0.1", port)).await
                        {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                            return;
                        }
                    }
                });
            }
        });
        Balancer { port }
    }

    pub fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://127.0.0.1:{}", self.port))
            .unwrap()
            .connect_lazy()
    }
}

/// A street admin's staff token, signed with the gateways' `secret`.
pub fn staff(secret: &str) -> Bearer {
    let token = cogov_gateway::StaffTokens::shared_secret(
        secret.as_bytes(),
        "cogov",
        "cogov-gateway",
        Clock::system(),
    )
    .issue("system-test", "street_admin", "", 3600)
    .unwrap();
    Bearer(token)
}

/// A street, a community and a courtyard, made through `gateway`; the
/// courtyard's name.
pub async fn a_courtyard(gateway: Channel, staff: Bearer) -> String {
    let mut orgs = OrganizationsServiceClient::with_interceptor(gateway, staff);
    let street = orgs
        .create_street(org::CreateStreetRequest {
            street: Some(org::Street {
                display_name: "Niujie".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let community = orgs
        .create_community(org::CreateCommunityRequest {
            community: Some(org::Community {
                street: street.name,
                display_name: "牛街东里".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    orgs.create_courtyard(org::CreateCourtyardRequest {
        courtyard: Some(org::Courtyard {
            community: community.name,
            display_name: "10号院".into(),
            kind: org::CourtyardKind::Estate as i32,
            ..Default::default()
        }),
        request_id: String::new(),
    })
    .await
    .unwrap()
    .into_inner()
    .name
}

/// A test's own databases (organizations, issues, gateway), event streams
/// and log folder, all named after its tag, and removed by
/// [`Scene::clean_up`] (left behind on a failure, for a look).
pub struct Scene {
    pub tag: String,
    pub admin: DatabaseConnection,
    /// The databases of the organizations, issues and gateway roles.
    pub databases: [String; 3],
    pub logs: std::path::PathBuf,
    nats_url: String,
}

impl Scene {
    pub async fn create(kind: &str, admin_url: &str, nats_url: &str) -> Scene {
        let tag = format!("{kind}_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(admin_url).await.unwrap();
        let databases = ["organizations", "issues", "gateway"].map(|r| format!("{tag}_{r}"));
        for db in &databases {
            admin
                .execute_unprepared(&format!("CREATE DATABASE {db}"))
                .await
                .unwrap();
        }
        let logs = std::env::temp_dir().join(&tag);
        std::fs::create_dir_all(&logs).unwrap();
        Scene {
            tag,
            admin,
            databases,
            logs,
            nats_url: nats_url.to_owned(),
        }
    }

    pub async fn clean_up(self) {
        if let Ok(bus) =
            cogov_kit::events::jetstream::JetStreamBus::connect(&self.nats_url, &self.tag).await
        {
            let _ = bus.delete().await;
        }
        for db in &self.databases {
            let _ = self
                .admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                .await;
        }
        let _ = std::fs::remove_dir_all(&self.logs);
    }
}

/// A count from the environment variable `name`, or `default`.
pub fn count_from_env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}
