//! The staff console in a real browser: Debian's Chromium, headless, driven
//! over the DevTools protocol against `cogov up` with the Niujie demo, signed
//! in with the logins `cogov up` prints.
//!
//! Chromium comes from `.ci/run` (apt packages chromium, chromium-driver),
//! or `COGOV_CHROMIUM` names one. Without it the test says so and passes,
//! unless `COGOV_REQUIRE_BROWSER` is set, as CI sets it. Screenshots of the dashboard and an issue page,
//! desktop and phone, go to `screenshots/console/` (`COGOV_SCREENSHOTS`
//! overrides), which CI keeps.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chromiumoxide::cdp::browser_protocol::emulation::{
    ClearDeviceMetricsOverrideParams, SetDeviceMetricsOverrideParams,
};
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::{Browser, BrowserConfig, Page};
use cogov_proto::common::StaffRole;
use cogov_proto::gateway::gateway_service_client::GatewayServiceClient;
use cogov_proto::gateway::*;
use cogov_proto::issues::issues_service_client::IssuesServiceClient;
use cogov_proto::issues::*;
use cogov_proto::organizations::organizations_service_client::OrganizationsServiceClient;
use cogov_proto::organizations::*;
use futures_util::StreamExt;
use tonic::transport::Channel;

use crate::{Bearer, KillOnDrop, free_ports};

/// What `cogov up` printed.
pub(crate) struct Up {
    _child: KillOnDrop,
    pub(crate) console: String,
    pub(crate) gateway: Channel,
    pub(crate) token: String,
    logins: Vec<(String, String)>,
    /// The demo residents' numbers, in the banner's order.
    pub(crate) residents: Vec<String>,
    /// The demo property firm's API key.
    pub(crate) firm_key: Option<String>,
    /// The sign-in codes its log shows, as they come.
    pub(crate) codes: std::sync::Mutex<std::sync::mpsc::Receiver<String>>,
}

impl Up {
    /// The console password `cogov up` printed for `username`.
    pub(crate) fn password(&self, username: &str) -> String {
        self.logins
            .iter()
            .find(|(u, _)| u == username)
            .map(|(_, p)| p.clone())
            .unwrap_or_else(|| panic!("cogov up printed no login for {username}"))
    }
}

/// The six digits after `code=` in a log line (its colours taken out).
fn code_in(line: &str) -> Option<String> {
    let mut plain = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    let at = plain.find("code=")? + 5;
    let digits: String = plain[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (digits.len() == 6).then_some(digits)
}

pub(crate) async fn start_up(dir: &Path) -> Up {
    let port = free_ports(10) + 1;
    let mut child = Command::new(env!("CARGO_BIN_EXE_cogov"))
        .args(["up", "--base-port", &(port - 1).to_string(), "--data-dir"])
        .arg(dir)
        .env("COGOV_LOG", "warn,cogov_gateway::residents::sender=info")
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting cogov up");
    let stdout = child.stdout.take().unwrap();
    let child = KillOnDrop(child);
    let (code_tx, codes) = std::sync::mpsc::channel();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // The log comes on the same stream as the banner.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("sign-in code") {
                if let Some(code) = code_in(&line) {
                    let _ = code_tx.send(code);
                }
            } else {
                let _ = tx.send(line);
            }
        }
    });
    let (mut console, mut token, mut logins, mut residents) = (None, None, Vec::new(), Vec::new());
    let mut firm_key = None;
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(90))
            .expect("cogov up printed its banner");
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.first() == Some(&"console") {
            console = words.get(1).map(|s| s.to_string());
        }
        if let Some(t) = line.trim().strip_prefix("export COGOV_TOKEN=") {
            token = Some(t.to_owned());
        }
        if let Some(k) = line.trim().strip_prefix("export COGOV_FIRM_KEY=") {
            firm_key = Some(k.to_owned());
        }
        if let Some(i) = words.iter().position(|w| *w == "username") {
            logins.push((words[i + 1].to_owned(), words[i + 3].to_owned()));
        }
        if let Some(i) = words.iter().position(|w| *w == "phone")
            && let Some(number) = words
                .get(i + 1)
                .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        {
            residents.push((*number).to_owned());
        }
        if line.starts_with("Try:") {
            break;
        }
    }
    let gateway = Channel::from_shared(format!("http://127.0.0.1:{}", port - 1))
        .unwrap()
        .connect()
        .await
        .unwrap();
    Up {
        _child: child,
        console: console.expect("cogov up printed the console's address"),
        gateway,
        token: token.expect("cogov up printed a token"),
        logins,
        residents,
        firm_key,
        codes: std::sync::Mutex::new(codes),
    }
}

