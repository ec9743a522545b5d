//! Helpers for services' integration tests: a fresh database per test
//! (SQLite always, PostgreSQL when `COGOV_TEST_DATABASE_URL` is set), a
//! server on a loopback port, signed principals, and the other servers some
//! tests need ([`servers`]).

pub mod phones;
pub mod polls;
pub mod servers;

use std::net::SocketAddr;
use std::path::PathBuf;

use sea_orm::{ConnectionTrait, Database};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::service::Interceptor;
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::StatusExt;
use uuid::Uuid;

use crate::auth::{Authenticator, Principal};
use crate::names;
use crate::server::{RoleServer, ShutdownTimings};

/// The environment variable naming the PostgreSQL server for tests, e.g.
/// `postgres://postgres@127.0.0.1:5432/postgres`.
pub const POSTGRES_ENV: &str = "COGOV_TEST_DATABASE_URL";

/// A database that exists for one test and is removed afterwards, also
/// when the test panics.
#[derive(Debug)]
pub struct TestDb {
    /// Connection URL for the service.
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Dir(PathBuf),
    Postgres { admin_url: String, database: String },
}

impl TestDb {
    /// A new SQLite database in a temporary directory.
    pub fn sqlite() -> TestDb {
        let dir =
            std::env::temp_dir().join(format!("cogov-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("creating a temporary directory");
        TestDb {
            url: format!("sqlite://{}?mode=rwc", dir.join("test.db").display()),
            cleanup: Cleanup::Dir(dir),
        }
    }

    /// A new PostgreSQL database on the server in `COGOV_TEST_DATABASE_URL`,
    /// or `None` when it is unset (the test then skips, with a notice, unless
    /// `COGOV_REQUIRE_POSTGRES` is set: see [`servers`]).
    pub async fn postgres() -> Option<TestDb> {
        let admin_url = servers::postgres_url()?;
        Some(Self::postgres_at(&admin_url).await)
    }

    /// A new PostgreSQL database on the server at `admin_url`.
    pub async fn postgres_at(admin_url: &str) -> TestDb {
        let admin_url = admin_url.to_owned();
        let database = format!("cogov_test_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("connecting to {POSTGRES_ENV}: {e}"));
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{database}\""))
            .await
            .expect("creating the test database");
        admin.close().await.ok();
        let url = with_database(&admin_url, &database);
        TestDb {
            url,
            cleanup: Cleanup::Postgres {
                admin_url,
                database,
            },
        }
    }
}

fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres {
                admin_url,
                database,
            } => {
                let (admin_url, database) = (admin_url.clone(), database.clone());
                // Drop runs inside the test's runtime: use a thread of our own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .ok()?;
                    rt.block_on(async {
                        let admin = Database::connect(&admin_url).await.ok()?;
                        admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"
                            ))
                            .await
                            .ok()?;
                        admin.close().await.ok()
                    })
                })
                .join();
            }
        }
    }
}

/// A role's server running on a loopback port for a test.
#[derive(Debug)]
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// A channel to it.
    pub channel: Channel,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
}

impl TestServer {
    /// Starts `server` on 127.0.0.1 with an ephemeral port.
    pub async fn start(server: RoleServer) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding a loopback port");
        let addr = listener.local_addr().expect("bound address");
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(server.run(listener, shutdown.clone(), ShutdownTimings::default()));
        let channel = Channel::from_shared(format!("http://{addr}"))
            .expect("a valid URI")
            .connect()
            .await
            .expect("connecting to the test server");
        TestServer {
            addr,
            channel,
            shutdown,
            task,
        }
    }

    /// Shuts the server down gracefully and waits for it.
    pub async fn stop(self) {
        self.shutdown.cancel();
        let _ = self.task.await;
    }
}

/// Adds a signed principal (or nothing) to every call, as the gateway does.
#[derive(Clone)]
pub struct SignedAs {
    auth: Authenticator,
    principal: Option<Principal>,
}

impl std::fmt::Debug for SignedAs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SignedAs").field(&self.principal).finish()
    }
}

impl SignedAs {
    /// Calls as `principal`, or with no credentials at all.
    pub fn new(auth: Authenticator, principal: Option<Principal>) -> Self {
        Self { auth, principal }
    }
}

impl Interceptor for SignedAs {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        if let Some(p) = &self.principal {
            self.auth
                .attach(request.metadata_mut(), p, chrono::Duration::seconds(60));
        }
        Ok(request)
    }
}

