//! Operations: how long `cogov up` takes to be healthy, and how much
//! memory the whole system (one process) holds at its peak under load.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cogov_proto::issues::issues_service_client::IssuesServiceClient;
use cogov_proto::issues::{Issue, ListIssuesRequest, ReportIssueRequest};
use cogov_proto::organizations::ListCourtyardsRequest;
use cogov_proto::organizations::organizations_service_client::OrganizationsServiceClient;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use uuid::Uuid;

use crate::{Admin, Run, load};

/// What one round of `cogov up` measured.
pub struct Figures {
    /// From spawning the process to every role answering SERVING, on an
    /// empty data directory (migrations run), and on a second start.
    pub first_healthy: Duration,
    pub restart_healthy: Duration,
    /// From spawning to the banner, demo data loaded.
    pub demo_loaded: Duration,
    /// The load: reports and list calls through the gateway.
    pub reports: Run,
    pub lists: Run,
    /// Resident memory after the demo load, and the peak (VmHWM) after
    /// the load.
    pub rss_idle_mb: f64,
    pub rss_peak_mb: f64,
}

/// The `cogov` binary beside this one. Under `cargo run` it is (re)built
/// first with this build's profile, so that it is never older than the
/// code measured beside it.
pub(crate) fn binary() -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let cogov = me.with_file_name("cogov");
    if let Ok(cargo) = std::env::var("CARGO") {
        let profile = if cfg!(debug_assertions) {
            "dev"
        } else {
            "release"
        };
        eprintln!("building cogov ({profile}) for the operations figures");
        let status = Command::new(cargo)
            .args(["build", "--locked", "--profile", profile, "-p", "cogov"])
            .status()
            .map_err(|e| format!("cargo build: {e}"))?;
        if !status.success() {
            return Err(format!("cargo build -p cogov failed: {status}"));
        }
    }
    if cogov.exists() {
        Ok(cogov)
    } else {
        Err(format!(
            "{} is missing: cargo build -p cogov",
            cogov.display()
        ))
    }
}

/// A base port with the nine ports after it free.
fn free_base() -> u16 {
    (40000..60000)
        .step_by(10)
        .find(|base| (0..10).all(|i| TcpListener::bind(("127.0.0.1", base + i)).is_ok()))
        .expect("ten free ports")
}

pub(crate) struct Up {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
    /// The gateway's port.
    pub(crate) base: u16,
    /// The street admin token it printed, once read.
    pub(crate) token: String,
    /// The demo residents' numbers it printed, once read.
    pub(crate) residents: Vec<String>,
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Up {
    /// `cogov up` on a fresh data directory, its banner read and its
    /// residents' sign-in codes logged.
    pub(crate) async fn start_logging_codes() -> Result<Up, String> {
        let cogov = binary()?;
        let dir = std::env::temp_dir().join(format!("cogov-bench-app-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let base = free_base();
        let mut up = Up::spawn_logging(
            &cogov,
            &dir,
            base,
            "warn,cogov_gateway::residents::sender=info",
        );
        healthy(base).await;
        loop {
            let line = up
                .lines
                .recv_timeout(Duration::from_secs(120))
                .map_err(|_| "cogov up printed no banner within 120 s".to_owned())?;
            if let Some(t) = line.trim().strip_prefix("export COGOV_TOKEN=") {
                up.token = t.to_owned();
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            if let Some(i) = words.iter().position(|w| *w == "phone")
                && let Some(n) = words
                    .get(i + 1)
                    .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
            {
                up.residents.push((*n).to_owned());
            }
            if line.starts_with("Try:") {
                return Ok(up);
            }
        }
    }

    /// The next sign-in code the log shows.
    pub(crate) fn code(&self) -> Result<String, String> {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(20))
                .map_err(|_| "cogov up logged no sign-in code within 20 s".to_owned())?;
            if !line.contains("sign-in code") {
                continue;
            }
            // Colours out, then the six digits after `code=`.
            let mut plain = String::new();
            let mut in_escape = false;
            for c in line.chars() {
                match c {
                    '\u{1b}' => in_escape = true,
                    'm' if in_escape => in_escape = false,
                    _ if in_escape => {}
                    c => plain.push(c),
                }
            }
            if let Some(at) = plain.find("code=") {
                let code: String = plain[at + 5..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                if code.len() == 6 {
                    return Ok(code);
                }
            }
        }
    }

    fn spawn(cogov: &PathBuf, dir: &PathBuf, base: u16) -> Up {
        Up::spawn_logging(cogov, dir, base, "warn")
    }

    fn spawn_logging(cogov: &PathBuf, dir: &PathBuf, base: u16, log: &str) -> Up {
        let mut child = Command::new(cogov)
            .args(["up", "--base-port", &base.to_string(), "--data-dir"])
            .arg(dir)
            .env("COGOV_LOG", log)
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting cogov up");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Up {
            child,
            lines,
            base,
            token: String::new(),
            residents: Vec::new(),
        }
    }

    /// Waits for the banner; returns the admin token it printed.
    fn credentials(&self) -> Result<String, String> {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(120))
                .map_err(|_| "cogov up printed no admin token within 120 s".to_owned())?;
            if let Some(t) = line.trim().strip_prefix("export COGOV_TOKEN=") {
                return Ok(t.to_owned());
            }
        }
    }

