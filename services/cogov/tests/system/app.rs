//! The residents' app in a real browser at phone size: Debian's Chromium,
//! headless, against `cogov up` with the Niujie demo. A demo resident signs
//! in with the code from `cogov up`'s log, reads their courtyard's
//! noticeboard, reports a problem with a photo from the phone's gallery,
//! sees it kept (the thumbnail loads), votes in the council's open poll,
//! and signs up for an activity. Every page fits 390 px, labels every
//! control, and passes axe-core (no serious or critical violation) when
//! `COGOV_AXE_JS` names axe.min.js, as CI does. Screenshots go beside the
//! console's.

use std::time::Duration;

use chromiumoxide::cdp::browser_protocol::dom::SetFileInputFilesParams;
use chromiumoxide::{Browser, BrowserConfig, Page};
use futures_util::StreamExt;

use crate::console::{as_phone, click, fill, js, open, screenshot, start_up, unlabelled, until};

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

    let (mut browser, mut handler) = Browser::launch(
        BrowserConfig::builder()
            .chrome_executable(&chromium)
            .no_sandbox()
            .user_data_dir(dir.join("chromium"))
            .window_size(390, 844)
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
    fill(&page, "#phone", &phone).await;
    click(&page, "#send-code").await;
    until(&page, "!!document.querySelector('#code')").await;
    phone_fit(&page, axe, "code").await;
    let code = up
        .codes
        .lock()
        .unwrap()
        .recv_timeout(Duration::from_secs(20))
        .expect("cogov up logged a sign-in code");
    fill(&page, "#code", &code).await;
    click(&page, "#sign-in").await;
    until(&page, "location.pathname === '/app/home'").await;
    until(&page, "!!document.querySelector('#two-nos-h')").await;
    phone_fit(&page, axe, "home").await;
    screenshot(&page, "app-home-phone").await;

    // Report a problem with a photo from the gallery.
    open(&page, &format!("{app}/report")).await;
    phone_fit(&page, axe, "report").await;
    // Infrastructure's sub-items fold away under their category.
    js::<bool>(
        &page,
        "(document.querySelector(\"input[value='subItems/lighting']\").closest('details').open = true, true)",
    )
    .await;
    click(&page, "input[name=sub_item][value='subItems/lighting']").await;
    fill(&page, "#address_text", "3号楼楼道").await;
    fill(&page, "#description", "楼道灯坏了一个星期").await;
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
    screenshot(&page, "app-report-phone").await;
    click(&page, "#submit-report").await;
    until(
        &page,
        "location.pathname.startsWith('/app/issues/') || !!document.querySelector('#similar')",
    )
    .await;
    if js::<bool>(&page, "!!document.querySelector('#similar')").await {
        phone_fit(&page, axe, "same problem?").await;
        click(&page, "#report-anyway").await;
        until(&page, "location.pathname.startsWith('/app/issues/')").await;
    }
    until(&page, "!!document.querySelector('#reported')").await;
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
