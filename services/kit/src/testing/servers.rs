//! The servers some tests need besides the test itself — PostgreSQL, NATS
//! with JetStream, Chromium, an S3 API (moto) — found or started here, or else skipped with a
//! notice that `cargo test` shows (libtest hides what a passing test prints,
//! so the notice goes to the process's stderr directly, once per test
//! binary and server).
//!
//! `cargo test --workspace` therefore passes on a machine with only a Rust
//! toolchain. `COGOV_REQUIRE_<SERVER>` (`COGOV_REQUIRE_POSTGRES`,
//! `COGOV_REQUIRE_NATS`, `COGOV_REQUIRE_BROWSER`, `COGOV_REQUIRE_S3`) turns a skip into a
//! failure: `.ci/run` sets them all, so CI never skips.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use super::POSTGRES_ENV;

/// A server a test may need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    /// A PostgreSQL server named by `COGOV_TEST_DATABASE_URL`.
    Postgres,
    /// NATS with JetStream: `COGOV_TEST_NATS_URL`, or a `nats-server` of the
    /// test's own.
    Nats,
    /// A Chromium for the browser tests.
    Browser,
    /// An S3 API: a `moto_server` of the test's own (PyPI's `moto[server]`).
    S3,
}

impl Server {
    const ALL: [Server; 4] = [Server::Postgres, Server::Nats, Server::Browser, Server::S3];

    /// The variable that makes tests needing this server fail rather than
    /// skip when it cannot be had.
    pub fn require_var(self) -> &'static str {
        match self {
            Server::Postgres => "COGOV_REQUIRE_POSTGRES",
            Server::Nats => "COGOV_REQUIRE_NATS",
            Server::Browser => "COGOV_REQUIRE_BROWSER",
            Server::S3 => "COGOV_REQUIRE_S3",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Server::Postgres => "PostgreSQL",
            Server::Nats => "NATS (JetStream)",
            Server::Browser => "Chromium",
            Server::S3 => "S3 (moto)",
        }
    }

    fn how_to_run(self) -> &'static str {
        match self {
            Server::Postgres => {
                "set COGOV_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres to run them"
            }
            Server::Nats => {
                "install nats-server (Debian: apt install nats-server) or set COGOV_TEST_NATS_URL to run them"
            }
            Server::Browser => {
                "install Chromium (Debian: apt install chromium) or set COGOV_CHROMIUM to run them"
            }
            Server::S3 => {
                "install moto's server (pip install 'moto[server]') or set COGOV_MOTO_SERVER to run them"
            }
        }
    }

    /// Whether this run must not skip tests that need the server.
    pub fn required(self) -> bool {
        std::env::var(self.require_var()).is_ok_and(|v| !v.is_empty() && v != "0")
    }
}

/// Gives up on `server` for the calling test: fails the test when the
/// server is required, and otherwise notes once per test binary that tests
/// needing it are skipped, and why.
pub fn skip(server: Server, why: &str) {
    assert!(
        !server.required(),
        "{} is set, but this test cannot have its {} server: {why}",
        server.require_var(),
        server.what()
    );
    static NOTED: [Once; 4] = [Once::new(), Once::new(), Once::new(), Once::new()];
    let index = Server::ALL.iter().position(|s| *s == server).unwrap_or(0);
    NOTED[index].call_once(|| {
        let _ = writeln!(
            std::io::stderr().lock(),
            "notice: {binary}: tests that need {what} are skipped: {why}; {how}",
            binary = test_binary(),
            what = server.what(),
            how = server.how_to_run(),
        );
    });
}

/// The test binary's package and name without cargo's hash
/// (`cogov-gateway/api`).
fn test_binary() -> String {
    let exe = std::env::current_exe().unwrap_or_default();
    let stem = exe
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match stem.rsplit_once('-') {
        Some((name, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => name.to_owned(),
        _ => stem,
    };
    // Cargo names the package in the environment of the tests it runs.
    match std::env::var("CARGO_PKG_NAME") {
        Ok(package) if package != name => format!("{package}/{name}"),
        _ => name,
    }
}

/// The PostgreSQL server for tests (`COGOV_TEST_DATABASE_URL`), or `None`
/// after [`skip`] when it is unset.
pub fn postgres_url() -> Option<String> {
    match std::env::var(POSTGRES_ENV) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            skip(Server::Postgres, &format!("{POSTGRES_ENV} is not set"));
            None
        }
    }
}

/// An executable named by `env_var`, or else the first of `names` found on
/// `PATH` or in the system folders Debian installs servers into.
fn find_program(env_var: &str, names: &[&str]) -> Option<PathBuf> {
    locate(
        std::env::var_os(env_var),
        names,
        &std::env::var_os("PATH").unwrap_or_default(),
    )
}

