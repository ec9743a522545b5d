//! The residents' app in a real browser at phone size: Debian's Chromium,
//! headless, against `cogov up` with the Niujie demo. A demo resident signs
//! in with the code from `cogov up`'s log, reads their courtyard's
//! noticeboard, reports a problem with a photo from the phone's gallery,
//! sees it kept (the thumbnail loads), votes in the council's open poll,
//! and signs up for an activity. Every page fits 390 px, labels every
//! control, and passes axe-core (no serious or critical violation) when
//! `COGOV_AXE_JS` names axe.min.js, as CI does. Screenshots go beside the
//! console's.

use std::path::Path;
use std::time::Duration;

use chromiumoxide::Page;
use chromiumoxide::cdp::browser_protocol::browser::{
    PermissionDescriptor, PermissionSetting, SetPermissionParams,
};
use chromiumoxide::cdp::browser_protocol::dom::SetFileInputFilesParams;
use chromiumoxide::cdp::browser_protocol::emulation::SetGeolocationOverrideParams;
use cogov_proto::issues::GetIssueRequest;
use cogov_proto::issues::issues_service_client::IssuesServiceClient;

use crate::Bearer;
use crate::console::{
    Up, as_phone, click, fill, js, launch, open, screenshot, sign_in, start_up, unlabelled, until,
};

/// Checks what every app page must be: no sideways scrolling at phone
/// width, a label on every control, and (with axe-core) no serious or
/// critical accessibility violation.
async fn phone_fit(page: &Page, axe: Option<&str>, what: &str) {
    let overflow: bool = js(
        page,
        "document.documentElement.scrollWidth > document.documentElement.clientWidth + 1",
    )
    .await;
    assert!(!overflow, "{what}: wider than the phone");
    let bare = unlabelled(page).await;
    assert!(
        bare.is_empty(),
        "{what}: controls without a label: {bare:?}"
    );
    if let Some(axe) = axe {
        // The page's CSP allows no script; the DevTools protocol evaluates
        // regardless, as an extension would.
        js::<bool>(page, &format!("{axe};true")).await;
        let found: Vec<String> = js(
            page,
            "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations \
             .filter(v => v.impact === 'serious' || v.impact === 'critical') \
             .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')))",
        )
        .await;
        assert!(found.is_empty(), "{what}: axe-core found {found:#?}");
    }
}

/// A JPEG photo as a phone's gallery holds it.
fn gallery_photo(path: &std::path::Path) {
    let image = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(800, 600, |x, y| {
        image::Rgb([(x / 4) as u8, (y / 3) as u8, 120])
    }));
    image
        .save_with_format(path, image::ImageFormat::Jpeg)
        .unwrap();
}

/// Signs in with `phone` and the code `cogov up` logs for it.
async fn sign_in_by_phone(page: &Page, up: &Up, phone: &str, axe: Option<&str>) {
    fill(page, "#phone", phone).await;
    click(page, "#send-code").await;
    until(page, "!!document.querySelector('#code')").await;
    phone_fit(page, axe, "code").await;
    let code = up
        .codes
        .lock()
        .unwrap()
        .recv_timeout(Duration::from_secs(20))
        .expect("cogov up logged a sign-in code");
    fill(page, "#code", &code).await;
    click(page, "#sign-in").await;
}

