//! The residents' app under a street's weight: `cogov up` with the demo,
//! a courtyard given 2,000 more issues and a topic 5,000 opinions, then the
//! server's time for each page a resident opens (HTTP/1.1 on a fresh
//! connection, as a phone would after a while), and the bytes it sends.
//! Decidim's tracker reports a 150-comment debate taking minutes and 900
//! proposals 7 s; the target here is p99 ≤ 100 ms for every page.

use std::time::{Duration, Instant};

use cogov_proto::issues::issues_service_client::IssuesServiceClient;
use cogov_proto::issues::{Issue, ReportIssueRequest};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::transport::Channel;

use crate::operations::Up;
use crate::{Admin, ms, percentiles};

/// Issues added to the resident's courtyard.
const ISSUES: usize = 2_000;
/// Opinions added to the topic.
const OPINIONS: usize = 5_000;
/// Requests timed per page.
const ROUNDS: usize = 200;

/// One exchange; the status, the body, and how long until the whole
/// answer was read.
async fn exchange(
    addr: &str,
    method: &str,
    path: &str,
    cookie: &str,
    body: &str,
) -> (u16, String, Duration) {
    let started = Instant::now();
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("the gateway");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncookie: {cookie}\r\n"
    );
    if !body.is_empty() {
        request.push_str("content-type: application/x-www-form-urlencoded\r\n");
    }
    request.push_str(&format!("content-length: {}\r\n\r\n{body}", body.len()));
    stream
        .write_all(request.as_bytes())
        .await
        .expect("a request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("an answer");
    let took = started.elapsed();
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let cookies: Vec<&str> = head
        .lines()
        .filter_map(|l| l.strip_prefix("set-cookie: "))
        .filter_map(|c| c.split(';').next())
        .collect();
    let body = if cookies.is_empty() {
        body.to_owned()
    } else {
        format!("{}\n{body}", cookies.join("; "))
    };
    (status, body, took)
}

/// The value of `name="field"`'s `value` in a page.
fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    html.split(&marker)
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_default()
        .replace("&#34;", "\"")
}

fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Signs a demo resident in through the app; their session cookie.
async fn sign_in(addr: &str, up: &Up, phone: &str) -> Result<String, String> {
    let (_, page, _) = exchange(addr, "GET", "/app/sign-in", "", "").await;
    let form_cookie = page.lines().next().unwrap_or_default().to_owned();
    let csrf = field(&page, "csrf");
    let (_, asked, _) = exchange(
        addr,
        "POST",
        "/app/sign-in",
        &form_cookie,
        &format!("csrf={csrf}&phone={phone}"),
    )
    .await;
    let form_cookie = asked.lines().next().unwrap_or_default().to_owned();
    let code = up.code()?;
    let (status, answer, _) = exchange(
        addr,
        "POST",
        "/app/sign-in/code",
        &form_cookie,
        &format!("csrf={}&phone={phone}&code={code}", field(&asked, "csrf")),
    )
    .await;
    answer
        .lines()
        .next()
        .and_then(|l| l.split("; ").find(|c| c.starts_with("cogov_resident=")))
        .map(str::to_owned)
        .ok_or_else(|| format!("the app's sign-in answered {status}"))
}

/// Times `ROUNDS` GETs of `path`: a table row.
async fn time_page(addr: &str, cookie: &str, what: &str, path: &str) {
    let mut times = Vec::with_capacity(ROUNDS);
    let mut bytes = 0;
    for _ in 0..ROUNDS {
        let (status, body, took) = exchange(addr, "GET", path, cookie, "").await;
        assert_eq!(status, 200, "{path}: {body}");
        bytes = body.len();
        times.push(took);
    }
    let (p50, p99) = percentiles(times);
    println!(
        "| {what} | p50 {}, p99 {}, {:.1} KB of HTML |",
        ms(p50),
        ms(p99),
        bytes as f64 / 1024.0
    );
}

