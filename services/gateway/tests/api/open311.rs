//! Open311 GeoReport v2 over plain HTTP/1.1 on the gateway's port: the
//! services and their definitions, reports that land once however often
//! they are posted, the public view (no personal data, no staff-only
//! notes), a partner's reach, the 90-day window, both formats and the
//! error format.

use cogov_proto::issues::*;
use cogov_proto::organizations as org;
use serde_json::Value;

use crate::both;
use crate::support::*;

both!(open311_reports_and_reads_back);

/// One HTTP/1.1 exchange: the status, the content type and the body.
async fn http(
    env: &Env,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let reply = http_exchange(env, method, path, headers, body).await;
    let content_type = reply.header("content-type").unwrap_or_default();
    (reply.status, content_type, reply.body)
}

async fn get_json(env: &Env, path: &str) -> (u16, Value) {
    let (status, content_type, body) = http(env, "GET", path, &[], "").await;
    assert!(
        content_type.starts_with("application/json"),
        "{path}: {content_type}"
    );
    (
        status,
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}")),
    )
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn id(name: &str) -> &str {
    name.rsplit_once('/').unwrap().1
}

fn error_code(v: &Value) -> u64 {
    v[0]["code"]
        .as_u64()
        .unwrap_or_else(|| panic!("not an Open311 error: {v}"))
}