/// Chromium with a window of `(width, height)` and its profile in `dir`,
/// and the task that drives its DevTools connection.
pub(crate) async fn launch(
    chromium: &Path,
    dir: &Path,
    (width, height): (u32, u32),
) -> (Browser, tokio::task::JoinHandle<()>) {
    let (browser, mut handler) = Browser::launch(
        BrowserConfig::builder()
            .chrome_executable(chromium)
            .no_sandbox()
            .user_data_dir(dir.join("chromium"))
            .window_size(width, height)
            .viewport(None)
            .args([
                "disable-gpu",
                "disable-quic",
                "no-first-run",
                "disable-background-networking",
                "disable-component-update",
                "disable-sync",
            ])
            .build()
            .unwrap(),
    )
    .await
    .expect("launching Chromium");
    let events = tokio::spawn(async move { while handler.next().await.is_some() {} });
    (browser, events)
}

pub(crate) fn screenshots() -> PathBuf {
    let dir = std::env::var_os("COGOV_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../screenshots/console"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A JavaScript expression's value on the page.
pub(crate) async fn js<T: serde::de::DeserializeOwned>(page: &Page, expression: &str) -> T {
    page.evaluate(expression)
        .await
        .unwrap_or_else(|e| panic!("evaluating {expression}: {e}"))
        .into_value()
        .unwrap_or_else(|e| panic!("the value of {expression}: {e}"))
}

/// Waits until `condition` (JavaScript) holds on the page.
pub(crate) async fn until(page: &Page, condition: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let holds = page
            .evaluate(condition)
            .await
            .ok()
            .and_then(|r| r.into_value::<bool>().ok())
            .unwrap_or(false);
        if holds {
            return;
        }
        if Instant::now() > deadline {
            let url = page.url().await.ok().flatten().unwrap_or_default();
            let body: String = js(page, "document.body ? document.body.innerText : ''").await;
            panic!("waited 20 s for `{condition}` on {url}:\n{body}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) async fn open(page: &Page, url: &str) {
    page.goto(url)
        .await
        .unwrap_or_else(|e| panic!("opening {url}: {e}"));
    until(page, "document.readyState === 'complete'").await;
}

/// Waits for `selector` on a page that has finished loading: a node found
/// while a form's answer is still replacing the page is gone by the time
/// it is clicked.
async fn present(page: &Page, selector: &str) {
    let literal = serde_json::to_string(selector).unwrap();
    until(
        page,
        &format!("document.readyState === 'complete' && !!document.querySelector({literal})"),
    )
    .await;
}

/// Types `text` into a field; text the keyboard cannot type (Chinese,
/// which people enter through an input method) is set as the input method
/// would leave it.
pub(crate) async fn fill(page: &Page, selector: &str, text: &str) {
    present(page, selector).await;
    let el = page.find_element(selector).await.unwrap();
    el.click().await.unwrap();
    js::<bool>(
        page,
        &format!("(document.querySelector('{selector}').value = '', true)"),
    )
    .await;
    if text.is_ascii() {
        el.type_str(text).await.unwrap();
    } else {
        let literal = serde_json::to_string(text).unwrap();
        js::<bool>(
            page,
            &format!("(document.querySelector('{selector}').value = {literal}, true)"),
        )
        .await;
    }
}

pub(crate) async fn click(page: &Page, selector: &str) {
    present(page, selector).await;
    // Into the middle of the screen first: a bar fixed to the bottom (the
    // app's tabs) would take a click meant for what it covers.
    let literal = serde_json::to_string(selector).unwrap();
    js::<bool>(
        page,
        &format!("(document.querySelector({literal})?.scrollIntoView({{block: 'center'}}), true)"),
    )
    .await;
    page.find_element(selector)
        .await
        .unwrap_or_else(|e| panic!("finding {selector}: {e}"))
        .click()
        .await
        .unwrap();
}

pub(crate) async fn sign_in(page: &Page, console: &str, username: &str, password: &str) {
    open(page, &format!("{console}/sign-in")).await;
    fill(page, "#username", username).await;
    fill(page, "#password", password).await;
    click(page, "#sign-in").await;
    until(page, "document.readyState === 'complete' && !location.pathname.endsWith('/sign-in') || !!document.querySelector('#sign-in-error')").await;
}

async fn sign_out(page: &Page) {
    click(page, "form[action='/console/sign-out'] button").await;
    until(page, "location.pathname === '/console/sign-in'").await;
}

/// The HTTP status of a GET from the page (with its cookies).
async fn status_of(page: &Page, path: &str) -> u16 {
    js(page, &format!("fetch('{path}').then(r => r.status)")).await
}

/// Where a GET from the page ends up after redirects.
async fn lands_on(page: &Page, path: &str) -> String {
    js(
        page,
        &format!("fetch('{path}').then(r => new URL(r.url).pathname)"),
    )
    .await
}

/// Form controls on the page without a label (keyboard and screen-reader
/// users could not tell what they are for).
pub(crate) async fn unlabelled(page: &Page) -> Vec<String> {
    js(page, "[...document.querySelectorAll('input:not([type=hidden]), select, textarea')].filter(e => e.labels.length === 0 && !e.closest('label')).map(e => e.name || e.id)").await
}

pub(crate) async fn screenshot(page: &Page, name: &str) {
    let path = screenshots().join(format!("{name}.png"));
    page.save_screenshot(ScreenshotParams::builder().full_page(true).build(), &path)
        .await
        .unwrap();
    eprintln!("screenshot: {}", path.display());
}

pub(crate) async fn as_phone(page: &Page, phone: bool) {
    if phone {
        page.execute(
            SetDeviceMetricsOverrideParams::builder()
                .width(390)
                .height(844)
                .device_scale_factor(2.0)
                .mobile(true)
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    } else {
        page.execute(ClearDeviceMetricsOverrideParams::default())
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_work_the_console_in_a_real_browser() {
    let Some(chromium) = cogov_kit::testing::servers::chromium() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("cogov-console-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let up = start_up(&dir).await;
    let login = |user: &str| up.password(user);
    let (street_password, dongli_password) = (login("niujie.admin"), login("dongli.admin"));

    let (mut browser, events) = launch(&chromium, &dir, (1280, 900)).await;
    let page = browser.new_page("about:blank").await.unwrap();
    let console = up.console.clone();
    let admin = Bearer(up.token.clone());

    // Signed out, every page leads to the sign-in page, in Chinese.
    open(&page, &format!("{console}/dashboard")).await;
    until(&page, "location.pathname === '/console/sign-in'").await;
    assert_eq!(
        js::<String>(&page, "document.documentElement.lang").await,
        "zh-CN"
    );

    // Lock-out: five wrong passwords lock an account; then even the right
    // one is refused until the lock ends.
    let mut gateway = GatewayServiceClient::with_interceptor(up.gateway.clone(), admin.clone());
    gateway
        .create_staff_account(CreateStaffAccountRequest {
            staff_account: Some(StaffAccount {
                username: "lock.me".into(),
                display_name: "Lock me".into(),
                role: StaffRole::StreetAdmin as i32,
                password: "the right password".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
    for attempt in 1..=5 {
        sign_in(
            &page,
            &console,
            "lock.me",
            &format!("wrong guess {attempt}"),
        )
        .await;
        let error: String = js(&page, "document.querySelector('#sign-in-error').innerText").await;
        if attempt < 5 {
            assert!(error.contains("不正确"), "attempt {attempt}: {error}");
        } else {
            assert!(error.contains("锁定"), "attempt {attempt}: {error}");
        }
    }
    sign_in(&page, &console, "lock.me", "the right password").await;
    let error: String = js(&page, "document.querySelector('#sign-in-error').innerText").await;
    assert!(error.contains("锁定"), "{error}");
    let locked = gateway
        .list_staff_accounts(ListStaffAccountsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .staff_accounts
        .into_iter()
        .find(|a| a.username == "lock.me")
        .unwrap();
    assert!(locked.locked_until.is_some(), "{locked:?}");

    // The street admin's dashboard shows the demo street.
    sign_in(&page, &console, "niujie.admin", &street_password).await;
    until(&page, "location.pathname === '/console/dashboard'").await;
    assert_eq!(
        js::<String>(&page, "document.querySelector('h1').innerText").await,
        "牛街街道总览"
    );
    assert_eq!(
        js::<usize>(&page, "document.querySelectorAll('svg.chart').length").await,
        5
    );
    let bars: usize = js(
        &page,
        "document.querySelectorAll('svg.chart')[0].querySelectorAll('rect').length",
    )
    .await;
    assert_eq!(bars, 10, "one bar per community");
    let courtyards: usize = js(
        &page,
        "document.querySelectorAll('#two-nos-table tbody tr').length",
    )
    .await;
    assert_eq!(courtyards, 56);
    let councils: usize = js(&page, "document.querySelectorAll('section[aria-labelledby=councils] table')[0].querySelectorAll('tbody tr').length").await;
    assert_eq!(councils, 10);
    let hours: f64 = js(
        &page,
        "parseFloat(document.querySelector('#hours-total').innerText)",
    )
    .await;
    assert!(hours > 0.0, "volunteer hours, last 30 days: {hours}");
    let csp: String = js(
        &page,
        "fetch('/console/dashboard').then(r => r.headers.get('content-security-policy'))",
    )
    .await;
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(unlabelled(&page).await, Vec::<String>::new(), "dashboard");
    screenshot(&page, "dashboard-desktop").await;
    as_phone(&page, true).await;
    open(&page, &format!("{console}/dashboard")).await;
    let overflow: bool = js(
        &page,
        "document.documentElement.scrollWidth > window.innerWidth + 1",
    )
    .await;
    assert!(!overflow, "the dashboard fits a phone's width");
    screenshot(&page, "dashboard-phone").await;
    as_phone(&page, false).await;

    // The two-nos filter narrows the table (by plain GET without script,
    // by htmx with it).
    open(&page, &format!("{console}/dashboard?met=true")).await;
    let met: usize = js(
        &page,
        "document.querySelectorAll('#two-nos-table tbody tr .ok').length",
    )
    .await;
    let rows: usize = js(
        &page,
        "document.querySelectorAll('#two-nos-table tbody tr').length",
    )
    .await;
    assert_eq!(met, rows);

    // Dispatch an acknowledged issue to the property firm, end to end.
    let mut issues = IssuesServiceClient::with_interceptor(up.gateway.clone(), admin.clone());
    let issue = issues
        .list_issues(ListIssuesRequest {
            page_size: 1,
            filter: "state = ISSUE_STATE_ACKNOWLEDGED".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .issues
        .remove(0);
    let mut orgs = OrganizationsServiceClient::with_interceptor(up.gateway.clone(), admin.clone());
    let firm = orgs
        .list_organizations(ListOrganizationsRequest {
            page_size: 1,
            filter: "kind = PROPERTY_FIRM".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .organizations
        .remove(0);
    let issue_id = issue.name.trim_start_matches("issues/");
    open(
        &page,
        &format!("{console}/issues?state=ISSUE_STATE_ACKNOWLEDGED"),
    )
    .await;
    click(&page, &format!("a[href='/console/issues/{issue_id}']")).await;
    until(&page, "!!document.querySelector('#do-dispatch')").await;
    js::<bool>(
        &page,
        &format!(
            "(document.querySelector('#assignee').value = '{}', true)",
            firm.name
        ),
    )
    .await;
    fill(&page, "#dispatch-note", "请物业三天内清理").await;
    assert_eq!(unlabelled(&page).await, Vec::<String>::new(), "issue page");
    screenshot(&page, "issue-desktop").await;
    click(&page, "#do-dispatch").await;
    until(&page, "document.querySelector('#issue-state') && document.querySelector('#issue-state').innerText.startsWith('已派单')").await;
    let assignee: String = js(&page, "document.querySelector('#issue-assignee').innerText").await;
    assert_eq!(assignee, firm.display_name);
    let timeline: String = js(&page, "document.querySelector('.timeline').innerText").await;
    assert!(timeline.contains("请物业三天内清理"), "{timeline}");
    let now = issues
        .get_issue(GetIssueRequest {
            name: issue.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(now.state, IssueState::Dispatched as i32);
    assert_eq!(now.assignee, firm.name);
    as_phone(&page, true).await;
    page.reload().await.unwrap();
    until(&page, "document.readyState === 'complete'").await;
    screenshot(&page, "issue-phone").await;
    as_phone(&page, false).await;
    // The console's call is in the audit log, as the staff member.
    let audited = gateway
        .list_audit_records(ListAuditRecordsRequest {
            filter: format!("target = \"{}\"", issue.name),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .audit_records;
    assert!(
        audited.iter().any(|r| r.method.ends_with("/DispatchIssue")
            && r.principal
                .as_ref()
                .is_some_and(|p| format!("{p:?}").contains("niujie.admin"))),
        "{audited:?}"
    );

    // Issue a partner key (shown once), use it, revoke it.
    let partner = gateway
        .list_partners(ListPartnersRequest::default())
        .await
        .unwrap()
        .into_inner()
        .partners
        .remove(0);
    let partner_id = partner.name.trim_start_matches("partners/");
    open(&page, &format!("{console}/partners")).await;
    click(&page, &format!("a[href='/console/partners/{partner_id}']")).await;
    until(&page, "!!document.querySelector('#do-issue-key')").await;
    fill(&page, "#key-name", "console test key").await;
    click(&page, "#do-issue-key").await;
    until(&page, "!!document.querySelector('#new-secret')").await;
    let secret: String = js(&page, "document.querySelector('#new-secret').innerText").await;
    let as_partner = Bearer(secret.clone());
    let mut partner_gateway =
        GatewayServiceClient::with_interceptor(up.gateway.clone(), as_partner.clone());
    partner_gateway
        .get_caller(GetCallerRequest {})
        .await
        .expect("the new key works");
    let key_row: String = js(&page, "[...document.querySelectorAll('tr[id^=key-]')].find(r => r.innerText.includes('console test key')).id").await;
    page.reload().await.unwrap();
    until(&page, "document.readyState === 'complete'").await;
    let shown_again: bool = js(
        &page,
        &format!("document.body.innerText.includes('{secret}')"),
    )
    .await;
    assert!(!shown_again, "a key's secret is shown once");
    click(&page, &format!("#{key_row} button.danger")).await;
    until(&page, &format!("document.querySelector('#{key_row} .key-state') && document.querySelector('#{key_row} .key-state').innerText === '已吊销'")).await;
    assert_eq!(
        partner_gateway
            .get_caller(GetCallerRequest {})
            .await
            .unwrap_err()
            .code(),
        tonic::Code::Unauthenticated
    );

    // A courtyard's page, from the dashboard's two-nos table.
    open(&page, &format!("{console}/dashboard")).await;
    let first: String = js(
        &page,
        "document.querySelector('#two-nos-table tbody a').innerText",
    )
    .await;
    click(&page, "#two-nos-table tbody a").await;
    until(
        &page,
        "location.pathname.startsWith('/console/courtyards/')",
    )
    .await;
    assert_eq!(
        js::<String>(&page, "document.querySelector('h1').innerText").await,
        first
    );
    for section in [
        "two-nos-items",
        "orgs",
        "agreements",
        "issues",
        "inspections",
        "activities",
    ] {
        let present: bool = js(&page, &format!("!!document.querySelector('#{section}')")).await;
        assert!(present, "the courtyard page has no {section} section");
    }
    let inspections: usize = js(
        &page,
        "document.querySelectorAll('section[aria-labelledby=inspections] tbody tr').length",
    )
    .await;
    assert!(inspections > 0, "the demo inspected every courtyard");

    // Register a partner whose name is markup: it shows as text.
    let committee = orgs
        .list_organizations(ListOrganizationsRequest {
            page_size: 1,
            filter: "kind = OWNERS_COMMITTEE".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .organizations
        .remove(0);
    let hostile = "业委会 <script>alert(1)</script> & \"co\"";
    open(&page, &format!("{console}/partners")).await;
    assert_eq!(
        unlabelled(&page).await,
        Vec::<String>::new(),
        "partners page"
    );
    js::<bool>(
        &page,
        &format!(
            "(document.querySelector('#organization').value = '{}', true)",
            committee.name
        ),
    )
    .await;
    fill(&page, "#display-name", hostile).await;
    js::<bool>(
        &page,
        "(document.querySelector('#kind').value = 'PARTNER_KIND_OWNERS_COMMITTEE', true)",
    )
    .await;
    click(&page, "#do-register").await;
    until(&page, "!!document.querySelector('#do-issue-key')").await;
    assert_eq!(
        js::<String>(&page, "document.querySelector('h1').innerText").await,
        hostile
    );
    assert_eq!(
        js::<usize>(
            &page,
            "document.querySelectorAll('script:not([src])').length"
        )
        .await,
        0
    );
    // Rotate a key: a new secret, shown once, and it works.
    fill(&page, "#key-name", "rotating key").await;
    click(&page, "#do-issue-key").await;
    until(&page, "!!document.querySelector('#new-secret')").await;
    let first_secret: String = js(&page, "document.querySelector('#new-secret').innerText").await;
    click(&page, "form[action$='/rotate'] button").await;
    until(&page, &format!("document.querySelector('#new-secret') && document.querySelector('#new-secret').innerText !== '{first_secret}'")).await;
    let rotated: String = js(&page, "document.querySelector('#new-secret').innerText").await;
    GatewayServiceClient::with_interceptor(up.gateway.clone(), Bearer(rotated))
        .get_caller(GetCallerRequest {})
        .await
        .expect("the rotated key works");

    // CSRF: a form without the session's token is refused and changes
    // nothing.
    let before = gateway
        .list_partners(ListPartnersRequest::default())
        .await
        .unwrap()
        .into_inner()
        .partners
        .len();
    let forged: u16 = js(&page, &format!(
        "fetch('/console/partners', {{method: 'POST', body: new URLSearchParams({{csrf: 'forged', organization: '{}', display_name: 'Forged', kind: 'PARTNER_KIND_SOCIAL_UNIT'}})}}).then(r => r.status)",
        firm.name
    )).await;
    assert_eq!(forged, 403);
    let tokenless: u16 = js(&page, &format!(
        "fetch('/console/issues/{issue_id}/reject', {{method: 'POST', body: new URLSearchParams({{reason: 'REJECT_REASON_SPAM'}})}}).then(r => r.status)"
    )).await;
    assert_eq!(tokenless, 403);
    let after = gateway
        .list_partners(ListPartnersRequest::default())
        .await
        .unwrap()
        .into_inner()
        .partners
        .len();
    assert_eq!(before, after);
    let still = issues
        .get_issue(GetIssueRequest {
            name: issue.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(still.state, IssueState::Dispatched as i32);

    // English, switched in the header, and kept.
    open(&page, &format!("{console}/dashboard")).await;
    click(&page, "a.lang[lang=en]").await;
    until(&page, "document.documentElement.lang === 'en'").await;
    assert_eq!(
        js::<String>(&page, "document.querySelector('h1').innerText").await,
        "Niujie street dashboard"
    );
    open(&page, &format!("{console}/issues")).await;
    assert_eq!(
        js::<String>(&page, "document.documentElement.lang").await,
        "en"
    );
    click(&page, "a.lang[lang=zh-CN]").await;
    until(&page, "document.documentElement.lang === 'zh-CN'").await;

    // Signing out ends the session.
    sign_out(&page).await;
    assert_eq!(
        lands_on(&page, "/console/dashboard").await,
        "/console/sign-in"
    );

    // A community admin sees their community only.
    sign_in(&page, &console, "dongli.admin", &dongli_password).await;
    until(&page, "location.pathname === '/console/dashboard'").await;
    let theirs: usize = js(
        &page,
        "document.querySelectorAll('#two-nos-table tbody tr').length",
    )
    .await;
    assert_eq!(theirs, 14, "Niujie Dongli's courtyards only");
    let communities = orgs
        .list_communities(ListCommunitiesRequest {
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .communities;
    let other = communities
        .iter()
        .find(|c| !c.display_name.starts_with("牛街东里"))
        .unwrap();
    let other_courtyard = orgs
        .list_courtyards(ListCourtyardsRequest {
            page_size: 1,
            filter: format!("community = \"{}\"", other.name),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .courtyards
        .remove(0);
    let other_issue = issues
        .list_issues(ListIssuesRequest {
            page_size: 1,
            filter: format!("community = \"{}\"", other.name),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .issues
        .remove(0);
    for path in [
        format!(
            "/console/courtyards/{}",
            other_courtyard.name.trim_start_matches("courtyards/")
        ),
        format!(
            "/console/issues/{}",
            other_issue.name.trim_start_matches("issues/")
        ),
        "/console/partners".to_owned(),
        "/console/audit".to_owned(),
    ] {
        let status = status_of(&page, &path).await;
        assert!(status == 403 || status == 404, "{path}: {status}");
    }
    let own_issues: Vec<String> = js(&page, "fetch('/console/issues').then(r => r.text()).then(t => [...new DOMParser().parseFromString(t, 'text/html').querySelectorAll('tbody tr td:nth-child(2)')].map(td => td.innerText))").await;
    assert!(!own_issues.is_empty());
    let dongli_courtyards: Vec<String> = orgs
        .list_courtyards(ListCourtyardsRequest {
            page_size: 100,
            filter: format!(
                "community = \"{}\"",
                communities
                    .iter()
                    .find(|c| c.display_name.starts_with("牛街东里"))
                    .unwrap()
                    .name
            ),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .courtyards
        .into_iter()
        .map(|c| c.display_name)
        .collect();
    for courtyard in &own_issues {
        assert!(
            dongli_courtyards.contains(courtyard),
            "{courtyard} is not in Niujie Dongli"
        );
    }
    // Nor can they act outside it.
    let csrf: String = js(&page, "document.querySelector('input[name=csrf]').value").await;
    let refused: u16 = js(&page, &format!(
        "fetch('/console/issues/{}/reject', {{method: 'POST', body: new URLSearchParams({{csrf: '{csrf}', reason: 'REJECT_REASON_SPAM'}})}}).then(r => r.status)",
        other_issue.name.trim_start_matches("issues/")
    )).await;
    assert!(refused == 403 || refused == 404, "{refused}");

    browser.close().await.unwrap();
    let _ = browser.wait().await;
    events.abort();
    let _ = std::fs::remove_dir_all(&dir);
}