pub async fn measure() -> Result<(), String> {
    let up = Up::start_logging_codes().await?;
    let addr = format!("127.0.0.1:{}", up.base);
    let phone = up
        .residents
        .first()
        .ok_or("cogov up named no demo resident")?
        .clone();
    let cookie = sign_in(&addr, &up, &phone).await?;

    // Their courtyard gets 2,000 more problems, reported by staff.
    let (_, report, _) = exchange(&addr, "GET", "/app/report", &cookie, "").await;
    let courtyard = report
        .split("<option value=\"")
        .filter_map(|o| o.split_once("\" selected"))
        .map(|(name, _)| name.to_owned())
        .next()
        .ok_or("the report form names no courtyard of theirs")?;
    let gateway = Channel::from_shared(format!("http://{addr}"))
        .map_err(|e| e.to_string())?
        .connect()
        .await
        .map_err(|e| e.to_string())?;
    let issues = IssuesServiceClient::with_interceptor(gateway, Admin::Bearer(up.token.clone()));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..16 {
        let mut c = issues.clone();
        let courtyard = courtyard.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..ISSUES / 16 {
                c.report_issue(ReportIssueRequest {
                    issue: Some(Issue {
                        courtyard: courtyard.clone(),
                        sub_item: "subItems/public_hygiene".into(),
                        title: format!("bench {t}-{i}"),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await
                .expect("a report");
            }
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())?;
    }
    let seeded_issues = started.elapsed();

    // The open poll's topic gets 5,000 opinions, through the app's form.
    let (_, council, _) = exchange(&addr, "GET", "/app/council", &cookie, "").await;
    let topic = council
        .split("href=\"/app/topics/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .ok_or("the council page lists no topic")?
        .to_owned();
    let topic_path = format!("/app/topics/{topic}");
    let (_, page, _) = exchange(&addr, "GET", &topic_path, &cookie, "").await;
    let csrf = field(&page, "csrf");
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..8 {
        let (addr, cookie, csrf, path) = (
            addr.clone(),
            cookie.clone(),
            csrf.clone(),
            format!("{topic_path}/opinion"),
        );
        tasks.push(tokio::spawn(async move {
            for i in 0..OPINIONS / 8 {
                let body = format!(
                    "csrf={}&request_id={}&stance=STANCE_SUPPORT&text={}",
                    encode(&csrf),
                    uuid::Uuid::new_v4(),
                    encode(&format!("意见 {t}-{i}：先修屋顶，再装灯")),
                );
                let (status, answer, _) = exchange(&addr, "POST", &path, &cookie, &body).await;
                assert_eq!(status, 303, "an opinion: {answer}");
            }
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())?;
    }
    let seeded_opinions = started.elapsed();

    println!(
        "| seeding: {ISSUES} issues in one courtyard through the gateway; {OPINIONS} opinions through the app's form | {:.1} s; {:.1} s |",
        seeded_issues.as_secs_f64(),
        seeded_opinions.as_secs_f64()
    );
    let (_, reports, _) = exchange(&addr, "GET", "/app/reports", &cookie, "").await;
    let issue = reports
        .split("href=\"/app/issues/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .map(|id| format!("/app/issues/{id}"));
    time_page(
        &addr,
        &cookie,
        "my courtyard (2,000+ issues there, the open ones paged)",
        "/app/home",
    )
    .await;
    time_page(
        &addr,
        &cookie,
        &format!("a topic with {OPINIONS} opinions (first page, with replies)"),
        &topic_path,
    )
    .await;
    time_page(
        &addr,
        &cookie,
        "the council (open polls, topics)",
        "/app/council",
    )
    .await;
    time_page(&addr, &cookie, "report a problem (the form)", "/app/report").await;
    time_page(&addr, &cookie, "my reports", "/app/reports").await;
    if let Some(issue) = issue {
        time_page(&addr, &cookie, "one of my reports (timeline)", &issue).await;
    }
    time_page(&addr, &cookie, "activities", "/app/activities").await;
    time_page(&addr, &cookie, "inbox", "/app/inbox").await;
    Ok(())
}