async fn open311_reports_and_reads_back(env: Env) {
    let w = World::build(&env).await;

    // Discovery names the endpoint; both formats answer.
    let (status, discovery) = get_json(&env, "/open311/v2/discovery.json").await;
    assert_eq!(status, 200);
    assert_eq!(
        discovery["endpoints"][0]["url"],
        "http://cogov.test/open311/v2"
    );
    let (status, content_type, xml) = http(&env, "GET", "/open311/v2/discovery.xml", &[], "").await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/xml"));
    assert!(xml.contains("<endpoints><endpoint>"), "{xml}");
    assert!(
        xml.contains(
            "<formats><format>text/xml</format><format>application/json</format></formats>"
        ),
        "{xml}"
    );

    // Services are the active sub-items, grouped by category.
    let (status, services) = get_json(&env, "/open311/v2/services.json").await;
    assert_eq!(status, 200);
    let clutter = services
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service_code"] == "clutter_piling")
        .unwrap_or_else(|| panic!("no clutter_piling in {services}"));
    assert_eq!(clutter["metadata"], true);
    assert!(!clutter["group"].as_str().unwrap().is_empty());
    let (_, english) = get_json(&env, "/open311/v2/services.json?locale=en").await;
    assert_ne!(english, services, "locale=en names services in English");
    let (_, _, xml) = http(&env, "GET", "/open311/v2/services.xml", &[], "").await;
    assert!(xml.contains("<services><service>"), "{xml}");

    // A definition offers the courtyards as a list.
    let (status, definition) = get_json(&env, "/open311/v2/services/clutter_piling.json").await;
    assert_eq!(status, 200);
    let courtyards = &definition["attributes"][0];
    assert_eq!(courtyards["code"], "courtyard");
    assert!(
        courtyards["values"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["key"] == id(&w.a1)),
        "{definition}"
    );
    let (status, missing) = get_json(&env, "/open311/v2/services/no_such_thing.json").await;
    assert_eq!((status, error_code(&missing)), (404, 404));
    let (status, _, _) = http(&env, "GET", "/open311/v2/services.csv", &[], "").await;
    assert_eq!(status, 404);

    // Reporting takes a partner's key.
    let report = form(&[
        ("service_code", "clutter_piling"),
        ("address_id", id(&w.a1)),
        ("description", "Bikes and boxes block the stairwell"),
        ("first_name", "Li"),
        ("last_name", "Ming"),
        ("phone", "13800001111"),
        ("email", "li.ming@example.com"),
        ("attribute[priority]", "high"),
    ]);
    let (status, _, body) = http(&env, "POST", "/open311/v2/requests.json", &[], &report).await;
    assert_eq!(status, 401, "{body}");
    let keyed = format!("{report}&api_key={}", urlencode(&w.key_a));
    let (status, _, body) = http(&env, "POST", "/open311/v2/requests.json", &[], &keyed).await;
    assert_eq!(status, 200, "{body}");
    let posted: Value = serde_json::from_str(&body).unwrap();
    let request_id = posted[0]["service_request_id"].as_str().unwrap().to_owned();
    assert_eq!(posted[0]["token"], request_id.as_str());

    // A client that retries after a lost answer gets the same request.
    let (_, _, again) = http(&env, "POST", "/open311/v2/requests.json", &[], &keyed).await;
    let again: Value = serde_json::from_str(&again).unwrap();
    assert_eq!(again[0]["service_request_id"], request_id.as_str());
    let mut staff = env.issues(env.street_admin());
    let stored = staff
        .get_issue(GetIssueRequest {
            name: format!("issues/{request_id}"),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stored.channel, Channel::Open311 as i32);
    assert_eq!(stored.priority, Priority::High as i32);
    assert_eq!(
        stored.reporter_contact.as_ref().unwrap().phone,
        "13800001111"
    );
    let listed = staff
        .list_issues(ListIssuesRequest {
            filter: "channel = CHANNEL_OPEN311".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .issues;
    assert_eq!(listed.len(), 1, "posted twice, stored once");
    // Reports through Open311 are audited like mutating calls.
    let mut admin = env.gateway_as(env.street_admin());
    let audited = eventually(async || {
        admin
            .list_audit_records(cogov_proto::gateway::ListAuditRecordsRequest {
                filter: format!("partner = {}", w.partner_a),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .audit_records
            .iter()
            .any(|r| {
                r.method == "/open311/v2/requests"
                    && r.target == stored.name
                    && r.peer.starts_with("127.0.0.1:")
            })
    })
    .await;
    assert!(audited, "no audit record of the Open311 report");

    // Out of reach, or wrong: the Open311 error format with the right code.
    let (status, _, body) = http(
        &env,
        "POST",
        "/open311/v2/requests.json",
        &[("x-api-key", &w.key_a)],
        &form(&[
            ("service_code", "clutter_piling"),
            ("address_id", id(&w.b1)),
        ]),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, _, body) = http(
        &env,
        "POST",
        "/open311/v2/requests.xml",
        &[("x-api-key", &w.key_a)],
        &form(&[("address_id", id(&w.a1))]),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("<errors><error><code>400</code><description>service_code: is required</description></error></errors>"), "{body}");
    let (status, _, body) = http(
        &env,
        "POST",
        "/open311/v2/requests.json",
        &[("x-api-key", &w.key_a)],
        &form(&[("service_code", "clutter_piling")]),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("location is required"), "{body}");

    // Located by lat/long: the nearest courtyard in reach.
    env.orgs(env.street_admin())
        .update_courtyard(org::UpdateCourtyardRequest {
            courtyard: Some(org::Courtyard {
                name: w.a1.clone(),
                location: Some(cogov_proto::common::GeoPoint {
                    latitude: 39.8847,
                    longitude: 116.3633,
                }),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["location".into()],
            }),
        })
        .await
        .unwrap();
    let (status, _, body) = http(
        &env,
        "POST",
        "/open311/v2/requests.json",
        &[("x-api-key", &w.key_a)],
        &form(&[
            ("service_code", "clutter_piling"),
            ("lat", "39.8849"),
            ("long", "116.3635"),
            ("description", "more boxes by the gate"),
        ]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let by_place: Value = serde_json::from_str(&body).unwrap();
    let (_, located) = get_json(
        &env,
        &format!(
            "/open311/v2/requests/{}.json",
            by_place[0]["service_request_id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(located[0]["address_id"], id(&w.a1));
    let (status, _, _) = http(
        &env,
        "POST",
        "/open311/v2/requests.json",
        &[("x-api-key", &w.key_a)],
        &form(&[
            ("service_code", "clutter_piling"),
            ("lat", "31.23"),
            ("long", "121.47"),
        ]),
    )
    .await;
    assert_eq!(status, 400, "Shanghai is no courtyard of Niujie");

    // Staff write on the timeline: one public comment, one internal note.
    for (text, internal) in [
        ("Cleared the stairwell", false),
        ("Owner of the bikes is difficult", true),
    ] {
        staff
            .create_issue_comment(CreateIssueCommentRequest {
                parent: format!("issues/{request_id}"),
                text: text.into(),
                internal,
                ..Default::default()
            })
            .await
            .unwrap();
    }

    // The public view: no key, no personal data, no internal notes.
    let (status, one) = get_json(&env, &format!("/open311/v2/requests/{request_id}.json")).await;
    assert_eq!(status, 200, "{one}");
    let request = &one[0];
    assert_eq!(request["service_request_id"], request_id.as_str());
    assert_eq!(request["status"], "open");
    assert_eq!(request["service_code"], "clutter_piling");
    assert_eq!(request["address_id"], id(&w.a1));
    assert!(
        request["expected_datetime"]
            .as_str()
            .unwrap()
            .starts_with("2026-")
    );
    let notes = request["status_notes"].as_str().unwrap();
    assert!(notes.contains("Cleared the stairwell"), "{notes}");
    let text = one.to_string();
    for private in [
        "Owner of the bikes",
        "13800001111",
        "li.ming@example.com",
        "Ming",
    ] {
        assert!(!text.contains(private), "{private} leaked: {text}");
    }
    let (_, _, xml) = http(
        &env,
        "GET",
        &format!("/open311/v2/requests/{request_id}.xml"),
        &[],
        "",
    )
    .await;
    assert!(xml.contains("<service_requests><request>"), "{xml}");
    let (status, token) = get_json(&env, &format!("/open311/v2/tokens/{request_id}.json")).await;
    assert_eq!(
        (status, token[0]["service_request_id"].as_str()),
        (200, Some(request_id.as_str()))
    );
    let (status, missing) = get_json(
        &env,
        &format!("/open311/v2/requests/{}.json", uuid::Uuid::nil()),
    )
    .await;
    assert_eq!((status, error_code(&missing)), (404, 404));

    // Lists: by service code and status, in a window of at most 90 days.
    let (status, open) = get_json(
        &env,
        "/open311/v2/requests.json?service_code=clutter_piling&status=open",
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        open.as_array()
            .unwrap()
            .iter()
            .any(|r| r["service_request_id"] == request_id.as_str()),
        "{open}"
    );
    let (_, closed) = get_json(&env, "/open311/v2/requests.json?status=closed").await;
    assert_eq!(closed, Value::Array(vec![]));
    let (_, by_id) = get_json(
        &env,
        &format!(
            "/open311/v2/requests.json?service_request_id={request_id},{}",
            uuid::Uuid::nil()
        ),
    )
    .await;
    assert_eq!(by_id.as_array().unwrap().len(), 1);
    let (status, wide) = get_json(
        &env,
        "/open311/v2/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z",
    )
    .await;
    assert_eq!((status, error_code(&wide)), (400, 400));

    // With a key, the partner's reach applies: B does not see A's courtyard.
    let (status, hidden) = get_json(
        &env,
        &format!(
            "/open311/v2/requests/{request_id}.json?api_key={}",
            urlencode(&w.key_b)
        ),
    )
    .await;
    assert_eq!((status, error_code(&hidden)), (404, 404));
    let (_, b_list) = get_json(
        &env,
        &format!("/open311/v2/requests.json?api_key={}", urlencode(&w.key_b)),
    )
    .await;
    assert_eq!(b_list, Value::Array(vec![]));
    let (status, a_list) = get_json(
        &env,
        &format!("/open311/v2/requests.json?api_key={}", urlencode(&w.key_a)),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(a_list.as_array().unwrap().len(), 2);
    let (status, bad_key) = get_json(&env, "/open311/v2/requests.json?api_key=cgk_nonsense").await;
    assert_eq!((status, error_code(&bad_key)), (401, 401));
}

/// Configuration can keep the GET endpoints for partners only.
#[tokio::test]
async fn open311_public_view_can_be_off() {
    let env = Env::start_with(
        TestDb::sqlite(),
        TestDb::sqlite(),
        cogov_gateway::Settings {
            open311_public: false,
            ..settings()
        },
    )
    .await;
    let w = World::build(&env).await;
    let (status, refused) = get_json(&env, "/open311/v2/services.json").await;
    assert_eq!((status, error_code(&refused)), (401, 401));
    let (status, services) = get_json(
        &env,
        &format!("/open311/v2/services.json?api_key={}", urlencode(&w.key_a)),
    )
    .await;
    assert_eq!(status, 200);
    assert!(!services.as_array().unwrap().is_empty());
}