    /// Megabytes of a `/proc/{pid}/status` line such as `VmHWM`.
    fn memory(&self, field: &str) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// Waits until every role of `cogov up` on `base` answers SERVING.
async fn healthy(base: u16) {
    // The gateway on base, the four services after it.
    for port in base..base + 5 {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        loop {
            if let Ok(ch) = Channel::from_shared(format!("http://{addr}"))
                .unwrap()
                .connect()
                .await
                && let Ok(r) = HealthClient::new(ch)
                    .check(HealthCheckRequest::default())
                    .await
                && r.into_inner().status == ServingStatus::Serving as i32
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

pub async fn measure(reports: usize, reads: usize) -> Result<Figures, String> {
    let cogov = binary()?;
    let dir = std::env::temp_dir().join(format!("cogov-bench-up-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let base = free_base();

    let started = Instant::now();
    let up = Up::spawn(&cogov, &dir, base);
    healthy(base).await;
    let first_healthy = started.elapsed();
    let token = up.credentials()?;
    let demo_loaded = started.elapsed();
    let rss_idle_mb = up.memory("VmRSS");

    let gateway = Channel::from_shared(format!("http://127.0.0.1:{base}"))
        .unwrap()
        .connect()
        .await
        .map_err(|e| e.to_string())?;
    let admin = Admin::Bearer(token);
    let courtyards: Vec<String> =
        OrganizationsServiceClient::with_interceptor(gateway.clone(), admin.clone())
            .list_courtyards(ListCourtyardsRequest {
                page_size: 50,
                ..Default::default()
            })
            .await
            .map_err(|e| e.to_string())?
            .into_inner()
            .courtyards
            .into_iter()
            .map(|c| c.name)
            .collect();
    let client = IssuesServiceClient::with_interceptor(gateway, admin);
    let writer = {
        let client = client.clone();
        let courtyards = std::sync::Arc::new(courtyards);
        load(reports, 64, move |t, i| {
            let mut c = client.clone();
            let courtyard = courtyards[(t * 7 + i) % courtyards.len()].clone();
            async move {
                c.report_issue(ReportIssueRequest {
                    issue: Some(Issue {
                        courtyard,
                        sub_item: "subItems/roof_leak".into(),
                        title: "load".into(),
                        ..Default::default()
                    }),
                    request_id: Uuid::new_v4().to_string(),
                })
                .await
                .expect("report through the gateway");
            }
        })
    };
    let reader = {
        let client = client.clone();
        load(reads * 10, 16, move |_, _| {
            let mut c = client.clone();
            async move {
                c.list_issues(ListIssuesRequest {
                    page_size: 50,
                    ..Default::default()
                })
                .await
                .expect("list through the gateway");
            }
        })
    };
    let (mut reports, mut lists) = tokio::join!(writer, reader);
    // The servers ran in the other process.
    (reports.cpu, lists.cpu) = (None, None);
    let rss_peak_mb = up.memory("VmHWM");
    up.stop();

    let started = Instant::now();
    let again = Up::spawn(&cogov, &dir, base);
    healthy(base).await;
    let restart_healthy = started.elapsed();
    // Stopped once it is done starting, not in the middle of it.
    again.credentials()?;
    again.stop();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Figures {
        first_healthy,
        restart_healthy,
        demo_loaded,
        reports,
        lists,
        rss_idle_mb,
        rss_peak_mb,
    })
}