/// A street admin.
pub fn street_admin() -> Principal {
    Principal::StreetAdmin {
        subject: "admin".into(),
    }
}

/// The community admin of `community` (a `communities/…` name).
pub fn community_admin(community: &str) -> Principal {
    Principal::CommunityAdmin {
        subject: "c-admin".into(),
        community: id(community),
    }
}

/// The partner `organization` (an `organizations/…` name).
pub fn partner(organization: &str) -> Principal {
    Principal::Partner {
        organization: id(organization),
        key: "k".into(),
    }
}

/// The resident `person` (a `persons/…` name).
pub fn resident(person: &str) -> Principal {
    Principal::resident(id(person))
}

/// The UUID of a canonical resource name.
pub fn id(name: &str) -> Uuid {
    let (collection, _) = name.split_once('/').expect("a resource name");
    names::parse(collection, name).expect("a canonical name")
}

/// A fresh request id.
pub fn request_id() -> String {
    Uuid::new_v4().to_string()
}

/// An update mask of `paths`.
pub fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|p| p.to_string()).collect(),
    })
}

/// Asserts the status code and the ErrorInfo reason.
#[track_caller]
pub fn assert_status<T: std::fmt::Debug>(
    result: Result<T, Status>,
    code: Code,
    reason: &str,
) -> Status {
    let status = result.expect_err("expected an error");
    assert_eq!(status.code(), code, "{status:?}");
    let details = status.get_error_details();
    let info = details
        .error_info()
        .unwrap_or_else(|| panic!("no ErrorInfo on {status:?}"));
    assert_eq!(info.reason, reason, "{status:?}");
    status
}

/// Asserts INVALID_ARGUMENT with a field violation naming `field`.
#[track_caller]
pub fn assert_bad_field<T: std::fmt::Debug>(result: Result<T, Status>, field: &str) {
    let status = assert_status(result, Code::InvalidArgument, "INVALID_FIELD");
    let details = status.get_error_details();
    let bad = details
        .bad_request()
        .unwrap_or_else(|| panic!("no BadRequest on {status:?}"));
    assert!(
        bad.field_violations.iter().any(|v| v.field == field),
        "no violation for {field} in {:?}",
        bad.field_violations
    );
}

/// Authorisation matrices: every RPC of a service, enumerated from the
/// descriptor set, called as every kind of principal, each with its
/// expected outcome (`ok`, `hid` — a list without the target, `deny` —
/// PERMISSION_DENIED, `anon` — UNAUTHENTICATED).
pub mod matrix {
    use std::collections::BTreeSet;
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;

    use prost::Message;
    use tonic::{Code, Status};

    /// What a call showed.
    #[derive(Debug, PartialEq, Eq)]
    pub enum Seen {
        /// It succeeded.
        Done,
        /// A list succeeded; whether the target was in it.
        Listed(bool),
    }

    /// A call's outcome ignored but for success.
    pub fn done<T>(_: T) -> Seen {
        Seen::Done
    }

    /// Whether `target` is among `names`.
    pub fn listed(names: impl IntoIterator<Item = String>, target: &str) -> Seen {
        Seen::Listed(names.into_iter().any(|n| n == target))
    }

    /// A case body: (client as the principal, fixture, a street admin's client).
    pub type Run<C, F> =
        Box<dyn Fn(C, Arc<F>, C) -> Pin<Box<dyn Future<Output = Result<Seen, Status>> + Send>>>;

    /// One RPC's case.
    pub struct Case<C, F> {
        /// The RPC's name, e.g. `GetCourtyard`.
        pub method: &'static str,
        /// One outcome per principal, space separated.
        pub expect: &'static str,
        /// The call.
        pub run: Run<C, F>,
    }

    /// The RPCs of `service` in `package`, from the contracts.
    pub fn service_methods(package: &str, service: &str) -> BTreeSet<String> {
        let fds = prost_types::FileDescriptorSet::decode(cogov_proto::FILE_DESCRIPTOR_SET)
            .expect("descriptor set");
        fds.file
            .iter()
            .filter(|f| f.package() == package)
            .flat_map(|f| f.service.iter())
            .filter(|s| s.name() == service)
            .flat_map(|s| s.method.iter().map(|m| m.name().to_owned()))
            .collect()
    }

