//! The residents' web app over plain HTTP/1.1, on both databases and a
//! manual clock: sign-in by number and code (with its form token), a
//! number nobody has registering with the privacy notice and waiting for
//! verification, the noticeboard, reporting with the "same problem?" step
//! and a retried submission that makes one issue, following it to a
//! confirmation, the inbox, sessions ended from elsewhere, sign-out, the
//! language switch, and what another resident may not see.

use std::collections::BTreeMap;

use cogov_proto::gateway::*;
use cogov_proto::issues::*;
use cogov_proto::organizations as org;

use crate::both;
use crate::support::*;

both!(
    app_sign_in_report_and_follow,
    app_registration_and_sessions,
    app_activities_and_council,
    app_photos_kept_and_shown
);

/// A neighbour of the resident of a1, in the same courtyard.
const PHONE_A1_NEIGHBOUR: &str = "13800000003";

/// A phone's browser: its cookies, kept as the server sets them.
struct Phone<'a> {
    env: &'a Env,
    cookies: BTreeMap<String, String>,
}

impl<'a> Phone<'a> {
    fn new(env: &'a Env) -> Phone<'a> {
        Phone {
            env,
            cookies: BTreeMap::new(),
        }
    }

    async fn request(&mut self, method: &str, path: &str, body: &str) -> HttpReply {
        self.request_bytes(method, path, &[], body.as_bytes()).await
    }

    async fn request_bytes(
        &mut self,
        method: &str,
        path: &str,
        extra: &[(&str, &str)],
        body: &[u8],
    ) -> HttpReply {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut headers = vec![("user-agent", "test phone browser")];
        if !cookie.is_empty() {
            headers.push(("cookie", &cookie));
        }
        headers.extend_from_slice(extra);
        let reply = http_exchange_bytes(self.env, method, path, &headers, body).await;
        for set in reply.headers("set-cookie") {
            let pair = set.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() || set.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        reply
    }

    /// Posts a multipart form: its fields, then its files as
    /// `(field, file name, bytes)`.
    async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> HttpReply {
        let boundary = "----cogov-test-boundary-7d1a";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\ncontent-disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        for (k, file, bytes) in files {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\ncontent-disposition: form-data; name=\"{k}\"; filename=\"{file}\"\r\ncontent-type: image/jpeg\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let content_type = format!("multipart/form-data; boundary={boundary}");
        self.request_bytes("POST", path, &[("content-type", &content_type)], &body)
            .await
    }

    async fn get(&mut self, path: &str) -> HttpReply {
        self.request("GET", path, "").await
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> HttpReply {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.request("POST", path, &body).await
    }

    /// Signs in with the number's next code; the answer to the code.
    async fn sign_in(&mut self, phone: &str) -> HttpReply {
        self.env.clock.advance(chrono::Duration::seconds(61));
        let form = self.get("/app/sign-in").await;
        assert_eq!(form.status, 200, "{}", form.body);
        let before = self.env.phones.count(&e164(phone));
        let asked = self
            .post(
                "/app/sign-in",
                &[("csrf", &field(&form.body, "csrf")), ("phone", phone)],
            )
            .await;
        assert_eq!(asked.status, 200, "{}", asked.body);
        let code = self.env.phones.code(&e164(phone), before + 1).await;
        self.post(
            "/app/sign-in/code",
            &[
                ("csrf", &field(&asked.body, "csrf")),
                ("phone", phone),
                ("code", &code),
            ],
        )
        .await
    }
}

fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The value of `name="field"`'s `value` in a page, as a browser reads
/// it (markup escapes undone).
fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in {html}"));
    html[at + marker.len()..]
        .split('"')
        .next()
        .unwrap()
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Staff take issue `name` up and send it to firm A, which starts and
/// resolves it with `note` and `media`.
async fn resolved_by_firm_a(
    env: &Env,
    w: &World,
    name: &str,
    note: &str,
    media: Vec<cogov_proto::common::Media>,
) {
    let mut staff = env.issues(env.street_admin());
    staff
        .acknowledge_issue(AcknowledgeIssueRequest {
            name: name.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    staff
        .dispatch_issue(DispatchIssueRequest {
            name: name.into(),
            assignee: w.firm_a.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut firm = env.issues(key(&w.key_a));
    firm.start_issue(StartIssueRequest {
        name: name.into(),
        ..Default::default()
    })
    .await
    .unwrap();
    firm.resolve_issue(ResolveIssueRequest {
        name: name.into(),
        note: note.into(),
        media,
        ..Default::default()
    })
    .await
    .unwrap();
}

/// The issue id a report's answer sends the browser to.
fn reported_issue(reply: &HttpReply) -> String {
    assert_eq!(reply.status, 303, "{}", reply.body);
    let location = reply.header("location").unwrap();
    let id = location
        .strip_prefix("/app/issues/")
        .and_then(|r| r.strip_suffix("?reported=1"))
        .unwrap_or_else(|| panic!("not an issue page: {location}"));
    id.to_owned()
}

async fn count_issues(env: &Env, courtyard: &str) -> usize {
    env.issues(env.street_admin())
        .list_issues(ListIssuesRequest {
            filter: format!("courtyard = \"{courtyard}\""),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .issues
        .len()
}

async fn app_sign_in_report_and_follow(env: Env) {
    let w = World::build(&env).await;
    env.orgs(env.street_admin())
        .create_person(org::CreatePersonRequest {
            person: Some(org::Person {
                display_name: "张师傅".into(),
                community: w.community_a.clone(),
                courtyard: w.a1.clone(),
                phone: PHONE_A1_NEIGHBOUR.into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
    let mut phone = Phone::new(&env);

    // Signed out, every page sends you to sign in; the address people type
    // goes home.
    let home = phone.get("/app/home").await;
    assert_eq!(home.status, 303);
    assert_eq!(home.header("location").unwrap(), "/app/sign-in");
    let slash = phone.get("/app/").await;
    assert_eq!(slash.header("location").unwrap(), "/app/home");

    // The sign-in page: Chinese first, no inline script, not framed.
    let form = phone.get("/app/sign-in").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("<html lang=\"zh-CN\">"), "{}", form.body);
    let csp = form.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe"),
        "our own script files only: {csp}"
    );
    assert!(!form.body.contains("<script"), "{}", form.body);
    assert_eq!(form.header("x-frame-options").unwrap(), "DENY");

    // The form token is bound to the browser: another site cannot post it.
    let before = env.phones.count(&e164(PHONE_A1));
    let forged = Phone::new(&env)
        .post("/app/sign-in", &[("csrf", "guess"), ("phone", PHONE_A1)])
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(env.phones.count(&e164(PHONE_A1)), before, "no code sent");

    // A number that is not one is refused on the form, nothing sent.
    let bad = phone
        .post(
            "/app/sign-in",
            &[("csrf", &field(&form.body, "csrf")), ("phone", "12345")],
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("role=\"alert\""), "{}", bad.body);

    // A wrong code: refused, no session.
    env.clock.advance(chrono::Duration::seconds(61));
    let form = phone.get("/app/sign-in").await;
    let asked = phone
        .post(
            "/app/sign-in",
            &[("csrf", &field(&form.body, "csrf")), ("phone", PHONE_A1)],
        )
        .await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    let wrong = phone
        .post(
            "/app/sign-in/code",
            &[
                ("csrf", &field(&asked.body, "csrf")),
                ("phone", PHONE_A1),
                ("code", "000000"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    assert!(!phone.cookies.contains_key("cogov_resident"));

    // The right code: a session cookie, httpOnly, for the app only.
    let signed_in = phone.sign_in(PHONE_A1).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    assert_eq!(signed_in.header("location").unwrap(), "/app/home");
    let set = signed_in
        .headers("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("cogov_resident="))
        .unwrap();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/app"] {
        assert!(set.contains(attribute), "{set}");
    }
    assert!(
        phone.get("/app/sign-in").await.status == 303,
        "signed in already"
    );

    // The noticeboard: who and where, the two-nos goal.
    let home = phone.get("/app/home").await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.body.contains("王阿姨"), "{}", home.body);
    assert!(home.body.contains("two-nos-met"), "{}", home.body);
    assert!(!home.body.contains("id=\"pending\""), "verified by staff");

    // Reporting: a form token and a request id from the form.
    let form = phone.get("/app/report").await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(
        form.body.contains("subItems/clutter_piling"),
        "{}",
        form.body
    );
    let csrf = field(&form.body, "csrf");
    let request_id = field(&form.body, "request_id");
    let report = |csrf: String, request_id: String, confirmed: &'static str| {
        vec![
            ("csrf", csrf),
            ("request_id", request_id),
            ("sub_item", "subItems/clutter_piling".to_owned()),
            ("courtyard", w.a1.clone()),
            ("title", "楼道堆物".to_owned()),
            ("description", "三单元一楼堆满纸箱".to_owned()),
            ("address_text", "3号楼".to_owned()),
            ("confirmed", confirmed.to_owned()),
        ]
    };
    let post = async |phone: &mut Phone<'_>, fields: Vec<(&'static str, String)>| {
        let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        phone.post_multipart("/app/report", &borrowed, &[]).await
    };
    // Without the form token nothing is reported.
    let forged = post(&mut phone, report("guess".into(), request_id.clone(), "")).await;
    assert_eq!(forged.status, 403);
    assert_eq!(count_issues(&env, &w.a1).await, 0);
    // No similar report open: it goes in at once.
    let fields = report(csrf.clone(), request_id.clone(), "");
    let first = reported_issue(&post(&mut phone, fields.clone()).await);
    // A retry (a double tap, a reload) returns the same issue.
    let again = reported_issue(&post(&mut phone, fields).await);
    assert_eq!(first, again);
    assert_eq!(count_issues(&env, &w.a1).await, 1);

    // Someone else's report of the same problem first shows the open one.
    let mut neighbour = Phone::new(&env);
    assert_eq!(neighbour.sign_in(PHONE_A1_NEIGHBOUR).await.status, 303);
    let form = neighbour.get("/app/report").await;
    let csrf = field(&form.body, "csrf");
    let second_id = field(&form.body, "request_id");
    assert_ne!(second_id, request_id, "each form its own request id");
    let similar = post(&mut neighbour, report(csrf.clone(), second_id.clone(), "")).await;
    assert_eq!(similar.status, 200, "{}", similar.body);
    assert!(
        similar.body.contains(&format!("/app/issues/{first}")),
        "{}",
        similar.body
    );
    assert_eq!(count_issues(&env, &w.a1).await, 1, "nothing reported yet");
    // "That's it": the neighbour follows the open one instead.
    assert!(
        similar.body.contains(&format!("id=\"follow-{first}\"")),
        "{}",
        similar.body
    );
    let followed = neighbour
        .post(
            &format!("/app/issues/{first}/follow"),
            &[("csrf", &field(&similar.body, "csrf"))],
        )
        .await;
    assert_eq!(followed.status, 303, "{}", followed.body);
    assert_eq!(
        followed.header("location").unwrap(),
        format!("/app/issues/{first}?followed=1")
    );
    let page = neighbour
        .get(&format!("/app/issues/{first}?followed=1"))
        .await;
    assert!(page.body.contains("id=\"now-following\""), "{}", page.body);
    assert!(page.body.contains("id=\"unfollow\""), "{}", page.body);
    let theirs = neighbour.get("/app/reports").await;
    let following = theirs
        .body
        .split("id=\"following\"")
        .nth(1)
        .unwrap_or_else(|| panic!("a following list: {}", theirs.body));
    assert!(following.contains(&format!("/app/issues/{first}")));
    assert_eq!(
        count_issues(&env, &w.a1).await,
        1,
        "following reports nothing"
    );
    // … and reports only when the resident says it is another problem.
    let second =
        reported_issue(&post(&mut neighbour, report(csrf.clone(), second_id, "yes")).await);
    assert_ne!(second, first);
    assert_eq!(count_issues(&env, &w.a1).await, 2);
    // A sub-item that is none: refused with the form kept, nothing stored.
    let form = phone.get("/app/report").await;
    let csrf = field(&form.body, "csrf");
    let mut bad = report(csrf.clone(), field(&form.body, "request_id"), "yes");
    bad[2].1 = "subItems/nonsense".into();
    let refused = post(&mut phone, bad).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains("三单元一楼堆满纸箱"),
        "the form is kept"
    );
    assert_eq!(count_issues(&env, &w.a1).await, 2);
    // A position half given, unreadable or off the globe: refused with
    // words, nothing stored.
    for (lat, lng) in [
        ("39.88", ""),
        ("north", "116.36"),
        ("NaN", "116.36"),
        ("95", "116.36"),
    ] {
        let form = phone.get("/app/report").await;
        let mut bad = report(
            field(&form.body, "csrf"),
            field(&form.body, "request_id"),
            "yes",
        );
        bad.push(("latitude", lat.into()));
        bad.push(("longitude", lng.into()));
        let refused = post(&mut phone, bad).await;
        assert_eq!(refused.status, 400, "{lat}, {lng}: {}", refused.body);
        assert!(refused.body.contains("id=\"error\""), "{}", refused.body);
    }
    assert_eq!(count_issues(&env, &w.a1).await, 2);
    // Placed by the phone ("use my location"): the issue keeps where.
    let form = phone.get("/app/report").await;
    let mut placed = report(
        field(&form.body, "csrf"),
        field(&form.body, "request_id"),
        "yes",
    );
    placed.push(("latitude", "39.886123".into()));
    placed.push(("longitude", "116.362361".into()));
    let placed = reported_issue(&post(&mut phone, placed).await);
    let at = env
        .issues(env.street_admin())
        .get_issue(GetIssueRequest {
            name: format!("issues/{placed}"),
        })
        .await
        .unwrap()
        .into_inner()
        .location
        .expect("the issue has the phone's position");
    assert!((at.latitude - 39.886123).abs() < 1e-9, "{at:?}");
    assert!((at.longitude - 116.362361).abs() < 1e-9, "{at:?}");
    let page = phone.get(&format!("/app/issues/{placed}")).await;
    assert!(page.body.contains("39.88612, 116.36236"), "{}", page.body);
    assert_eq!(count_issues(&env, &w.a1).await, 3);

    // My reports list mine, not the neighbour's.
    let mine = phone.get("/app/reports").await;
    assert_eq!(mine.status, 200);
    assert!(mine.body.contains(&first));
    assert!(!mine.body.contains(&second));

    // The issue page: mine, nothing to confirm yet.
    let page = phone.get(&format!("/app/issues/{first}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("三单元一楼堆满纸箱"));
    assert!(!page.body.contains("confirm-form"));

    // Staff take it up and the firm resolves it: the reporter is told,
    // and may confirm.
    let name = format!("issues/{first}");
    let mut staff = env.issues(env.street_admin());
    resolved_by_firm_a(&env, &w, &name, "纸箱已清走", Vec::new()).await;
    let page = phone.get(&format!("/app/issues/{first}")).await;
    assert!(page.body.contains("confirm-form"), "{}", page.body);
    assert!(page.body.contains("纸箱已清走"));
    assert!(
        page.body.contains("Firm A"),
        "the assignee by name: {}",
        page.body
    );
    let mut told = false;
    for _ in 0..100 {
        let inbox = phone.get("/app/inbox").await;
        assert_eq!(inbox.status, 200);
        if inbox.body.contains(&format!("/app/issues/{first}")) {
            told = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(told, "the inbox tells of the fix");
    // … and the neighbour who follows it hears of it too.
    let mut told = false;
    for _ in 0..100 {
        let inbox = neighbour.get("/app/inbox").await;
        if inbox.body.contains("您关注的问题已办结")
            && inbox.body.contains(&format!("/app/issues/{first}"))
        {
            told = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(told, "the follower's inbox tells of the fix");
    let inbox = neighbour.get("/app/inbox").await;
    assert!(
        !inbox.body.contains("请您确认"),
        "a follower is told, not asked to confirm: {}",
        inbox.body
    );

    // A stale page's etag cannot confirm; the page's own can.
    let csrf = field(&page.body, "csrf");
    let etag = field(&page.body, "etag");
    let stale = phone
        .post(
            &format!("/app/issues/{first}/confirm"),
            &[
                ("csrf", &csrf),
                ("etag", "\"stale\""),
                ("satisfaction", "5"),
            ],
        )
        .await;
    assert_eq!(stale.status, 409, "{}", stale.body);
    let confirmed = phone
        .post(
            &format!("/app/issues/{first}/confirm"),
            &[
                ("csrf", &csrf),
                ("etag", &etag),
                ("satisfaction", "4"),
                ("text", "谢谢"),
            ],
        )
        .await;
    assert_eq!(confirmed.status, 303, "{}", confirmed.body);
    let issue = staff
        .get_issue(GetIssueRequest { name: name.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(issue.state, IssueState::Closed as i32);
    assert_eq!(issue.confirmation.unwrap().satisfaction, 4);
    let page = phone.get(&format!("/app/issues/{first}")).await;
    assert!(page.body.contains("★★★★☆"), "{}", page.body);

    // Another resident, of another courtyard and community, cannot open it.
    let mut other = Phone::new(&env);
    assert_eq!(other.sign_in(PHONE_B1).await.status, 303);
    let theirs = other.get(&format!("/app/issues/{first}")).await;
    assert_ne!(theirs.status, 200);
    assert!(!theirs.body.contains("三单元一楼堆满纸箱"));
    assert!(!theirs.body.contains("王阿姨"));
    // Nor act on it with their own session's token.
    let their_csrf = field(&other.get("/app/me").await.body, "csrf");
    let comment = other
        .post(
            &format!("/app/issues/{first}/comment"),
            &[("csrf", &their_csrf), ("text", "hi")],
        )
        .await;
    assert_ne!(comment.status, 303);
    // A form token is its session's: mine does not work in their browser.
    let crossed = other
        .post(
            &format!("/app/issues/{first}/comment"),
            &[("csrf", &csrf), ("text", "hi")],
        )
        .await;
    assert_eq!(crossed.status, 403);

    // The language switch returns to the app page it came from, only.
    let en = phone.get("/app/language/en?back=/app/reports").await;
    assert_eq!(en.header("location").unwrap(), "/app/reports");
    let english = phone.get("/app/reports").await;
    assert!(english.body.contains("<html lang=\"en\">"));
    assert!(english.body.contains("My reports"));
    let away = phone.get("/app/language/en?back=//evil.example/").await;
    assert_eq!(away.header("location").unwrap(), "/app/home");
}

async fn app_registration_and_sessions(env: Env) {
    let w = World::build(&env).await;
    let newcomer = "139 1234 5678";

    // A number nobody has: the code leads to registration.
    let mut phone = Phone::new(&env);
    let answer = phone.sign_in(newcomer).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(answer.header("location").unwrap(), "/app/register");
    assert!(!phone.cookies.contains_key("cogov_resident"));
    let form = phone.get("/app/register").await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains(&w.a1), "the courtyards to choose from");
    let version = field(&form.body, "notice_version");
    assert!(!version.is_empty());

    // Without consent nothing is registered.
    let csrf = field(&form.body, "csrf");
    let fields = |consent: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("display_name", "新居民".to_owned()),
            ("courtyard", w.a1.clone()),
            ("notice_version", version.clone()),
            ("consent", consent.to_owned()),
        ]
    };
    let post = async |phone: &mut Phone<'_>, fields: Vec<(&'static str, String)>| {
        let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        phone.post("/app/register", &borrowed).await
    };
    let refused = post(&mut phone, fields("")).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("新居民"), "the form is kept");
    let registry = |env: &Env| {
        let mut orgs = env.orgs(env.street_admin());
        async move {
            orgs.list_persons(org::ListPersonsRequest {
                page_size: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .persons
            .into_iter()
            .filter(|p| p.display_name == "新居民")
            .count()
        }
    };
    assert_eq!(registry(&env).await, 0);

    // With consent: registered, signed in, waiting for verification.
    let csrf2 = field(&refused.body, "csrf");
    let mut with_consent = fields("yes");
    with_consent[0].1 = csrf2;
    let registered = post(&mut phone, with_consent).await;
    assert_eq!(registered.status, 303, "{}", registered.body);
    assert_eq!(registered.header("location").unwrap(), "/app/home");
    assert!(
        !phone.cookies.contains_key("cogov_ticket"),
        "the ticket is spent"
    );
    assert_eq!(registry(&env).await, 1);
    let home = phone.get("/app/home").await;
    assert!(home.body.contains("id=\"pending\""), "{}", home.body);

    // The resident of a1 signs in on two devices; the app's session is one
    // of theirs, listed and ended like the others.
    let mut first = Phone::new(&env);
    assert_eq!(first.sign_in(PHONE_A1).await.status, 303);
    let mut second = Phone::new(&env);
    assert_eq!(second.sign_in(PHONE_A1).await.status, 303);
    let me = first.get("/app/me").await;
    assert_eq!(me.status, 200);
    assert_eq!(
        me.body.matches("test phone browser").count(),
        2,
        "{}",
        me.body
    );
    let sessions = env
        .residents(env.street_admin())
        .list_resident_sessions(ListResidentSessionsRequest {
            parent: w.resident_a1.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .sessions;
    assert_eq!(sessions.len(), 2);
    assert!(sessions.iter().all(|s| s.device.starts_with("web · ")));

    // Ending the other device from the first: the second is signed out at
    // its next page.
    let other = me
        .body
        .split("/app/me/sessions/")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap()
        .to_owned();
    let ended = first
        .post(
            &format!("/app/me/sessions/{other}/end"),
            &[("csrf", &field(&me.body, "csrf"))],
        )
        .await;
    assert_eq!(ended.status, 303, "{}", ended.body);
    let gone = second.get("/app/home").await;
    assert_eq!(gone.status, 303);
    assert_eq!(gone.header("location").unwrap(), "/app/sign-in");
    assert_eq!(first.get("/app/home").await.status, 200);

    // A session lasts 30 days unless used: a page a day keeps it.
    for _ in 0..3 {
        env.clock.advance(chrono::Duration::days(20));
        assert_eq!(first.get("/app/home").await.status, 200);
    }

    // The export is a download of the resident's data.
    let me = first.get("/app/me").await;
    let export = first
        .post("/app/me/export", &[("csrf", &field(&me.body, "csrf"))])
        .await;
    assert_eq!(export.status, 200, "{}", export.body);
    assert!(
        export
            .header("content-disposition")
            .unwrap()
            .starts_with("attachment")
    );
    assert!(export.body.contains("王阿姨"), "{}", export.body);

    // Signing out ends the session server-side: the old cookie is dead.
    let kept = first.cookies.clone();
    let out = first
        .post("/app/sign-out", &[("csrf", &field(&me.body, "csrf"))])
        .await;
    assert_eq!(out.status, 303, "{}", out.body);
    assert!(!first.cookies.contains_key("cogov_resident"));
    first.cookies = kept;
    assert_eq!(first.get("/app/home").await.status, 303);

    // Staff ending a session, and a made-up cookie, are the same.
    let mut forged = Phone::new(&env);
    forged.cookies.insert(
        "cogov_resident".into(),
        format!("cgw_{}.AAAA", uuid::Uuid::now_v7().simple()),
    );
    assert_eq!(forged.get("/app/home").await.status, 303);
}

/// Posts `fields` (repeated keys allowed) to `path`.
async fn post_fields(phone: &mut Phone<'_>, path: &str, fields: &[(String, String)]) -> HttpReply {
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    phone.post(path, &borrowed).await
}

async fn app_activities_and_council(env: Env) {
    use cogov_proto::deliberation as d;
    use cogov_proto::deliberation::deliberation_service_client::DeliberationServiceClient;
    use cogov_proto::volunteers as v;
    use cogov_proto::volunteers::volunteers_service_client::VolunteersServiceClient;

    let w = World::build(&env).await;
    env.orgs(env.street_admin())
        .create_person(org::CreatePersonRequest {
            person: Some(org::Person {
                display_name: "张师傅".into(),
                community: w.community_a.clone(),
                courtyard: w.a1.clone(),
                phone: PHONE_A1_NEIGHBOUR.into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
    let ts = |hours: i64| {
        Some(cogov_kit::convert::timestamp(
            env.clock.now() + chrono::Duration::hours(hours),
        ))
    };

    // Staff publish an activity with one place and a waitlist.
    let mut staff_v =
        VolunteersServiceClient::with_interceptor(env.gateway.channel.clone(), env.street_admin());
    let activity = staff_v
        .create_activity(v::CreateActivityRequest {
            activity: Some(v::Activity {
                title: "楼道大扫除".into(),
                community: w.community_a.clone(),
                courtyard: w.a1.clone(),
                organizing_organization: w.firm_a.clone(),
                start_time: ts(48),
                end_time: ts(50),
                capacity: 1,
                waitlist_capacity: 2,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    staff_v
        .publish_activity(v::PublishActivityRequest {
            name: activity.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let activity_page = format!(
        "/app/activities/{}",
        activity.name.rsplit('/').next().unwrap()
    );

    // Two neighbours become volunteers in the app and sign up: one place,
    // then the waitlist.
    let mut a1 = Phone::new(&env);
    assert_eq!(a1.sign_in(PHONE_A1).await.status, 303);
    let mut neighbour = Phone::new(&env);
    assert_eq!(neighbour.sign_in(PHONE_A1_NEIGHBOUR).await.status, 303);
    for phone in [&mut a1, &mut neighbour] {
        let list = phone.get("/app/activities").await;
        assert_eq!(list.status, 200, "{}", list.body);
        assert!(list.body.contains(&activity_page), "{}", list.body);
        assert!(list.body.contains("become-volunteer"));
        let made = phone
            .post("/app/volunteer", &[("csrf", &field(&list.body, "csrf"))])
            .await;
        assert_eq!(made.status, 303, "{}", made.body);
        let list = phone.get("/app/activities").await;
        assert!(list.body.contains("id=\"my-hours\""), "{}", list.body);
        let page = phone.get(&activity_page).await;
        let signed = phone
            .post(
                &format!("{activity_page}/signup"),
                &[
                    ("csrf", &field(&page.body, "csrf")),
                    ("request_id", &field(&page.body, "request_id")),
                ],
            )
            .await;
        assert_eq!(signed.status, 303, "{}", signed.body);
        // A retried sign-up is the same sign-up.
        let again = phone
            .post(
                &format!("{activity_page}/signup"),
                &[
                    ("csrf", &field(&page.body, "csrf")),
                    ("request_id", &field(&page.body, "request_id")),
                ],
            )
            .await;
        assert_eq!(again.status, 303, "{}", again.body);
    }
    let mine = a1.get(&activity_page).await;
    assert!(mine.body.contains("id=\"signup-state\""), "{}", mine.body);
    assert!(
        !mine.body.contains("id=\"position\""),
        "confirmed, not waiting"
    );
    let theirs = neighbour.get(&activity_page).await;
    assert!(
        theirs.body.contains("id=\"position\">1<"),
        "{}",
        theirs.body
    );
    // The first cancels: the neighbour moves up and is told.
    let cancelled = a1
        .post(
            &format!("{activity_page}/cancel"),
            &[
                ("csrf", &field(&mine.body, "csrf")),
                ("signup", &field(&mine.body, "signup")),
                ("etag", &field(&mine.body, "etag")),
            ],
        )
        .await;
    assert_eq!(cancelled.status, 303, "{}", cancelled.body);
    let theirs = neighbour.get(&activity_page).await;
    assert!(!theirs.body.contains("id=\"position\""), "{}", theirs.body);
    assert!(theirs.body.contains("cancel-signup"));
    let mut told = false;
    for _ in 0..100 {
        let inbox = neighbour.get("/app/inbox").await;
        if inbox.body.contains("楼道大扫除") {
            told = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(told, "the neighbour's inbox tells of the place");

    // The council of a1: a proposed topic to co-sign, one in discussion
    // with a poll in each of the eight methods.
    let mut staff_d = DeliberationServiceClient::with_interceptor(
        env.gateway.channel.clone(),
        env.street_admin(),
    );
    let council = staff_d
        .create_council(d::CreateCouncilRequest {
            council: Some(d::Council {
                display_name: "a1 议事会".into(),
                place: w.a1.clone(),
                support_threshold: 2,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .name;
    let topic = |title: &str| d::CreateTopicRequest {
        topic: Some(d::Topic {
            council: council.clone(),
            title: title.into(),
            description: "大家说说".into(),
            ..Default::default()
        }),
        request_id: String::new(),
    };
    let proposed = staff_d
        .create_topic(topic("夜间停车"))
        .await
        .unwrap()
        .into_inner();
    let discussed = staff_d
        .create_topic(topic("先修哪里"))
        .await
        .unwrap()
        .into_inner();
    staff_d
        .schedule_topic(d::ScheduleTopicRequest {
            name: discussed.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    staff_d
        .open_topic_discussion(d::OpenTopicDiscussionRequest {
            name: discussed.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    // (method, the ballot the app's form sends), in the fixture's order.
    type Ballot = Vec<(&'static str, &'static str)>;
    let ballots: Vec<(d::PollMethod, Ballot)> = vec![
        (d::PollMethod::Proposal, vec![("choice", "agree")]),
        (d::PollMethod::Consent, vec![("choice", "consent")]),
        (
            d::PollMethod::Choose,
            vec![("choice", "a"), ("choice", "c")],
        ),
        (
            d::PollMethod::Score,
            vec![("score.a", "5"), ("score.b", "0")],
        ),
        (
            d::PollMethod::RankedChoice,
            vec![("rank.a", "2"), ("rank.b", ""), ("rank.c", "1")],
        ),
        (
            d::PollMethod::DotVote,
            vec![("dots.a", "3"), ("dots.b", "2")],
        ),
        (d::PollMethod::Count, vec![("choice", "count_me_in")]),
        (
            d::PollMethod::TimePoll,
            vec![("time.t1", "2"), ("time.t2", "0")],
        ),
    ];
    let mut polls = Vec::new();
    for (poll, (method, _)) in
        cogov_kit::testing::polls::one_of_each_method(&discussed.name, env.clock.now())
            .into_iter()
            .zip(&ballots)
    {
        assert_eq!(poll.method, *method as i32, "the fixture's order");
        let p = staff_d
            .create_poll(d::CreatePollRequest {
                poll: Some(poll),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        staff_d
            .open_poll(d::OpenPollRequest {
                name: p.name.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        polls.push(p.name);
    }

    let council_page = a1.get("/app/council").await;
    assert_eq!(council_page.status, 200, "{}", council_page.body);
    for p in &polls {
        assert!(council_page.body.contains(&format!("/app/{p}")), "{p}");
    }

    // Co-signing the proposed topic counts once.
    let topic_page = format!("/app/{}", proposed.name);
    let page = a1.get(&topic_page).await;
    assert!(page.body.contains("id=\"co-sign\""), "{}", page.body);
    let signed = a1
        .post(
            &format!("{topic_page}/support"),
            &[("csrf", &field(&page.body, "csrf"))],
        )
        .await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    let support = staff_d
        .get_topic(d::GetTopicRequest {
            name: proposed.name.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .support_count;
    assert_eq!(support, 1);

    // An opinion and a reply to it, shown without names.
    let topic_page = format!("/app/{}", discussed.name);
    let page = a1.get(&topic_page).await;
    let said = a1
        .post(
            &format!("{topic_page}/opinion"),
            &[
                ("csrf", &field(&page.body, "csrf")),
                ("request_id", &field(&page.body, "request_id")),
                ("stance", "STANCE_SUPPORT"),
                ("text", "先修屋顶"),
            ],
        )
        .await;
    assert_eq!(said.status, 303, "{}", said.body);
    let page = neighbour.get(&topic_page).await;
    assert!(page.body.contains("先修屋顶"), "{}", page.body);
    assert!(!page.body.contains("王阿姨"), "no names in the discussion");
    let opinion = page
        .body
        .split("name=\"reply_to\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned();
    let replied = neighbour
        .post(
            &format!("{topic_page}/opinion"),
            &[
                ("csrf", &field(&page.body, "csrf")),
                ("request_id", &uuid::Uuid::new_v4().to_string()),
                ("reply_to", &opinion),
                ("stance", "STANCE_CONCERN"),
                ("text", "屋顶要等天晴"),
            ],
        )
        .await;
    assert_eq!(replied.status, 303, "{}", replied.body);
    let page = a1.get(&topic_page).await;
    let thread = page
        .body
        .split("class=\"replies\"")
        .nth(1)
        .unwrap_or_default();
    assert!(
        thread.contains("屋顶要等天晴"),
        "the reply under its opinion"
    );
    // A long discussion comes a page at a time, replies with their opinions.
    for i in 0..35 {
        let said = a1
            .post(
                &format!("{topic_page}/opinion"),
                &[
                    ("csrf", &field(&page.body, "csrf")),
                    ("request_id", &uuid::Uuid::new_v4().to_string()),
                    ("stance", "STANCE_NEUTRAL"),
                    ("text", &format!("意见{i}")),
                ],
            )
            .await;
        assert_eq!(said.status, 303, "{}", said.body);
    }
    let first = a1.get(&topic_page).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(
        first.body.contains("屋顶要等天晴"),
        "the first thread, with its reply"
    );
    let next = first
        .body
        .split(&format!("href=\"{topic_page}?page="))
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a link to the next page")
        .replace("&#38;", "&");
    let second = a1.get(&format!("{topic_page}?page={next}")).await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert!(
        second.body.contains("意见34"),
        "the last opinions on the next page"
    );
    assert!(!second.body.contains("屋顶要等天晴"));

    // A ballot in each method, from the form each poll shows; the result
    // (shown after voting) read back over gRPC as the same resident.
    let mut as_a1 = DeliberationServiceClient::with_interceptor(
        env.gateway.channel.clone(),
        env.resident(PHONE_A1).await,
    );
    for ((method, ballot), poll) in ballots.iter().zip(&polls) {
        let path = format!("/app/{poll}");
        let page = a1.get(&path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(
            page.body.contains("id=\"result-hidden\""),
            "not before voting"
        );
        for (input, value) in ballot {
            if input.contains('.') {
                assert!(
                    page.body.contains(&format!("name=\"{input}\"")),
                    "{method:?}: no {input} input in {}",
                    page.body
                );
            } else {
                assert!(
                    page.body
                        .contains(&format!("name=\"choice\" value=\"{value}\"")),
                    "{method:?}: no choice {value} in {}",
                    page.body
                );
            }
        }
        let mut fields = vec![
            ("csrf".to_owned(), field(&page.body, "csrf")),
            ("request_id".to_owned(), field(&page.body, "request_id")),
        ];
        if *method == d::PollMethod::DotVote {
            // Over the budget: refused, nothing cast.
            let mut over = fields.clone();
            over.push(("dots.a".into(), "6".into()));
            let refused = post_fields(&mut a1, &format!("{path}/vote"), &over).await;
            assert_eq!(refused.status, 400, "{}", refused.body);
        }
        fields.extend(ballot.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let cast = post_fields(&mut a1, &format!("{path}/vote"), &fields).await;
        assert_eq!(cast.status, 303, "{method:?}: {}", cast.body);
        let page = a1.get(&format!("{path}?voted=1")).await;
        assert!(page.body.contains("id=\"voted\""));
        assert!(
            page.body.contains("id=\"result\""),
            "{method:?}: {}",
            page.body
        );
        let result = as_a1
            .get_poll_result(d::GetPollResultRequest { poll: poll.clone() })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(result.participants, 1, "{method:?}");
    }

    // A resident still waiting for verification may not volunteer.
    let mut newcomer = Phone::new(&env);
    assert_eq!(newcomer.sign_in("139 8765 4321").await.status, 303);
    let form = newcomer.get("/app/register").await;
    let registered = newcomer
        .post(
            "/app/register",
            &[
                ("csrf", &field(&form.body, "csrf")),
                ("display_name", "新来的"),
                ("courtyard", &w.a1),
                ("notice_version", &field(&form.body, "notice_version")),
                ("consent", "yes"),
            ],
        )
        .await;
    assert_eq!(registered.status, 303, "{}", registered.body);
    let list = newcomer.get("/app/activities").await;
    let refused = newcomer
        .post("/app/volunteer", &[("csrf", &field(&list.body, "csrf"))])
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
}

/// A camera's JPEG: a small image with an EXIF block holding where it was
/// taken.
fn camera_jpeg() -> Vec<u8> {
    let image = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(120, 90, |x, y| {
        image::Rgb([(x * 2) as u8, (y * 2) as u8, 90])
    }));
    let mut plain = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut plain, image::ImageFormat::Jpeg)
        .unwrap();
    let plain = plain.into_inner();
    let payload = b"Exif\0\0GPSLatitude 39.8841 N GPSLongitude 116.3652 E";
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&plain[2..]);
    out
}

/// The `(thumbnail, full)` links of the photos in a page's list `id`.
fn photo_links(html: &str, id: &str) -> Vec<(String, String)> {
    let Some(list) = html.split(&format!("id=\"{id}\"")).nth(1) else {
        return Vec::new();
    };
    let list = list.split("</ul>").next().unwrap();
    let unescape = |s: &str| s.replace("&#38;", "&").replace("&amp;", "&");
    list.split("<li>")
        .skip(1)
        .map(|item| {
            let attr = |name: &str| {
                unescape(
                    item.split(&format!("{name}=\""))
                        .nth(1)
                        .unwrap()
                        .split('"')
                        .next()
                        .unwrap(),
                )
            };
            (attr("src"), attr("href"))
        })
        .collect()
}

async fn app_photos_kept_and_shown(env: Env) {
    let w = World::build(&env).await;
    let mut phone = Phone::new(&env);
    assert_eq!(phone.sign_in(PHONE_A1).await.status, 303);
    let sent = camera_jpeg();
    assert!(sent.windows(3).any(|w| w == b"GPS"));

    let report = async |phone: &mut Phone<'_>, files: &[(&str, &str, &[u8])]| {
        let form = phone.get("/app/report").await;
        let fields = [
            ("csrf", field(&form.body, "csrf")),
            ("request_id", field(&form.body, "request_id")),
            ("sub_item", "subItems/roof_leak".to_owned()),
            ("courtyard", w.a1.clone()),
            ("description", "屋顶漏水".to_owned()),
            ("confirmed", "yes".to_owned()),
        ];
        let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        phone.post_multipart("/app/report", &borrowed, files).await
    };

    // Bad photos are refused with words, and nothing is reported or kept.
    let script = b"<script>alert(document.cookie)</script>".to_vec();
    let mut eleven_mb = vec![0xFF, 0xD8, 0xFF, 0xE0];
    eleven_mb.resize(11 * 1024 * 1024, 0);
    let mut bomb = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageLuma8(image::GrayImage::new(1, 1))
        .write_to(&mut bomb, image::ImageFormat::Png)
        .unwrap();
    let mut bomb = bomb.into_inner();
    // Its header claims 100,000 × 100,000 pixels (the CRC is then wrong,
    // which a decoder may notice first: either way it is refused).
    bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    for (file, bytes, words) in [
        ("renamed.jpg", &script, "这不是照片"),
        ("huge.jpg", &eleven_mb, "照片太大"),
        ("bomb.png", &bomb, "照片"),
    ] {
        let refused = report(&mut phone, &[("photo", file, bytes)]).await;
        assert_eq!(refused.status, 400, "{file}: {}", refused.body);
        assert!(refused.body.contains(words), "{file}: {}", refused.body);
        assert!(refused.body.contains("屋顶漏水"), "the form is kept");
    }
    // A 50 MB file (a video picked by mistake): read to its end and
    // dropped, so the phone gets the words, not a reset connection.
    let mut fifty_mb = vec![0xFF, 0xD8, 0xFF, 0xE0];
    fifty_mb.resize(50 * 1024 * 1024, 0);
    let refused = report(&mut phone, &[("photo", "VID_0001.jpg", &fifty_mb)]).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("照片太大"), "{}", refused.body);
    assert!(refused.body.contains("屋顶漏水"), "the form is kept");
    assert_eq!(count_issues(&env, &w.a1).await, 0);
    assert_eq!(env.media_dir.files(), 0, "nothing kept");

    // A camera photo and a polyglot: both kept, as images only.
    let mut polyglot = camera_jpeg();
    polyglot.extend_from_slice(b"<html><script>steal()</script></html>");
    let reported = report(
        &mut phone,
        &[
            ("photo", "IMG_0001.jpg", &sent),
            ("photo", "odd.jpg", &polyglot),
        ],
    )
    .await;
    let id = reported_issue(&reported);
    assert_eq!(env.media_dir.files(), 4, "two photos and their thumbnails");
    let issue = env
        .issues(env.street_admin())
        .get_issue(GetIssueRequest {
            name: format!("issues/{id}"),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(issue.media.len(), 2);
    assert!(
        issue
            .media
            .iter()
            .all(|m| m.uri.starts_with("cogov-media:"))
    );

    // The page links them; the links serve the photos, without EXIF.
    let page = phone.get(&format!("/app/issues/{id}")).await;
    let links = photo_links(&page.body, "photos");
    assert_eq!(links.len(), 2, "{}", page.body);
    for (thumb, full) in &links {
        for link in [thumb, full] {
            let got = phone.get(link).await;
            assert_eq!(got.status, 200, "{link}");
            assert_eq!(got.header("content-type").unwrap(), "image/jpeg");
            assert_eq!(got.header("x-content-type-options").unwrap(), "nosniff");
            assert!(got.bytes.starts_with(&[0xFF, 0xD8, 0xFF]));
            for secret in [&b"Exif"[..], b"GPS", b"script"] {
                assert!(!got.bytes.windows(secret.len()).any(|w| w == secret));
            }
        }
    }
    // A link is good only as signed, and only for a while.
    let (thumb, full) = links[0].clone();
    let tampered = thumb.replace("sig=", "sig=x");
    assert_eq!(phone.get(&tampered).await.status, 403);
    let other_size = full.replace("size=full", "size=thumb");
    assert_eq!(phone.get(&other_size).await.status, 403);
    let other_photo = full.replace(
        links[0]
            .1
            .split('/')
            .nth(2)
            .unwrap()
            .split('.')
            .next()
            .unwrap(),
        links[1]
            .1
            .split('/')
            .nth(2)
            .unwrap()
            .split('.')
            .next()
            .unwrap(),
    );
    assert_eq!(phone.get(&other_photo).await.status, 403);

    // A resident of another community cannot open the issue, so gets no
    // link.
    let mut other = Phone::new(&env);
    assert_eq!(other.sign_in(PHONE_B1).await.status, 303);
    let theirs = other.get(&format!("/app/issues/{id}")).await;
    assert!(photo_links(&theirs.body, "photos").is_empty());

    // The firm uploads its after-photo through the upload door and
    // resolves with it; the resident sees it.
    let anonymous = http_exchange_bytes(
        &env,
        "POST",
        "/media",
        &[("content-type", "image/jpeg")],
        &sent,
    )
    .await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
    let auth = format!("Bearer {}", w.key_a);
    let not_a_photo = http_exchange_bytes(
        &env,
        "POST",
        "/media",
        &[("authorization", &auth), ("content-type", "image/jpeg")],
        &script,
    )
    .await;
    assert_eq!(not_a_photo.status, 400);
    assert!(
        not_a_photo.body.contains("PHOTO_NOT_AN_IMAGE"),
        "{}",
        not_a_photo.body
    );
    for too_large in [&eleven_mb, &fifty_mb] {
        let refused = http_exchange_bytes(
            &env,
            "POST",
            "/media",
            &[("authorization", &auth), ("content-type", "image/jpeg")],
            too_large,
        )
        .await;
        assert_eq!(refused.status, 413, "{}", refused.body);
        assert!(refused.body.contains("PHOTO_TOO_LARGE"), "{}", refused.body);
    }
    assert_eq!(
        env.media_dir.files(),
        4,
        "the report's two photos, nothing more"
    );
    let uploaded = http_exchange_bytes(
        &env,
        "POST",
        "/media",
        &[("authorization", &auth), ("content-type", "image/jpeg")],
        &sent,
    )
    .await;
    assert_eq!(uploaded.status, 201, "{}", uploaded.body);
    let answer: serde_json::Value = serde_json::from_str(&uploaded.body).unwrap();
    let after = answer["uri"].as_str().unwrap().to_owned();
    assert!(after.starts_with("cogov-media:"), "{after}");
    let after = cogov_proto::common::Media {
        uri: after.clone(),
        content_type: "image/jpeg".into(),
        role: cogov_proto::common::MediaRole::After as i32,
        ..Default::default()
    };
    resolved_by_firm_a(&env, &w, &format!("issues/{id}"), "已补漏", vec![after]).await;
    let page = phone.get(&format!("/app/issues/{id}")).await;
    let after_links = photo_links(&page.body, "after-photos");
    assert_eq!(after_links.len(), 1, "{}", page.body);
    assert_eq!(phone.get(&after_links[0].0).await.status, 200);
    // The report had no summary: the inbox names it by what was written.
    let mut named = false;
    for _ in 0..100 {
        if phone.get("/app/inbox").await.body.contains("「屋顶漏水」") {
            named = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(named, "the inbox names the report by its words");

    // Open311's media_url is a signed link on the gateway's address.
    let open311 = http_exchange(
        &env,
        "GET",
        &format!("/open311/v2/requests/{id}.json"),
        &[("x-api-key", &w.key_a)],
        "",
    )
    .await;
    assert_eq!(open311.status, 200, "{}", open311.body);
    let requests: serde_json::Value = serde_json::from_str(&open311.body).unwrap();
    let media_url = requests[0]["media_url"].as_str().unwrap().to_owned();
    let path = media_url
        .strip_prefix("http://cogov.test")
        .unwrap_or_else(|| panic!("{media_url}"));
    assert_eq!(http_exchange(&env, "GET", path, &[], "").await.status, 200);

    // Links lapse: two hours on, the page's links no longer work.
    env.clock.advance(chrono::Duration::hours(3));
    assert_eq!(phone.get(&thumb).await.status, 403);
    assert_eq!(http_exchange(&env, "GET", path, &[], "").await.status, 403);
}