/// `explicit` when given (and executable: a named program that is missing
/// is not replaced by another), else the first of `names` on `path`.
fn locate(explicit: Option<OsString>, names: &[&str], path: &OsStr) -> Option<PathBuf> {
    if let Some(explicit) = explicit.filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(explicit)).filter(|p| is_executable(p));
    }
    let folders: Vec<PathBuf> = std::env::split_paths(path)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from))
        .collect();
    names
        .iter()
        .flat_map(|name| folders.iter().map(move |dir| dir.join(name)))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The Chromium the browser tests drive (`COGOV_CHROMIUM`, or `chromium`,
/// `chromium-browser`, `google-chrome` found on `PATH`), or `None` after
/// [`skip`].
pub fn chromium() -> Option<PathBuf> {
    let found = find_program(
        "COGOV_CHROMIUM",
        &[
            "chromium",
            "chromium-browser",
            "google-chrome",
            "google-chrome-stable",
        ],
    );
    if found.is_none() {
        skip(Server::Browser, "none found");
    }
    found
}

/// NATS with JetStream for one test: the server in `COGOV_TEST_NATS_URL`
/// when set, else a `nats-server -js` of the test's own (on `PATH` or
/// `COGOV_NATS_SERVER`) on a free loopback port with its store in a
/// temporary folder, stopped and removed when this is dropped.
#[derive(Debug)]
pub struct TestNats {
    url: String,
    _own: Option<OwnNats>,
}

#[derive(Debug)]
struct OwnNats {
    child: Child,
    dir: PathBuf,
}

/// How long a `nats-server` of our own may take to say it is ready.
const NATS_START_TIMEOUT: Duration = Duration::from_secs(20);

impl TestNats {
    /// NATS for the calling test, or `None` after [`skip`].
    pub async fn start() -> Option<TestNats> {
        if let Some(url) = std::env::var("COGOV_TEST_NATS_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            return Some(TestNats { url, _own: None });
        }
        let Some(program) = find_program("COGOV_NATS_SERVER", &["nats-server"]) else {
            skip(
                Server::Nats,
                "no nats-server found and COGOV_TEST_NATS_URL is not set",
            );
            return None;
        };
        // A port picked free can be taken before the server binds it: try
        // again on another.
        let mut last_log = String::new();
        for _ in 0..3 {
            match Self::spawn(&program).await {
                Ok(nats) => return Some(nats),
                Err(log) => last_log = log,
            }
        }
        panic!("{} did not start:\n{last_log}", program.display());
    }

    async fn spawn(program: &Path) -> Result<TestNats, String> {
        let dir =
            std::env::temp_dir().join(format!("cogov-nats-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("creating a folder for nats-server");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let log = dir.join("nats-server.log");
        let child = Command::new(program)
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(dir.join("store"))
            .arg("-l")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", program.display()));
        let mut own = OwnNats { child, dir };
        let started = Instant::now();
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.contains("Server is ready") {
                return Ok(TestNats {
                    url: format!("nats://127.0.0.1:{port}"),
                    _own: Some(own),
                });
            }
            let exited = own.child.try_wait().ok().flatten().is_some();
            if exited || started.elapsed() > NATS_START_TIMEOUT {
                return Err(text);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The server's URL, `nats://host:port`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The server's `host:port`, for a TCP connection of the test's own.
    pub fn host_port(&self) -> &str {
        self.url.strip_prefix("nats://").unwrap_or(&self.url)
    }
}

impl Drop for OwnNats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// An S3 API for one test: a `moto_server` of the test's own (on `PATH` or
/// `COGOV_MOTO_SERVER`) on a free loopback port, stopped when this is
/// dropped. It takes any credentials.
#[derive(Debug)]
pub struct TestS3 {
    endpoint: String,
    child: Child,
}

/// How long a `moto_server` may take to listen.
const MOTO_START_TIMEOUT: Duration = Duration::from_secs(30);

impl TestS3 {
    /// An S3 API for the calling test, or `None` after [`skip`].
    pub async fn start() -> Option<TestS3> {
        let Some(program) = find_program("COGOV_MOTO_SERVER", &["moto_server"]) else {
            skip(Server::S3, "no moto_server found");
            return None;
        };
        for _ in 0..3 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free loopback port")
                .port();
            let mut child = Command::new(&program)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("starting {}: {e}", program.display()));
            let started = Instant::now();
            loop {
                if tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .is_ok()
                {
                    return Some(TestS3 {
                        endpoint: format!("http://127.0.0.1:{port}"),
                        child,
                    });
                }
                if child.try_wait().ok().flatten().is_some()
                    || started.elapsed() > MOTO_START_TIMEOUT
                {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        panic!("{} did not start", program.display());
    }

    /// The endpoint, `http://127.0.0.1:port`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Creates `bucket` (moto takes an unsigned request).
    pub async fn create_bucket(&self, bucket: &str) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let host = self.endpoint.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(host).await.expect("moto");
        let request = format!(
            "PUT /{bucket} HTTP/1.1\r\nhost: {host}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.expect("moto");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.expect("moto");
        assert!(
            answer.starts_with("HTTP/1.1 200"),
            "creating {bucket}: {answer}"
        );
    }
}

impl Drop for TestS3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn finds_programs_only_where_they_are_executable() {
        let dir =
            std::env::temp_dir().join(format!("cogov-find-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let program = dir.join("cogov-test-program");
        std::fs::write(&program, "#!/bin/sh\n").unwrap();
        let path = dir.clone().into_os_string();
        let names = ["cogov-test-program"];

        assert_eq!(locate(None, &names, &path), None, "not executable yet");
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(locate(None, &names, &path), Some(program.clone()));
        assert_eq!(
            locate(Some(program.clone().into()), &["other"], OsStr::new("")),
            Some(program.clone())
        );
        // A program named explicitly wins, also when it is not there.
        let missing = dir.join("missing");
        assert_eq!(locate(Some(missing.into()), &names, &path), None);
        // A device is not a program (a bare-machine run hides servers so).
        assert_eq!(locate(Some("/dev/null".into()), &names, &path), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