    /// Fails unless the cases cover exactly the service's RPCs.
    #[track_caller]
    pub fn assert_covers<C, F>(cases: &[Case<C, F>], package: &str, service: &str) {
        let covered: BTreeSet<String> = cases.iter().map(|c| c.method.to_owned()).collect();
        let methods = service_methods(package, service);
        assert!(!methods.is_empty(), "no RPCs found for {package}.{service}");
        let missing: Vec<_> = methods.difference(&covered).collect();
        assert!(
            missing.is_empty(),
            "RPCs without an authorisation case: {missing:?}"
        );
        let unknown: Vec<_> = covered.difference(&methods).collect();
        assert!(
            unknown.is_empty(),
            "cases for RPCs that do not exist: {unknown:?}"
        );
    }

    /// Runs every case as every principal; panics listing every mismatch.
    pub async fn run<C: Clone, F>(
        cases: Vec<Case<C, F>>,
        principals: &[(&str, C)],
        admin: &C,
        fixture: Arc<F>,
    ) {
        let mut failures = Vec::new();
        for case in cases {
            let expected: Vec<&str> = case.expect.split_whitespace().collect();
            assert_eq!(
                expected.len(),
                principals.len(),
                "{}: one outcome per principal",
                case.method
            );
            for ((who, client), want) in principals.iter().zip(expected) {
                let got = (case.run)(client.clone(), fixture.clone(), admin.clone()).await;
                let ok = match (want, &got) {
                    ("ok", Ok(Seen::Done | Seen::Listed(true))) => true,
                    ("hid", Ok(Seen::Listed(false))) => true,
                    ("deny", Err(s)) => s.code() == Code::PermissionDenied,
                    ("anon", Err(s)) => s.code() == Code::Unauthenticated,
                    _ => false,
                };
                if !ok {
                    failures.push(format!(
                        "{} as {who}: expected {want}, got {got:?}",
                        case.method
                    ));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "authorisation matrix:\n{}",
            failures.join("\n")
        );
    }
}

/// One authorisation case:
/// `authz_case!(Client, Fixture, "GetX", "ok deny …", |c, fixture, admin| body)`.
/// In the body, `c` calls as the principal under test and `admin` as a
/// street admin (for setting up fresh targets).
#[macro_export]
macro_rules! authz_case {
    ($client:ty, $fixture:ty, $method:literal, $expect:expr, |$c:ident, $f:ident, $admin:ident| $body:expr) => {
        $crate::testing::matrix::Case {
            method: $method,
            expect: $expect,
            #[allow(unused_variables)]
            run: Box::new(
                |$c: $client, $f: std::sync::Arc<$fixture>, $admin: $client| {
                    #[allow(unused_mut)]
                    let mut $c = $c;
                    #[allow(unused_mut, unused_variables)]
                    let mut $admin = $admin;
                    Box::pin(async move { $body })
                },
            ),
        }
    };
}

/// The residents' notices a service's outbox holds, oldest first.
pub async fn notices_in_outbox(db: &crate::db::Db) -> Vec<cogov_proto::common::ResidentNotice> {
    use prost::{Message, Name};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

    use crate::events::outbox::entity::{Column, Entity};
    Entity::find()
        .filter(Column::EventType.eq(cogov_proto::common::ResidentNotice::full_name()))
        .order_by_asc(Column::Seq)
        .all(db.read())
        .await
        .expect("reading the outbox")
        .iter()
        .map(|row| {
            let event = cogov_proto::common::Event::decode(row.envelope.as_slice()).unwrap();
            crate::events::payload(&event).unwrap()
        })
        .collect()
}

/// Runs scenarios on SQLite and, when `COGOV_TEST_DATABASE_URL` names a
/// server, on PostgreSQL: each `scenario(env)` becomes a module with a
/// `sqlite` and a `postgres` test, where `env` is `$start(organizations_db,
/// own_db).await` (a service with the organizations service beside it).
#[macro_export]
macro_rules! on_both_databases {
    ($start:path; $($scenario:ident),* $(,)?) => {
        $(
            mod $scenario {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let env = $start(
                        $crate::testing::TestDb::sqlite(),
                        $crate::testing::TestDb::sqlite(),
                    )
                    .await;
                    super::$scenario(env).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some(orgs) = $crate::testing::TestDb::postgres().await else {
                        return;
                    };
                    let own = $crate::testing::TestDb::postgres().await.unwrap();
                    super::$scenario($start(orgs, own).await).await;
                }
            }
        )*
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn swaps_the_database_of_a_url() {
        assert_eq!(
            super::with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            super::with_database("postgres://h:5432", "t1"),
            "postgres://h:5432/t1"
        );
        assert_eq!(
            super::with_database("postgres://h/db?sslmode=disable", "t1"),
            "postgres://h/t1?sslmode=disable"
        );
    }
}
