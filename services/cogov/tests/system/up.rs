//! `cogov up` as a newcomer runs it: the binary starts, serves every API
//! through the gateway with the Niujie demo data, prints credentials that
//! work, and stops cleanly on SIGTERM.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cogov_proto::organizations::organizations_service_client::OrganizationsServiceClient;
use cogov_proto::organizations::*;
use tonic::transport::Channel;

use crate::{Bearer, KillOnDrop, Signed, free_ports};

async fn all_courtyards(
    c: &mut OrganizationsServiceClient<Signed>,
    filter: &str,
) -> Vec<Courtyard> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page = c
            .list_courtyards(ListCourtyardsRequest {
                page_size: 20,
                page_token: token,
                filter: filter.into(),
                order_by: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        out.extend(page.courtyards);
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_serves_the_niujie_demo_and_stops_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("cogov-up-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let port = free_ports(10) + 1;
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cogov"))
        .args(["up", "--base-port", &(port - 1).to_string(), "--data-dir"])
        .arg(&dir)
        .env("COGOV_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting cogov up");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut child = KillOnDrop(child);
    let gateway = format!("grpc://127.0.0.1:{}", port - 1);
    let (mut saw_gateway, mut token, mut firm_key) = (false, None, None);
    while !(saw_gateway && token.is_some() && firm_key.is_some()) {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("cogov up printed its addresses and credentials");
        saw_gateway |= line.contains("gateway") && line.contains(&gateway);
        if let Some(t) = line.trim().strip_prefix("export COGOV_TOKEN=") {
            token = Some(t.to_owned());
        }
        if let Some(k) = line.trim().strip_prefix("export COGOV_FIRM_KEY=") {
            firm_key = Some(k.to_owned());
        }
    }
    eprintln!("cogov up: serving the demo after {:?}", started.elapsed());

    let channel = Channel::from_shared(format!("http://127.0.0.1:{}", port - 1))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let admin = Bearer(token.unwrap());
    let firm_secret = firm_key.unwrap();
    let firm = Bearer(firm_secret.clone());
    let mut c = OrganizationsServiceClient::with_interceptor(channel.clone(), admin.clone());
    // Nothing answers without credentials, and the services' own ports
    // accept only principals the gateway signed.
    assert_eq!(
        OrganizationsServiceClient::new(channel.clone())
            .list_communities(ListCommunitiesRequest::default())
            .await
            .unwrap_err()
            .code(),
        tonic::Code::Unauthenticated
    );
    let direct = Channel::from_shared(format!("http://127.0.0.1:{port}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    assert_eq!(
        OrganizationsServiceClient::new(direct)
            .list_communities(ListCommunitiesRequest::default())
            .await
            .unwrap_err()
            .code(),
        tonic::Code::Unauthenticated
    );
    let communities = c
        .list_communities(ListCommunitiesRequest {
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .communities;
    assert_eq!(communities.len(), 10);
    let by_name: HashMap<&str, &str> = communities
        .iter()
        .map(|c| (c.display_name.split(' ').next().unwrap(), c.name.as_str()))
        .collect();

    let courtyards = all_courtyards(&mut c, "").await;
    assert_eq!(courtyards.len(), 56);
    let two = [by_name["牛街东里社区"], by_name["牛街西里一区社区"]];
    assert_eq!(
        courtyards
            .iter()
            .filter(|y| two.contains(&y.community.as_str()))
            .count(),
        26
    );
    let pilot = all_courtyards(&mut c, "pilot = true").await;
    assert_eq!(pilot.len(), 8);
    assert!(pilot.iter().all(|y| two.contains(&y.community.as_str())));
    let themed: Vec<&Courtyard> = courtyards.iter().filter(|y| !y.theme.is_empty()).collect();
    assert_eq!(themed.len(), 5);
    assert!(
        themed
            .iter()
            .all(|y| !y.pairing_community.is_empty() && y.pairing_community != y.community)
    );

    let orgs = |kind: OrganizationKind| ListOrganizationsRequest {
        filter: format!("kind = {}", kind.as_str_name()),
        page_size: 100,
        ..Default::default()
    };
    let groups = c
        .list_organizations(orgs(OrganizationKind::PartyGroup))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        groups.organizations.len(),
        56,
        "a party group in every courtyard"
    );
    let firms = c
        .list_organizations(orgs(OrganizationKind::PropertyFirm))
        .await
        .unwrap()
        .into_inner()
        .organizations;
    assert_eq!(firms.len(), 3);
    let mut served = BTreeSet::new();
    for firm in &firms {
        let reach = c
            .resolve_reach(ResolveReachRequest {
                organization: firm.name.clone(),
                at_time: None,
            })
            .await
            .unwrap()
            .into_inner();
        assert!(!reach.courtyards.is_empty());
        for y in reach.courtyards {
            assert!(served.insert(y), "firms serve disjoint courtyards");
        }
    }
    let units = c
        .list_organizations(orgs(OrganizationKind::SocialUnit))
        .await
        .unwrap()
        .into_inner()
        .organizations;
    assert_eq!(units.len(), 4);
    let teams = c
        .list_organizations(orgs(OrganizationKind::VolunteerTeam))
        .await
        .unwrap()
        .into_inner()
        .organizations;
    let team_names: Vec<&str> = teams.iter().map(|t| t.display_name.as_str()).collect();
    for brand in ["党员引路岗", "老铁党员先锋队", "园丁志愿队"] {
        assert!(
            team_names.iter().any(|t| t.starts_with(brand)),
            "{brand} in {team_names:?}"
        );
    }
    let experts = c
        .list_organizations(orgs(OrganizationKind::ExpertGroup))
        .await
        .unwrap()
        .into_inner()
        .organizations;
    assert_eq!(experts.len(), 1);
    let residents = c
        .list_persons(ListPersonsRequest {
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .persons;
    assert!(
        (250..=400).contains(&residents.len()),
        "a few hundred residents: {}",
        residents.len()
    );
    assert!(residents.iter().any(|p| !p.double_report_unit.is_empty()));
    assert!(residents.iter().any(|p| p.building_head));

    // The issues role: the demo's issues in realistic states.
    let mut issues =
        cogov_proto::issues::issues_service_client::IssuesServiceClient::with_interceptor(
            channel.clone(),
            admin.clone(),
        );
    let listed = issues
        .list_issues(cogov_proto::issues::ListIssuesRequest {
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .issues;
    assert_eq!(listed.len(), 300);
    let states: BTreeSet<i32> = listed.iter().map(|i| i.state).collect();
    assert!(states.len() >= 8, "issues in many states: {states:?}");
    let stats = issues
        .compute_issue_statistics(cogov_proto::issues::ComputeIssueStatisticsRequest {
            group_by: cogov_proto::issues::StatisticsGroup::Community as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stats.rows.len(), 10, "every community has issues");
    let two_nos = issues
        .list_courtyard_two_nos(cogov_proto::issues::ListCourtyardTwoNosRequest {
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(two_nos.statuses.len(), 56);

    // The volunteers role: the five brand teams and the year's 29 activities,
    // most of them done.
    use cogov_proto::volunteers as v;
    let mut volunteers = v::volunteers_service_client::VolunteersServiceClient::with_interceptor(
        channel.clone(),
        admin.clone(),
    );
    let teams = volunteers
        .list_teams(v::ListTeamsRequest {
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .teams;
    assert_eq!(teams.len(), 5, "the five brand teams");
    let activities = volunteers
        .list_activities(v::ListActivitiesRequest {
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .activities;
    assert_eq!(activities.len(), 29);
    let completed = activities
        .iter()
        .filter(|a| a.state == v::ActivityState::Completed as i32)
        .count();
    assert!(completed > 20, "most activities done: {completed}");
    let open = activities
        .iter()
        .filter(|a| a.state == v::ActivityState::Published as i32)
        .count();
    assert!(open > 0, "some activities open for sign-up");

    // The deliberation role: a council per community, and a decision being
    // carried out.
    use cogov_proto::deliberation as d;
    let mut deliberation =
        d::deliberation_service_client::DeliberationServiceClient::with_interceptor(
            channel.clone(),
            admin.clone(),
        );
    let councils = deliberation
        .list_councils(d::ListCouncilsRequest {
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .councils;
    assert_eq!(councils.len(), 10, "a council per community");
    let implementing = deliberation
        .list_topics(d::ListTopicsRequest {
            filter: "state = IMPLEMENTING".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .topics;
    assert_eq!(implementing.len(), 1);
    let in_progress = deliberation
        .list_action_items(d::ListActionItemsRequest {
            parent: "resolutions/-".into(),
            filter: "status = IN_PROGRESS".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .action_items;
    assert!(!in_progress.is_empty(), "action items in progress");

    // The printed firm key: the firm sees the issues of its own courtyards
    // only, and may not dispatch.
    use cogov_proto::gateway as g;
    let me = g::gateway_service_client::GatewayServiceClient::with_interceptor(
        channel.clone(),
        firm.clone(),
    )
    .get_caller(g::GetCallerRequest {})
    .await
    .unwrap()
    .into_inner();
    assert!(!me.courtyards.is_empty());
    let mut as_firm =
        cogov_proto::issues::issues_service_client::IssuesServiceClient::with_interceptor(
            channel.clone(),
            firm,
        );
    let seen = as_firm
        .list_issues(cogov_proto::issues::ListIssuesRequest {
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .issues;
    assert!(!seen.is_empty() && seen.len() < 300, "{}", seen.len());
    assert!(seen.iter().all(|i| me.courtyards.contains(&i.courtyard)));
    assert_eq!(
        as_firm
            .dispatch_issue(cogov_proto::issues::DispatchIssueRequest::default())
            .await
            .unwrap_err()
            .code(),
        tonic::Code::PermissionDenied
    );

    // The CLI, as the firm: its issues as JSON, and a refused dispatch.
    let cli = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_cogov"))
            .args(args)
            .env("COGOV_GATEWAY", format!("http://127.0.0.1:{}", port - 1))
            .env("COGOV_KEY", &firm_secret)
            .env("COGOV_LOG", "off")
            .output()
            .expect("running the cogov CLI")
    };
    let listed = cli(&["issues", "list", "--page-size", "1000", "--json"]);
    assert!(listed.status.success(), "{listed:?}");
    let json = String::from_utf8(listed.stdout).unwrap();
    assert_eq!(
        json.matches("\"name\": \"issues/").count(),
        seen.len(),
        "{json}"
    );
    let table = cli(&["issues", "list", "--filter", "state = DISPATCHED"]);
    assert!(
        String::from_utf8(table.stdout)
            .unwrap()
            .starts_with(" NAME")
    );
    let refused = cli(&[
        "issues",
        "dispatch",
        &seen[0].name,
        "--to",
        &seen[0].courtyard,
    ]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8(refused.stderr)
            .unwrap()
            .contains("PermissionDenied")
    );

    // The firm's webhooks from the CLI: register (the secret printed
    // once), list, a test event queued, then gone.
    let created = cli(&["webhooks", "create", "http://127.0.0.1:9/hooks", "--json"]);
    assert!(created.status.success(), "{created:?}");
    let json: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
    assert!(
        json["secret"]
            .as_str()
            .is_some_and(|s| s.starts_with("whsec_")),
        "{json}"
    );
    let endpoint = json["webhookEndpoint"]["name"].as_str().unwrap().to_owned();
    let listed = String::from_utf8(cli(&["webhooks", "list"]).stdout).unwrap();
    assert!(
        listed.starts_with(" NAME") && listed.contains(&endpoint),
        "{listed}"
    );
    assert!(cli(&["webhooks", "test", &endpoint]).status.success());
    let deliveries = String::from_utf8(cli(&["webhooks", "deliveries", &endpoint]).stdout).unwrap();
    assert!(
        deliveries.contains("cogov.gateway.v1.WebhookTested"),
        "{deliveries}"
    );
    let refused = cli(&["webhooks", "create", "https://169.254.169.254/latest"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8(refused.stderr)
            .unwrap()
            .contains("InvalidArgument")
    );
    assert!(cli(&["webhooks", "delete", &endpoint]).status.success());

    // Staff at the service station report for a resident: the resident's
    // report, come in by walk-in. A partner cannot act for anyone.
    let resident = residents
        .iter()
        .find(|p| !p.courtyard.is_empty())
        .expect("a resident with a courtyard");
    let for_resident = |credential: (&str, &str), args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_cogov"))
            .args(["--for-resident", resident.name.as_str()])
            .args(args)
            .env("COGOV_GATEWAY", format!("http://127.0.0.1:{}", port - 1))
            .env(credential.0, credential.1)
            .env("COGOV_LOG", "off")
            .output()
            .expect("running the cogov CLI")
    };
    let report = [
        "issues",
        "report",
        "--courtyard",
        resident.courtyard.as_str(),
        "--sub-item",
        "subItems/clutter_piling",
        "--title",
        "楼道堆物（代居民反映）",
        "--json",
    ];
    let walked_in = for_resident(("COGOV_TOKEN", &admin.0), &report);
    assert!(walked_in.status.success(), "{walked_in:?}");
    let json = String::from_utf8(walked_in.stdout).unwrap();
    assert!(json.contains("CHANNEL_WALK_IN"), "{json}");
    assert!(
        json.contains(&format!("\"reporter\": \"{}\"", resident.name)),
        "{json}"
    );
    let partner = for_resident(("COGOV_KEY", &firm_secret), &report);
    assert!(!partner.status.success());
    assert!(
        String::from_utf8(partner.stderr)
            .unwrap()
            .contains("PermissionDenied")
    );

    // Spreadsheets from the CLI, as the street admin: a GB18030 roster with
    // a bad row (exit 1, its report beside the file), imported again
    // without change; every issue exported and read back.
    let sheets = std::env::temp_dir().join(format!("cogov-up-sheets-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&sheets).unwrap();
    let roster = sheets.join("roster.csv");
    let (bytes, _, _) = encoding_rs::GB18030
        .encode("姓名,手机号,党员\n导入甲,13900000051,是\n导入乙,13900000052,否\n坏号,12345,\n");
    std::fs::write(&roster, bytes).unwrap();
    let staff_cli = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_cogov"))
            .args(args)
            .env("COGOV_GATEWAY", format!("http://127.0.0.1:{}", port - 1))
            .env("COGOV_TOKEN", &admin.0)
            .env("COGOV_LOG", "off")
            .output()
            .expect("running the cogov CLI")
    };
    let roster_arg = roster.to_str().unwrap();
    for (round, created, unchanged) in [("first", 2, 0), ("again", 0, 2)] {
        let imported = staff_cli(&[
            "import",
            "persons",
            roster_arg,
            "--community",
            "牛街东里",
            "--json",
        ]);
        assert_eq!(imported.status.code(), Some(1), "{round}: {imported:?}");
        let json: serde_json::Value = serde_json::from_slice(&imported.stdout).unwrap();
        assert_eq!(json["created"], created, "{round}: {json}");
        assert_eq!(json["unchanged"], unchanged, "{round}: {json}");
        assert_eq!(json["problems"][0]["row"], 4, "{round}: {json}");
    }
    assert!(sheets.join("roster.errors.csv").exists());
    let exported = sheets.join("issues.xlsx");
    let out = staff_cli(&[
        "export",
        "issues",
        "-o",
        exported.to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sheet = cogov_sheets::read::read(
        &std::fs::read(&exported).unwrap(),
        &cogov_sheets::read::Limits::default(),
    )
    .unwrap();
    assert_eq!(json["rows"], sheet.rows.len(), "{json}");
    assert!(sheet.rows.len() >= seen.len());
    std::fs::remove_dir_all(&sheets).unwrap();

    // Daily work from the CLI: statistics with names, the audit log, an
    // issue's timeline.
    let stats = staff_cli(&["statistics", "issues", "--by", "community"]);
    let stats = String::from_utf8(stats.stdout).unwrap();
    assert!(
        stats.starts_with(" RANK") && stats.contains("社区"),
        "{stats}"
    );
    let audit = staff_cli(&["audit", "--page-size", "5", "--json"]);
    assert!(audit.status.success(), "{audit:?}");
    assert!(
        String::from_utf8(audit.stdout)
            .unwrap()
            .contains("CreatePerson")
    );
    let timeline = staff_cli(&["issues", "timeline", &seen[0].name]);
    let timeline = String::from_utf8(timeline.stdout).unwrap();
    assert!(
        timeline.starts_with(" WHEN") && timeline.contains("REPORTED"),
        "{timeline}"
    );
    // The registry, the two-nos, volunteers and councils: tables show
    // display names where resources point to each other.
    let text = |args: &[&str]| {
        let out = staff_cli(args);
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let persons = text(&["persons", "list", "--page-size", "3", "--json"]);
    let persons: serde_json::Value = serde_json::from_str(&persons).unwrap();
    let person = persons["persons"][0]["name"].as_str().unwrap().to_owned();
    let shown = text(&["persons", "get", &person]);
    assert!(
        shown.starts_with(" FIELD") && shown.contains("社区"),
        "{shown}"
    );
    let two_nos = text(&["two-nos", "list", "--page-size", "3"]);
    assert!(
        two_nos.starts_with(" COURTYARD") && !two_nos.contains("courtyards/"),
        "{two_nos}"
    );
    for args in [
        &["volunteers", "list", "--page-size", "3"][..],
        &["volunteers", "teams"],
        &["meetings", "list", "--all"],
        &["resolutions", "list"],
        &["organizations", "list", "--filter", "kind = PROPERTY_FIRM"],
        &["inspections", "list", "--page-size", "3"],
    ] {
        let shown = text(args);
        assert!(shown.starts_with(" NAME"), "{args:?}: {shown}");
    }
    // Writes from the CLI, read back as JSON.
    let json = |args: &[&str]| -> serde_json::Value {
        let mut all = args.to_vec();
        all.push("--json");
        serde_json::from_str(&text(&all)).unwrap()
    };
    let community = persons["persons"][0]["community"]
        .as_str()
        .unwrap()
        .to_owned();
    let added = json(&[
        "persons",
        "create",
        "--community",
        &community,
        "--display-name",
        "命令行",
        "--phone",
        "13912345678",
    ]);
    let added = added["name"].as_str().unwrap().to_owned();
    let head = json(&["persons", "update", &added, "--building-head", "true"]);
    assert_eq!(head["buildingHead"], true, "{head}");
    let nothing = staff_cli(&["persons", "update", &added]);
    assert!(!nothing.status.success(), "{nothing:?}");
    let firm = json(&[
        "organizations",
        "create",
        "--kind",
        "property-firm",
        "--display-name",
        "命令行物业",
    ]);
    assert_eq!(firm["kind"], "ORGANIZATION_KIND_PROPERTY_FIRM", "{firm}");
    let partner = json(&[
        "keys",
        "create-partner",
        "--organization",
        firm["name"].as_str().unwrap(),
        "--kind",
        "property-firm",
        "--display-name",
        "命令行物业",
    ]);
    let partner = partner["name"].as_str().unwrap().to_owned();
    let issued = json(&["keys", "issue", &partner]);
    let rotated = json(&["keys", "rotate", issued["apiKey"]["name"].as_str().unwrap()]);
    assert_ne!(rotated["secret"], issued["secret"], "{rotated}");
    let revoked = json(&[
        "keys",
        "revoke",
        rotated["apiKey"]["name"].as_str().unwrap(),
    ]);
    assert_eq!(revoked["state"], "API_KEY_STATE_REVOKED", "{revoked}");
    let meetings = json(&["meetings", "list"]);
    let council = meetings["meetings"][0]["council"]
        .as_str()
        .unwrap()
        .to_owned();
    let meeting = json(&[
        "meetings",
        "create",
        "--council",
        &council,
        "--title",
        "命令行议事",
        "--start",
        "2027-01-10 19:30",
        "--location",
        "社区议事厅",
    ]);
    assert_eq!(meeting["startTime"], "2027-01-10T11:30:00Z", "{meeting}");
    assert_eq!(meeting["state"], "MEETING_STATE_SCHEDULED", "{meeting}");
    let standing = json(&["two-nos", "list", "--page-size", "1"]);
    let courtyard = standing["statuses"][0]["courtyard"]
        .as_str()
        .unwrap()
        .to_owned();
    let inspection = json(&[
        "inspections",
        "create",
        "--courtyard",
        &courtyard,
        "--sub-item",
        "subItems/clutter_piling",
        "--result",
        "failed",
    ]);
    assert_eq!(
        inspection["result"], "INSPECTION_RESULT_FAILED",
        "{inspection}"
    );
    let refused = staff_cli(&[
        "meetings",
        "create",
        "--council",
        "councils/x",
        "--title",
        "t",
        "--start",
        "tomorrow",
    ]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("YYYY-MM-DD HH:MM"),
        "{refused:?}"
    );

    // SIGTERM: drain and exit 0.
    let status = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(exit) = child.0.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "cogov up did not stop within 15 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "exit status {exit:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
