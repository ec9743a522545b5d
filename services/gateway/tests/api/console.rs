//! The staff console over plain HTTP/1.1, on both databases and a manual
//! clock: sign-in with its form token, lock-out and its end, the session
//! cookie's attributes, expiry, sign-out, a disabled account, CSRF, the
//! language switch's way back, and the security headers. (The browser
//! test in `services/cogov/tests/system/console.rs` drives the pages.)
//! And the residents page: registrations to verify, erasures to decide,
//! each community's own.

use chrono::Duration;
use cogov_proto::common::StaffRole;
use cogov_proto::gateway::*;

use crate::both;
use crate::support::*;

both!(
    console_sign_in_sessions_and_forms,
    console_lists_what_residents_wait_for,
    console_imports_a_roster_with_progress_and_exports_lists,
);

const PASSWORD: &str = "correct horse battery";

/// The value of `name="field"`'s `value` in a page.
fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in {html}"));
    html[at + marker.len()..]
        .split('"')
        .next()
        .unwrap()
        .to_owned()
}

/// The `name=value` part of a `Set-Cookie` for `name`.
fn cookie(reply: &HttpReply, name: &str) -> Option<String> {
    reply
        .headers("set-cookie")
        .into_iter()
        .find(|c| c.starts_with(&format!("{name}=")))
}

struct Browser {
    sign_in_cookie: String,
    csrf: String,
}

async fn sign_in_form(env: &Env) -> Browser {
    let page = http_exchange(env, "GET", "/console/sign-in", &[], "").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<html lang=\"zh-CN\">"), "{}", page.body);
    let set = cookie(&page, "cogov_sign_in").expect("a sign-in form token cookie");
    Browser {
        sign_in_cookie: set.split(';').next().unwrap().to_owned(),
        csrf: field(&page.body, "csrf"),
    }
}

async fn sign_in(env: &Env, username: &str, password: &str) -> HttpReply {
    let b = sign_in_form(env).await;
    let body = format!(
        "csrf={}&username={username}&password={}",
        b.csrf,
        password.replace(' ', "+")
    );
    http_exchange(
        env,
        "POST",
        "/console/sign-in",
        &[("cookie", &b.sign_in_cookie)],
        &body,
    )
    .await
}