/// Reports a broken stair light with `photo` from the gallery, through the
/// "same problem?" step if it comes, and answers the new issue's id.
/// `on_the_form`: the report form is open already (and may hold more).
async fn report_with_photo(
    page: &Page,
    app: &str,
    photo: &Path,
    axe: Option<&str>,
    on_the_form: bool,
) -> String {
    if !on_the_form {
        open(page, &format!("{app}/report")).await;
    }
    phone_fit(page, axe, "report").await;
    // Infrastructure's sub-items fold away under their category.
    js::<bool>(
        page,
        "(document.querySelector(\"input[value='subItems/lighting']\").closest('details').open = true, true)",
    )
    .await;
    click(page, "input[name=sub_item][value='subItems/lighting']").await;
    fill(page, "#address_text", "3号楼楼道").await;
    fill(page, "#description", "楼道灯坏了一个星期").await;
    let input = page.find_element("#photo").await.unwrap();
    page.execute(
        SetFileInputFilesParams::builder()
            .files(vec![photo.display().to_string()])
            .backend_node_id(input.backend_node_id)
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    screenshot(page, "app-report-phone").await;
    click(page, "#submit-report").await;
    until(
        page,
        "location.pathname.startsWith('/app/issues/') || !!document.querySelector('#similar')",
    )
    .await;
    if js::<bool>(page, "!!document.querySelector('#similar')").await {
        phone_fit(page, axe, "same problem?").await;
        click(page, "#report-anyway").await;
        until(page, "location.pathname.startsWith('/app/issues/')").await;
    }
    until(page, "!!document.querySelector('#reported')").await;
    js(page, "location.pathname.split('/').pop()").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn residents_use_the_app_on_a_phone() {
    let Some(chromium) = cogov_kit::testing::servers::chromium() else {
        return;
    };
    let axe = std::env::var("COGOV_AXE_JS")
        .ok()
        .filter(|p| !p.is_empty())
        .map(|p| std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("reading {p}: {e}")));
    if axe.is_none() {
        eprintln!("COGOV_AXE_JS is not set: the pages are not checked with axe-core");
    }
    let axe = axe.as_deref();
    let dir = std::env::temp_dir().join(format!("cogov-app-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let up = start_up(&dir).await;
    let app = up.console.replace("/console", "/app");
    let photo = dir.join("IMG_0042.jpg");
    gallery_photo(&photo);

    let (mut browser, events) = launch(&chromium, &dir, (390, 844)).await;
    let page = browser.new_page("about:blank").await.unwrap();
    as_phone(&page, true).await;

    // Signed out: the app asks for the number, in Chinese.
    open(&page, &format!("{app}/home")).await;
    until(&page, "location.pathname === '/app/sign-in'").await;
    assert_eq!(
        js::<String>(&page, "document.documentElement.lang").await,
        "zh-CN"
    );
    phone_fit(&page, axe, "sign-in").await;

    // The building head on the council signs in with the logged code.
    let phone = up
        .residents
        .first()
        .expect("cogov up names demo residents")
        .clone();
    sign_in_by_phone(&page, &up, &phone, axe).await;
    until(&page, "location.pathname === '/app/home'").await;
    until(&page, "!!document.querySelector('#two-nos-h')").await;
    phone_fit(&page, axe, "home").await;
    screenshot(&page, "app-home-phone").await;

    // "Use my location" on the report form: standing in another courtyard
    // of the community, the phone's position chooses that courtyard.
    open(&page, &format!("{app}/report")).await;
    let (other, lat, lng): (String, f64, f64) = js(
        &page,
        "(() => { const s = document.querySelector('#courtyard'); \
         const o = [...s.options].find(o => o.dataset.lat && o.value !== s.value); \
         return [o.value, parseFloat(o.dataset.lat), parseFloat(o.dataset.lng)]; })()",
    )
    .await;
    browser
        .execute(
            SetPermissionParams::builder()
                .permission(PermissionDescriptor::new("geolocation"))
                .setting(PermissionSetting::Granted)
                .origin(app.trim_end_matches("/app"))
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    page.execute(
        SetGeolocationOverrideParams::builder()
            .latitude(lat + 0.00002)
            .longitude(lng - 0.00002)
            .accuracy(12.0)
            .build(),
    )
    .await
    .unwrap();
    click(&page, "#locate").await;
    until(&page, "document.querySelector('#latitude').value !== ''").await;
    assert_eq!(
        js::<String>(&page, "document.querySelector('#courtyard').value").await,
        other,
        "the nearest courtyard is chosen"
    );
    let said: String = js(&page, "document.querySelector('#locate-status').innerText").await;
    assert!(said.contains("12"), "the accuracy in words: {said}");
    phone_fit(&page, axe, "report, located").await;

    // Report a problem with a photo from the gallery, placed by the phone.
    let placed = report_with_photo(&page, &app, &photo, axe, true).await;
    let at = IssuesServiceClient::with_interceptor(up.gateway.clone(), Bearer(up.token.clone()))
        .get_issue(GetIssueRequest {
            name: format!("issues/{placed}"),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(at.courtyard, other);
    let location = at.location.expect("the report carries the position");
    assert!(
        (location.latitude - (lat + 0.00002)).abs() < 1e-5,
        "{location:?}"
    );
    // The photo was kept: its thumbnail loads from its signed link.
    until(
        &page,
        "[...document.querySelectorAll('#photos img')].length === 1 && \
         [...document.querySelectorAll('#photos img')].every(i => i.complete && i.naturalWidth > 0)",
    )
    .await;
    phone_fit(&page, axe, "issue").await;
    screenshot(&page, "app-issue-phone").await;

    // The council's open poll: a ranked ballot from the page's selects.
    open(&page, &format!("{app}/council")).await;
    phone_fit(&page, axe, "council").await;
    let poll: String = js(
        &page,
        "document.querySelector('#open-polls a').getAttribute('href')",
    )
    .await;
    open(&page, &format!("{}{poll}", app.trim_end_matches("/app"))).await;
    phone_fit(&page, axe, "poll").await;
    let method: String = js(&page, "document.querySelector('#ballot').dataset.method").await;
    assert_eq!(method, "rank", "the demo's open poll ranks");
    js::<bool>(
        &page,
        "([...document.querySelectorAll('#ballot select')].forEach((s, i) => s.value = String(i + 1)), true)",
    )
    .await;
    screenshot(&page, "app-poll-phone").await;
    click(&page, "#cast-vote").await;
    until(&page, "!!document.querySelector('#voted')").await;
    until(&page, "!!document.querySelector('#result')").await;

    // Activities: a place in the first coming one.
    open(&page, &format!("{app}/activities")).await;
    phone_fit(&page, axe, "activities").await;
    if js::<bool>(&page, "!!document.querySelector('#become-volunteer')").await {
        click(&page, "#become-volunteer").await;
        until(&page, "!!document.querySelector('#my-hours')").await;
    }
    let activity: String = js(
        &page,
        "document.querySelector('#activities a').getAttribute('href')",
    )
    .await;
    open(
        &page,
        &format!("{}{activity}", app.trim_end_matches("/app")),
    )
    .await;
    click(&page, "#sign-up").await;
    until(&page, "!!document.querySelector('#signup-state')").await;
    phone_fit(&page, axe, "activity").await;

    // The inbox, and me: my sessions, my data.
    open(&page, &format!("{app}/inbox")).await;
    phone_fit(&page, axe, "inbox").await;
    open(&page, &format!("{app}/me")).await;
    phone_fit(&page, axe, "me").await;
    screenshot(&page, "app-me-phone").await;

    // English, and back to Chinese.
    click(&page, "a[hreflang=en]").await;
    until(&page, "document.documentElement.lang === 'en'").await;
    click(&page, "a[hreflang='zh-CN']").await;
    until(&page, "document.documentElement.lang === 'zh-CN'").await;

    // Signing out ends the session: the app asks for the number again.
    click(&page, "#sign-out").await;
    until(&page, "location.pathname === '/app/sign-in'").await;
    open(&page, &format!("{app}/home")).await;
    until(&page, "location.pathname === '/app/sign-in'").await;

    browser.close().await.unwrap();
    let _ = browser.wait().await;
    events.abort();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Sends `photo` to `POST /media` as a partner's system would, and answers
/// the name to put in a resolution's media.
async fn upload_as(http: &str, key: &str, photo: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = http.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!(
        "POST /media HTTP/1.1\r\nhost: {host}\r\nauthorization: Bearer {key}\r\n\
         content-type: image/jpeg\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        photo.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(photo).await.unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.unwrap();
    assert!(reply.starts_with("HTTP/1.1 201"), "{reply}");
    let body = reply.split("\r\n\r\n").nth(1).unwrap_or_default();
    let json: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    json["uri"]
        .as_str()
        .expect("a kept photo's name")
        .to_owned()
}

/// Fills the ballot on a poll's page with the control its method shows,
/// as a resident would: the first choice, middling scores, a ranking, part
/// of the dot budget, "yes" to every time.
async fn fill_ballot(page: &Page, method: &str) {
    match method {
        "one" | "many" => click(page, "#ballot input[name=choice]").await,
        "score" => {
            js::<bool>(
                page,
                "([...document.querySelectorAll('#ballot select')].forEach(s => s.value = '4'), true)",
            )
            .await;
        }
        "rank" => {
            js::<bool>(
                page,
                "([...document.querySelectorAll('#ballot select')].forEach((s, i) => s.value = String(i + 1)), true)",
            )
            .await;
        }
        "dots" => fill(page, "#ballot input[type=number]", "3").await,
        "time" => {
            let times: usize = js(
                page,
                "document.querySelectorAll('#ballot fieldset.rating').length",
            )
            .await;
            for i in 1..=times {
                click(
                    page,
                    &format!("#ballot fieldset.rating:nth-of-type({i}) input[value='2']"),
                )
                .await;
            }
        }
        other => panic!("a ballot the test does not know: {other}"),
    }
}

/// The whole round between a newcomer on a phone and the people who serve
/// them: the newcomer registers, community staff verify them in the
/// console; their report with a photo is taken up and sent to the property
/// firm in the console, the firm's system starts and resolves it with an
/// after-photo, and the newcomer confirms with stars. They co-sign a topic
/// and vote in a poll of each of the eight methods, each with the control
/// that method shows, and see each result; they sign up for a full
/// activity, wait, and are told when a place comes free.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newcomer_and_staff_carry_a_report_a_vote_and_a_waitlist_through() {
    use cogov_proto::deliberation as d;
    use cogov_proto::deliberation::deliberation_service_client::DeliberationServiceClient;
    use cogov_proto::issues::issues_service_client::IssuesServiceClient;
    use cogov_proto::issues::{
        GetIssueRequest, IssueState, ResolveIssueRequest, StartIssueRequest,
    };
    use cogov_proto::organizations as org;
    use cogov_proto::organizations::organizations_service_client::OrganizationsServiceClient;
    use cogov_proto::volunteers as v;
    use cogov_proto::volunteers::volunteers_service_client::VolunteersServiceClient;

    let Some(chromium) = cogov_kit::testing::servers::chromium() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("cogov-app-round-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let up = start_up(&dir).await;
    let http = up.console.trim_end_matches("/console").to_owned();
    let app = format!("{http}/app");
    let admin = Bearer(up.token.clone());
    let firm_key = up.firm_key.clone().expect("cogov up printed a firm key");
    let photo = dir.join("IMG_0107.jpg");
    gallery_photo(&photo);

    let (mut browser, events) = launch(&chromium, &dir, (390, 844)).await;
    let phone = browser.new_page("about:blank").await.unwrap();
    as_phone(&phone, true).await;
    let desk = browser.new_page("about:blank").await.unwrap();

    // A number nobody has registers, and waits to be verified.
    phone.bring_to_front().await.unwrap();
    open(&phone, &format!("{app}/sign-in")).await;
    sign_in_by_phone(&phone, &up, "13911112222", None).await;
    until(&phone, "location.pathname === '/app/register'").await;
    fill(&phone, "#display_name", "李新来").await;
    let courtyard: String = js(
        &phone,
        "(() => { const s = document.querySelector('#courtyard'); \
         s.value = s.querySelector('option[value^=\"courtyards/\"]').value; return s.value; })()",
    )
    .await;
    click(&phone, "input[name=consent]").await;
    click(&phone, "#register").await;
    until(&phone, "location.pathname === '/app/home'").await;
    until(&phone, "!!document.querySelector('#pending')").await;

    // Community staff verify them in the console.
    desk.bring_to_front().await.unwrap();
    sign_in(
        &desk,
        &up.console,
        "niujie.admin",
        &up.password("niujie.admin"),
    )
    .await;
    open(&desk, &format!("{}/residents", up.console)).await;
    let row: String = js(
        &desk,
        "[...document.querySelectorAll('tr[id^=registration-]')].find(r => r.innerText.includes('李新来')).id",
    )
    .await;
    click(&desk, &format!("#{row} button")).await;
    until(&desk, &format!("!document.querySelector('#{row}')")).await;
    phone.bring_to_front().await.unwrap();
    open(&phone, &format!("{app}/home")).await;
    until(&phone, "!!document.querySelector('#two-nos-h')").await;
    assert!(
        !js::<bool>(&phone, "!!document.querySelector('#pending')").await,
        "verified: no longer waiting"
    );

    // Their report with a photo; staff take it up and send it to the firm.
    let issue_id = report_with_photo(&phone, &app, &photo, None, false).await;
    let issue = format!("issues/{issue_id}");
    let mut orgs = OrganizationsServiceClient::with_interceptor(up.gateway.clone(), admin.clone());
    let firm = orgs
        .list_organizations(org::ListOrganizationsRequest {
            page_size: 1,
            filter: "kind = PROPERTY_FIRM".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .organizations
        .remove(0);
    desk.bring_to_front().await.unwrap();
    open(&desk, &format!("{}/issues/{issue_id}", up.console)).await;
    click(&desk, "#do-acknowledge").await;
    until(&desk, "!!document.querySelector('#do-dispatch')").await;
    js::<bool>(
        &desk,
        &format!(
            "(document.querySelector('#assignee').value = '{}', true)",
            firm.name
        ),
    )
    .await;
    fill(&desk, "#dispatch-note", "请物业尽快修灯").await;
    click(&desk, "#do-dispatch").await;
    until(&desk, "document.querySelector('#issue-state') && document.querySelector('#issue-state').innerText.startsWith('已派单')").await;

    // The firm's system starts it and resolves it with a photo of the
    // mended light.
    let mut as_firm =
        IssuesServiceClient::with_interceptor(up.gateway.clone(), Bearer(firm_key.clone()));
    as_firm
        .start_issue(StartIssueRequest {
            name: issue.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let after = upload_as(&http, &firm_key, &std::fs::read(&photo).unwrap()).await;
    as_firm
        .resolve_issue(ResolveIssueRequest {
            name: issue.clone(),
            note: "换了新灯泡".into(),
            media: vec![cogov_proto::common::Media {
                uri: after,
                content_type: "image/jpeg".into(),
                role: cogov_proto::common::MediaRole::After as i32,
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap();

    // The newcomer sees the mended light and confirms with five stars.
    phone.bring_to_front().await.unwrap();
    open(&phone, &format!("{app}/issues/{issue_id}")).await;
    until(
        &phone,
        "[...document.querySelectorAll('#after-photos img')].length === 1 && \
         [...document.querySelectorAll('#after-photos img')].every(i => i.complete && i.naturalWidth > 0)",
    )
    .await;
    click(&phone, "#confirm-form input[name=satisfaction][value='5']").await;
    fill(&phone, "#confirm-text", "修得很快，谢谢").await;
    screenshot(&phone, "app-confirm-phone").await;
    click(&phone, "#confirm").await;
    until(&phone, "!!document.querySelector('#confirmation-h')").await;
    let mut staff_issues = IssuesServiceClient::with_interceptor(up.gateway.clone(), admin.clone());
    let confirmed = staff_issues
        .get_issue(GetIssueRequest {
            name: issue.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(confirmed.state, IssueState::Closed as i32);

    // Their courtyard's council: a proposal to co-sign, and a topic in
    // discussion with a poll in each method.
    let mut staff_d =
        DeliberationServiceClient::with_interceptor(up.gateway.clone(), admin.clone());
    let council = staff_d
        .create_council(d::CreateCouncilRequest {
            council: Some(d::Council {
                display_name: "新来的院子议事会".into(),
                place: courtyard.clone(),
                support_threshold: 3,
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
        .create_topic(topic("院里装充电桩"))
        .await
        .unwrap()
        .into_inner();
    let discussed = staff_d
        .create_topic(topic("公共空间怎么用"))
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
    let now = std::time::SystemTime::now();
    let at = |hours: u64| {
        Some(prost_types::Timestamp::from(
            now + Duration::from_secs(hours * 3600),
        ))
    };
    let mut polls = Vec::new();
    for poll in cogov_kit::testing::polls::one_of_each_method(&discussed.name, chrono::Utc::now()) {
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

    // Co-signing the proposal counts them.
    open(&phone, &format!("{app}/{}", proposed.name)).await;
    let before: String = js(&phone, "document.querySelector('#support').innerText").await;
    click(&phone, "#co-sign").await;
    until(
        &phone,
        &format!(
            "document.querySelector('#support') && document.querySelector('#support').innerText !== {}",
            serde_json::to_string(&before).unwrap()
        ),
    )
    .await;
    let support = staff_d
        .get_topic(d::GetTopicRequest {
            name: proposed.name.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .support_count;
    assert_eq!(support, 1);

    // A ballot in each method, from the council page's links.
    open(&phone, &format!("{app}/council")).await;
    let linked: Vec<String> = js(
        &phone,
        "[...document.querySelectorAll('a[href^=\"/app/polls/\"]')].map(a => a.getAttribute('href'))",
    )
    .await;
    let mut seen = std::collections::BTreeSet::new();
    for poll in &polls {
        let path = format!("/app/{poll}");
        assert!(
            linked.contains(&path),
            "{path} not on the council page: {linked:?}"
        );
        open(&phone, &format!("{http}{path}")).await;
        until(&phone, "!!document.querySelector('#result-hidden')").await;
        let method: String = js(&phone, "document.querySelector('#ballot').dataset.method").await;
        fill_ballot(&phone, &method).await;
        if seen.insert(method.clone()) {
            screenshot(&phone, &format!("app-ballot-{method}-phone")).await;
        }
        click(&phone, "#cast-vote").await;
        until(&phone, "!!document.querySelector('#voted')").await;
        until(&phone, "!!document.querySelector('#result')").await;
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        ["dots", "many", "one", "rank", "score", "time"],
        "every kind of ballot control was used"
    );

    // A full activity: the newcomer waits, and moves up when a place frees.
    let community = orgs
        .get_courtyard(org::GetCourtyardRequest {
            name: courtyard.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .community;
    let mut staff_v = VolunteersServiceClient::with_interceptor(up.gateway.clone(), admin.clone());
    let activity = staff_v
        .create_activity(v::CreateActivityRequest {
            activity: Some(v::Activity {
                title: "春季院落清扫".into(),
                community,
                courtyard: courtyard.clone(),
                organizing_organization: firm.name.clone(),
                // Far from the demo's own activities: no volunteer's times
                // overlap.
                start_time: at(24 * 40 + 3),
                end_time: at(24 * 40 + 5),
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
    let first = staff_v
        .list_volunteers(v::ListVolunteersRequest {
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .volunteers
        .into_iter()
        .find(|x| x.state == v::VolunteerState::Active as i32)
        .expect("the demo has active volunteers");
    let taken = staff_v
        .create_signup(v::CreateSignupRequest {
            parent: activity.name.clone(),
            signup: Some(v::Signup {
                volunteer: first.name.clone(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    open(&phone, &format!("{app}/activities")).await;
    if js::<bool>(&phone, "!!document.querySelector('#become-volunteer')").await {
        click(&phone, "#become-volunteer").await;
        until(&phone, "!!document.querySelector('#my-hours')").await;
    }
    open(&phone, &format!("{app}/{}", activity.name)).await;
    click(&phone, "#sign-up").await;
    until(&phone, "!!document.querySelector('#position')").await;
    assert_eq!(
        js::<String>(&phone, "document.querySelector('#position').innerText").await,
        "1"
    );
    screenshot(&phone, "app-waitlist-phone").await;
    staff_v
        .cancel_signup(v::CancelSignupRequest {
            name: taken.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    open(&phone, &format!("{app}/{}", activity.name)).await;
    until(&phone, "!!document.querySelector('#cancel-signup')").await;
    assert!(
        !js::<bool>(&phone, "!!document.querySelector('#position')").await,
        "a place, no longer waiting"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        open(&phone, &format!("{app}/inbox")).await;
        if js::<bool>(&phone, "document.body.innerText.includes('春季院落清扫')").await {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the inbox tells of the place"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    screenshot(&phone, "app-inbox-promoted-phone").await;

    browser.close().await.unwrap();
    let _ = browser.wait().await;
    events.abort();
    let _ = std::fs::remove_dir_all(&dir);
}