async fn console_sign_in_sessions_and_forms(env: Env) {
    let world = World::build(&env).await;
    let mut admin = env.admin();
    for (username, role, community) in [
        ("ana.street", StaffRole::StreetAdmin, String::new()),
        (
            "cai.community",
            StaffRole::CommunityAdmin,
            world.community_a.clone(),
        ),
    ] {
        admin
            .create_staff_account(CreateStaffAccountRequest {
                staff_account: Some(StaffAccount {
                    username: username.into(),
                    display_name: username.into(),
                    role: role as i32,
                    community,
                    password: PASSWORD.into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap();
    }

    // Signed out: every page sends you to sign in.
    let page = http_exchange(&env, "GET", "/console/dashboard", &[], "").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.header("location").unwrap(), "/console/sign-in");

    // The sign-in form needs its own token (login CSRF).
    let forged = http_exchange(
        &env,
        "POST",
        "/console/sign-in",
        &[],
        &format!("csrf=guess&username=ana.street&password={PASSWORD}"),
    )
    .await;
    assert_eq!(forged.status, 403);

    // Unknown users and wrong passwords look alike.
    assert_eq!(sign_in(&env, "nobody", PASSWORD).await.status, 401);
    // Five wrong passwords lock the account for 15 minutes.
    for attempt in 1..=5 {
        let reply = sign_in(&env, "ana.street", "wrong password").await;
        let expected = if attempt < 5 { 401 } else { 403 };
        assert_eq!(reply.status, expected, "attempt {attempt}");
    }
    let locked = sign_in(&env, "ana.street", PASSWORD).await;
    assert_eq!(locked.status, 403);
    assert!(cookie(&locked, "cogov_session").is_none());
    env.clock.advance(Duration::minutes(14));
    assert_eq!(sign_in(&env, "ana.street", PASSWORD).await.status, 403);
    env.clock
        .advance(Duration::minutes(1) + Duration::seconds(1));

    // The lock has passed: a session, in a cookie scripts cannot read and
    // other sites cannot send.
    let signed_in = sign_in(&env, "ana.street", PASSWORD).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    assert_eq!(signed_in.header("location").unwrap(), "/console/dashboard");
    let set = cookie(&signed_in, "cogov_session").expect("a session cookie");
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/console",
        "Max-Age=28800",
    ] {
        assert!(set.contains(attribute), "{set}");
    }
    let session = set.split(';').next().unwrap().to_owned();
    let dashboard = http_exchange(
        &env,
        "GET",
        "/console/dashboard",
        &[("cookie", &session)],
        "",
    )
    .await;
    assert_eq!(dashboard.status, 200, "{}", dashboard.body);
    let csp = dashboard.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(
        dashboard.header("x-content-type-options").unwrap(),
        "nosniff"
    );
    assert_eq!(dashboard.header("cache-control").unwrap(), "no-store");
    assert!(!dashboard.body.contains("<script>"), "no inline script");
    let csrf = field(&dashboard.body, "csrf");

    // Sign-ins and lock-outs are in the audit log, with who and from where.
    let mut auditor = env.admin();
    assert!(
        eventually(async || {
            let records = auditor
                .list_audit_records(ListAuditRecordsRequest {
                    filter: "method = \"/cogov.console/SignIn\"".into(),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .audit_records;
            let by = |code: i32| {
                records.iter().filter(move |r| {
                    r.code == code
                        && !r.peer.is_empty()
                        && r.principal
                            .as_ref()
                            .is_some_and(|p| format!("{p:?}").contains("ana.street"))
                })
            };
            by(0).count() == 1 && by(16).count() == 3
        })
        .await,
        "one sign-in and three locked refusals of ana.street recorded"
    );

    // Forms without the session's token are refused and change nothing.
    let tokenless = http_exchange(
        &env,
        "POST",
        "/console/sign-out",
        &[("cookie", &session)],
        "csrf=",
    )
    .await;
    assert_eq!(tokenless.status, 403);
    let still = http_exchange(&env, "GET", "/console/issues", &[("cookie", &session)], "").await;
    assert_eq!(still.status, 200);

    // The queue's filters; one that is not a name is refused, not passed on.
    let filtered = http_exchange(
        &env,
        "GET",
        "/console/issues?state=ISSUE_STATE_REPORTED&sub_item=clutter_piling&overdue=true",
        &[("cookie", &session)],
        "",
    )
    .await;
    assert_eq!(filtered.status, 200, "{}", filtered.body);
    assert!(filtered.body.contains("value=\"clutter_piling\" selected"));
    let injected = http_exchange(
        &env,
        "GET",
        "/console/issues?sub_item=x%22%20OR%20state%3D1",
        &[("cookie", &session)],
        "",
    )
    .await;
    assert_eq!(injected.status, 400);

    // The language switch returns only to console pages.
    for (back, expected) in [
        ("/console/issues", "/console/issues"),
        ("//evil.example/console/", "/console/dashboard"),
        ("https://evil.example/", "/console/dashboard"),
        ("/console/..%5C..%5Cevil", "/console/dashboard"),
    ] {
        let reply = http_exchange(
            &env,
            "GET",
            &format!("/console/language/en?back={back}"),
            &[],
            "",
        )
        .await;
        assert_eq!(reply.status, 303);
        assert_eq!(reply.header("location").unwrap(), expected, "back={back}");
        assert!(
            cookie(&reply, "cogov_lang")
                .unwrap()
                .starts_with("cogov_lang=en;")
        );
    }
    let english = http_exchange(
        &env,
        "GET",
        "/console/issues",
        &[("cookie", &format!("{session}; cogov_lang=en"))],
        "",
    )
    .await;
    assert!(english.body.contains("<html lang=\"en\">"));
    assert!(english.body.contains("Issue queue"));

    // A partner's page shows its webhook endpoints; staff may disable one,
    // and then its partner may not enable it again.
    let hook = env
        .gateway_as(key(&world.key_a))
        .create_webhook_endpoint(CreateWebhookEndpointRequest {
            parent: world.partner_a.clone(),
            webhook_endpoint: Some(WebhookEndpoint {
                url: "https://93.184.216.34/cogov".into(),
                event_types: vec!["cogov.gateway.v1.WebhookTested".into()],
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner()
        .webhook_endpoint
        .unwrap();
    let partner_page = format!("/console/{}", world.partner_a);
    let page = http_exchange(&env, "GET", &partner_page, &[("cookie", &session)], "").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Webhook 地址"), "{}", page.body);
    assert!(page.body.contains("https://93.184.216.34/cogov"));
    let endpoint_id = hook.name.rsplit('/').next().unwrap();
    let disabled = http_exchange(
        &env,
        "POST",
        &format!("{partner_page}/webhooks/{endpoint_id}/disable"),
        &[("cookie", &session)],
        &format!("csrf={}", field(&page.body, "csrf")),
    )
    .await;
    assert_eq!(disabled.status, 303, "{}", disabled.body);
    let e = env
        .admin()
        .get_webhook_endpoint(GetWebhookEndpointRequest { name: hook.name })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(e.state, WebhookEndpointState::Disabled as i32);
    assert_eq!(e.disabled_reason, "disabled by a street admin");

    // Sign-out ends the session on the server, not just in the browser.
    let out = http_exchange(
        &env,
        "POST",
        "/console/sign-out",
        &[("cookie", &session)],
        &format!("csrf={csrf}"),
    )
    .await;
    assert_eq!(out.status, 303);
    assert!(cookie(&out, "cogov_session").unwrap().contains("Max-Age=0"));
    let after = http_exchange(
        &env,
        "GET",
        "/console/dashboard",
        &[("cookie", &session)],
        "",
    )
    .await;
    assert_eq!(after.status, 303);

    // Sessions expire after 8 hours.
    let again = sign_in(&env, "ana.street", PASSWORD).await;
    let session = cookie(&again, "cogov_session")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    env.clock.advance(Duration::hours(8));
    let expired = http_exchange(
        &env,
        "GET",
        "/console/dashboard",
        &[("cookie", &session)],
        "",
    )
    .await;
    assert_eq!(expired.status, 303);

    // A community admin: their community's pages; the street's partners
    // and audit log refused by the method policy, as over gRPC.
    let theirs = sign_in(&env, "cai.community", PASSWORD).await;
    let session = cookie(&theirs, "cogov_session")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let a1 = world.a1.trim_start_matches("courtyards/");
    let b1 = world.b1.trim_start_matches("courtyards/");
    let own = http_exchange(
        &env,
        "GET",
        &format!("/console/courtyards/{a1}"),
        &[("cookie", &session)],
        "",
    )
    .await;
    assert_eq!(own.status, 200, "{}", own.body);
    // Its issues export carries the courtyard.
    assert!(
        own.body.contains(&format!(
            "/console/exports/issues.csv?filter=courtyard%20%3D%20%22courtyards/{a1}%22"
        )),
        "{}",
        own.body
    );
    for path in [
        format!("/console/courtyards/{b1}"),
        "/console/partners".to_owned(),
        "/console/audit".to_owned(),
    ] {
        let reply = http_exchange(&env, "GET", &path, &[("cookie", &session)], "").await;
        assert!(
            matches!(reply.status, 403 | 404),
            "{path}: {}",
            reply.status
        );
    }
    assert!(
        !own.body.contains("/console/partners"),
        "no street-only links"
    );

    // Disabling the account ends its sessions at the next page. (A fresh
    // token: the clock has moved on past the first.)
    let mut admin = env.admin();
    let account = admin
        .list_staff_accounts(ListStaffAccountsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .staff_accounts
        .into_iter()
        .find(|a| a.username == "cai.community")
        .unwrap();
    admin
        .update_staff_account(UpdateStaffAccountRequest {
            staff_account: Some(StaffAccount {
                name: account.name,
                disabled: true,
                etag: account.etag,
                ..Default::default()
            }),
            update_mask: mask(&["disabled"]),
        })
        .await
        .unwrap();
    let gone = http_exchange(
        &env,
        "GET",
        "/console/dashboard",
        &[("cookie", &session)],
        "",
    )
    .await;
    assert_eq!(gone.status, 303);
    assert_eq!(sign_in(&env, "cai.community", PASSWORD).await.status, 401);
}

/// Creates a community admin's account and signs them in: their session
/// cookie.
async fn community_staff(env: &Env, username: &str, community: &str) -> String {
    env.admin()
        .create_staff_account(CreateStaffAccountRequest {
            staff_account: Some(StaffAccount {
                username: username.into(),
                display_name: username.into(),
                role: StaffRole::CommunityAdmin as i32,
                community: community.into(),
                password: PASSWORD.into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
    let signed_in = sign_in(env, username, PASSWORD).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    let set = cookie(&signed_in, "cogov_session").expect("a session cookie");
    set.split(';').next().unwrap().to_owned()
}

async fn console_lists_what_residents_wait_for(env: Env) {
    use cogov_proto::organizations as org;
    let w = World::build(&env).await;
    // A newcomer registers in courtyard A1; a known resident of A1 asks to
    // be erased.
    let ticket = match env.sign_in("139 2222 3333").await.outcome {
        Some(sign_in_response::Outcome::Registration(r)) => r,
        other => panic!("expected a registration ticket, got {other:?}"),
    };
    let newcomer = crate::residents::tokens(
        env.residents(Bearer(None))
            .register_resident(RegisterResidentRequest {
                ticket: ticket.ticket,
                display_name: "新来的赵先生".into(),
                courtyard: w.a1.clone(),
                building: String::new(),
                privacy_notice_version: ticket.privacy_notice.unwrap().version,
                consent: true,
                device: "test phone".into(),
            })
            .await
            .unwrap()
            .into_inner(),
    );
    let newcomer_person = {
        let name = &newcomer.session.as_ref().unwrap().name;
        name[..name.find("/sessions/").unwrap()].to_owned()
    };
    let leaving = env.resident(PHONE_A1).await;
    let asked = env
        .residents(leaving.clone())
        .request_erasure(RequestErasureRequest {
            parent: "persons/me".into(),
            reason: "搬去外地".into(),
        })
        .await
        .unwrap()
        .into_inner();

    let a = community_staff(&env, "cai.community", &w.community_a).await;
    let b = community_staff(&env, "dou.community", &w.community_b).await;
    let page = |session: String| {
        let env = &env;
        async move {
            let reply = http_exchange(
                env,
                "GET",
                "/console/residents",
                &[("cookie", &session)],
                "",
            )
            .await;
            assert_eq!(reply.status, 200, "{}", reply.body);
            reply.body
        }
    };
    let seen = page(a.clone()).await;
    let newcomer_id = newcomer_person.trim_start_matches("persons/");
    let erasure_id = asked.name.trim_start_matches("erasureRequests/");
    assert!(seen.contains("新来的赵先生"), "{seen}");
    assert!(seen.contains(&format!("id=\"registration-{newcomer_id}\"")));
    assert!(seen.contains(&format!("id=\"erasure-{erasure_id}\"")));
    assert!(seen.contains("搬去外地"));
    // B's staff see neither, and cannot act on them.
    let elsewhere = page(b.clone()).await;
    assert!(!elsewhere.contains("新来的赵先生") && !elsewhere.contains("搬去外地"));
    let b_csrf = field(&elsewhere, "csrf");
    let refused = http_exchange(
        &env,
        "POST",
        &format!("/console/residents/{newcomer_id}/verify"),
        &[("cookie", &b)],
        &format!("csrf={b_csrf}&etag="),
    )
    .await;
    assert_eq!(refused.status, 403, "{}", refused.body);

    // A verifies the newcomer, with the etag the page showed.
    let csrf = field(&seen, "csrf");
    let etag = {
        let row = &seen[seen.find(&format!("registration-{newcomer_id}")).unwrap()..];
        field(row, "etag")
    };
    let verified = http_exchange(
        &env,
        "POST",
        &format!("/console/residents/{newcomer_id}/verify"),
        &[("cookie", &a)],
        &format!("csrf={csrf}&etag={}", etag.replace('"', "%22")),
    )
    .await;
    assert_eq!(verified.status, 303, "{}", verified.body);
    let person = env
        .orgs(env.street_admin())
        .get_person(org::GetPersonRequest {
            name: newcomer_person.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        person.verification,
        org::PersonVerification::Verified as i32
    );

    // Declining needs a reason; with one, the request is decided and the
    // resident keeps their data.
    let reasonless = http_exchange(
        &env,
        "POST",
        &format!("/console/erasures/{erasure_id}/decline"),
        &[("cookie", &a)],
        &format!("csrf={csrf}&reason="),
    )
    .await;
    assert_eq!(reasonless.status, 400, "{}", reasonless.body);
    let declined = http_exchange(
        &env,
        "POST",
        &format!("/console/erasures/{erasure_id}/decline"),
        &[("cookie", &a)],
        &format!("csrf={csrf}&reason=%E5%B0%9A%E6%9C%89%E6%9C%AA%E7%BB%93%E4%BA%8B%E9%A1%B9"),
    )
    .await;
    assert_eq!(declined.status, 303, "{}", declined.body);
    let mine = env
        .residents(leaving)
        .list_erasure_requests(ListErasureRequestsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .erasure_requests;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].state, ErasureState::Declined as i32);
    assert_eq!(mine[0].decline_reason, "尚有未结事项");
    let after = page(a).await;
    assert!(!after.contains("新来的赵先生") && !after.contains("搬去外地"));
}

/// A multipart form of `fields` and one file.
fn multipart(fields: &[(&str, &str)], file_name: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----cogov-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(
            format!(
                "--{boundary}\r\ncontent-disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend(
        format!(
            "--{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\ncontent-type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend(file);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn console_imports_a_roster_with_progress_and_exports_lists(env: Env) {
    let w = World::build(&env).await;
    let session = community_staff(&env, "dai.community", &w.community_a).await;
    let page = http_exchange(
        &env,
        "GET",
        "/console/spreadsheets",
        &[("cookie", &session)],
        "",
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("action=\"/console/imports\""),
        "{}",
        page.body
    );
    let csrf = field(&page.body, "csrf");

    let roster =
        "姓名,手机号,楼院\n控制台甲,13900000041,a1\n控制台乙,13900000042,a1\n坏行,123,a1\n";
    let (content_type, body) = multipart(
        &[
            ("csrf", &csrf),
            ("kind", "persons"),
            ("community", &w.community_a),
        ],
        "roster.csv",
        roster.as_bytes(),
    );
    let headers = [
        ("cookie", session.as_str()),
        ("content-type", content_type.as_str()),
    ];
    // Without the form token nothing starts.
    let (forged_type, forged) = multipart(
        &[
            ("csrf", "forged"),
            ("kind", "persons"),
            ("community", &w.community_a),
        ],
        "roster.csv",
        roster.as_bytes(),
    );
    let refused = http_exchange_bytes(
        &env,
        "POST",
        "/console/imports",
        &[
            ("cookie", session.as_str()),
            ("content-type", forged_type.as_str()),
        ],
        &forged,
    )
    .await;
    assert_eq!(refused.status, 403);
    let started = http_exchange_bytes(&env, "POST", "/console/imports", &headers, &body).await;
    assert_eq!(started.status, 303, "{}", started.body);
    let job = started.header("location").expect("the import's page");
    assert!(job.starts_with("/console/imports/"), "{job}");

    let mut done = String::new();
    assert!(
        eventually(async || {
            let page = http_exchange(&env, "GET", &job, &[("cookie", &session)], "").await;
            assert_eq!(page.status, 200, "{}", page.body);
            done = page.body;
            !done.contains("http-equiv=\"refresh\"")
        })
        .await,
        "the import finished"
    );
    assert!(done.contains("refused-rows.xlsx"), "{done}");
    assert!(
        done.contains("<dd>2</dd>") && done.contains("<dd>1</dd>"),
        "{done}"
    );
    let persons = env
        .orgs(env.street_admin())
        .list_persons(cogov_proto::organizations::ListPersonsRequest {
            filter: "phone = \"13900000041\"".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .persons;
    assert_eq!(persons.len(), 1);
    let report = http_exchange(
        &env,
        "GET",
        &format!("{job}/refused-rows.csv"),
        &[("cookie", &session)],
        "",
    )
    .await;
    assert_eq!(report.status, 200);
    assert!(report.body.contains("坏行,123"), "{}", report.body);
    // Another staff member does not see this import.
    let other = community_staff(&env, "eve.community", &w.community_a).await;
    let hidden = http_exchange(&env, "GET", &job, &[("cookie", &other)], "").await;
    assert_eq!(hidden.status, 404);

    // The issue queue's export carries its filter; what comes out is what
    // this staff member sees.
    report_issue(&env, &w).await;
    let queue = http_exchange(&env, "GET", "/console/issues", &[("cookie", &session)], "").await;
    assert!(
        queue.body.contains("/console/exports/issues.xlsx?"),
        "{}",
        queue.body
    );
    let xlsx = http_exchange(
        &env,
        "GET",
        "/console/exports/issues.xlsx?filter=state+%3D+REPORTED",
        &[("cookie", &session)],
        "",
    )
    .await;
    assert_eq!(xlsx.status, 200, "{}", xlsx.body);
    assert!(
        xlsx.header("content-disposition")
            .unwrap()
            .contains("issues.xlsx")
    );
    let sheet =
        cogov_sheets::read::read(&xlsx.bytes, &cogov_sheets::read::Limits::default()).unwrap();
    assert_eq!(sheet.rows.len(), 1);
    assert_eq!(sheet.rows[0].cells[1], "console export");
    let template = http_exchange(
        &env,
        "GET",
        "/console/templates/persons.csv",
        &[("cookie", &session)],
        "",
    )
    .await;
    assert!(
        template.body.starts_with("\u{feff}姓名,手机"),
        "{}",
        template.body
    );
    // The dashboard's tables each have their export; the two-nos one
    // carries the table's filter and lists the courtyards it shows.
    let dashboard = http_exchange(
        &env,
        "GET",
        "/console/dashboard?met=false",
        &[("cookie", &session)],
        "",
    )
    .await;
    for link in [
        "/console/exports/statistics.xlsx?by=community",
        "/console/exports/issues.csv?filter=overdue%20%3D%20true",
        "/console/exports/two-nos.xlsx?filter=met%20%3D%20false",
        "/console/exports/councils.csv\"",
        "/console/exports/hours.xlsx?by=community",
    ] {
        assert!(dashboard.body.contains(link), "{link}: {}", dashboard.body);
    }
    let two_nos = http_exchange(
        &env,
        "GET",
        "/console/exports/two-nos.csv?filter=met%20%3D%20false",
        &[("cookie", &session)],
        "",
    )
    .await;
    assert_eq!(two_nos.status, 200, "{}", two_nos.body);
    let sheet =
        cogov_sheets::read::read(&two_nos.bytes, &cogov_sheets::read::Limits::default()).unwrap();
    assert_eq!(
        sheet.rows.len(),
        1,
        "a1 has an open issue: {:?}",
        sheet.rows
    );
    assert_eq!(sheet.rows[0].cells[0], w.a1);
    assert_eq!(sheet.rows[0].cells[5], "1");
    // A grouping that does not exist is refused, not replaced.
    let unknown = http_exchange(
        &env,
        "GET",
        "/console/exports/statistics.csv?by=weather",
        &[("cookie", &session)],
        "",
    )
    .await;
    assert_eq!(unknown.status, 400);
    let signed_out = http_exchange(&env, "GET", "/console/exports/issues.csv", &[], "").await;
    assert_eq!(signed_out.status, 303);
}

async fn report_issue(env: &Env, w: &World) {
    report(env, env.street_admin(), &w.a1, "console export").await;
}
