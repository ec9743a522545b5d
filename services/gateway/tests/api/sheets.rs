//! Spreadsheets through the gateway as a staff member (cogov-sheets, the
//! code behind `cogov import`/`cogov export` and the console's buttons):
//! rosters with bad rows in every way people make them, imported twice and
//! fixed through their report; files refused whole; exports read back and
//! compared with the API's own answers.

use cogov_proto::issues as iss;
use cogov_proto::organizations as org;
use cogov_proto::volunteers as vol;
use cogov_proto::volunteers::volunteers_service_client::VolunteersServiceClient;
use cogov_sheets::export::{self, Export};
use cogov_sheets::import::{self, ImportError, Kind, Options, Report};
use cogov_sheets::link::{Clients, link};
use cogov_sheets::read::{self, Limits, ReadError};
use cogov_sheets::write::{Cell, Format, Writer};
use tonic::Code;
use tonic::service::interceptor::InterceptedService;

use crate::both;
use crate::support::*;

both!(
    a_persons_roster_imports_once_and_its_report_mends_the_rest,
    files_that_cannot_be_imported_are_refused_whole_and_change_nothing,
    courtyards_buildings_then_an_xlsx_roster_of_persons,
    exports_read_back_equal_the_apis_answers,
);

fn clients(env: &Env, who: Bearer) -> Clients {
    Clients::new(link(InterceptedService::new(
        env.gateway.channel.clone(),
        who,
    )))
}

fn community_admin(env: &Env, community: &str) -> Bearer {
    Bearer(Some(env.token("community_admin", community)))
}

async fn import(
    clients: &Clients,
    kind: Kind,
    bytes: &[u8],
    community: &str,
    dry_run: bool,
) -> Result<Report, ImportError> {
    let options = Options {
        community: community.into(),
        dry_run,
        ..Options::default()
    };
    import::run(clients, kind, bytes, &options, &|_, _| {}).await
}

async fn persons_of(env: &Env, community: &str) -> Vec<org::Person> {
    env.orgs(env.street_admin())
        .list_persons(org::ListPersonsRequest {
            page_size: 1000,
            filter: format!("community = \"{community}\""),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .persons
}

async fn person_by_phone(env: &Env, phone: &str) -> org::Person {
    let found = env
        .orgs(env.street_admin())
        .list_persons(org::ListPersonsRequest {
            filter: format!("phone = \"{phone}\""),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .persons;
    assert_eq!(found.len(), 1, "one person with {phone}");
    found.into_iter().next().unwrap()
}

/// (row, column, reason containing) of each problem.
fn problems(report: &Report) -> Vec<(usize, String)> {
    report
        .problems
        .iter()
        .map(|p| (p.row, p.columns.join(",")))
        .collect()
}

const ROSTER: &str = "姓名,手机号,楼院,党员,楼门长,备注
张一,13900000011,a1,是,否,note
李二,139 0000 0012,a1,否,是,
王三,13900000011,a1,,,
赵四,12345,,,,
\"=HYPERLINK(\"\"http://x\"\")\",13900000013,,,,
王阿姨,138 0000 0001,a1,,,
钱五,13900000014,nowhere,,,
";

async fn a_persons_roster_imports_once_and_its_report_mends_the_rest(env: Env) {
    let w = World::build(&env).await;
    let staff = clients(&env, community_admin(&env, &w.community_a));
    let (gb18030, _, _) = encoding_rs::GB18030.encode(ROSTER);
    let before = persons_of(&env, &w.community_a).await.len();

    // A dry run plans every row and changes nothing.
    let dry = import(&staff, Kind::Persons, &gb18030, "A", true)
        .await
        .unwrap();
    assert_eq!(
        dry.format,
        read::Format::Csv {
            encoding: "gb18030",
            delimiter: b','
        }
    );
    assert_eq!(
        (dry.rows, dry.created, dry.updated, dry.unchanged),
        (7, 2, 0, 1)
    );
    let expected = vec![
        (4, "手机号".to_owned()),
        (5, "手机号".to_owned()),
        (6, "姓名".to_owned()),
        (8, "楼院".to_owned()),
    ];
    assert_eq!(problems(&dry), expected);
    assert_eq!(dry.ignored_columns, ["备注"]);
    assert!(
        dry.problems[0].reason.contains("row 2"),
        "{:?}",
        dry.problems[0]
    );
    assert_eq!(persons_of(&env, &w.community_a).await.len(), before);

    let first = import(&staff, Kind::Persons, &gb18030, "A", false)
        .await
        .unwrap();
    assert_eq!((first.created, first.updated, first.unchanged), (2, 0, 1));
    assert_eq!(problems(&first), expected);
    assert_eq!(persons_of(&env, &w.community_a).await.len(), before + 2);
    let zhang = person_by_phone(&env, "13900000011").await;
    assert_eq!(zhang.display_name, "张一");
    assert_eq!(zhang.courtyard, w.a1);
    assert!(zhang.party_member && !zhang.building_head);
    let li = person_by_phone(&env, "13900000012").await;
    assert!(li.building_head && !li.party_member);

    // The same file again changes nothing.
    let again = import(&staff, Kind::Persons, &gb18030, "A", false)
        .await
        .unwrap();
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 3));
    assert_eq!(persons_of(&env, &w.community_a).await.len(), before + 2);

    // The report holds the refused rows with their row, columns and
    // reasons; fixed and imported again, its own columns are ignored.
    let file = import::report::write(&first, Format::Csv, Vec::new()).unwrap();
    let mut sheet = read::read(&file, &Limits::default()).unwrap();
    assert_eq!(
        sheet.headers,
        [
            "姓名",
            "手机号",
            "楼院",
            "党员",
            "楼门长",
            "备注",
            "错误行 row",
            "错误列 column",
            "错误原因 reason"
        ]
    );
    let rows: Vec<&str> = sheet.rows.iter().map(|r| r.cells[6].as_str()).collect();
    assert_eq!(rows, ["4", "5", "6", "8"]);
    assert_eq!(sheet.rows[2].cells[0], "=HYPERLINK(\"http://x\")");
    assert!(String::from_utf8_lossy(&file).contains("'=HYPERLINK"));
    sheet.rows[0].cells[1] = "13900000016".into();
    sheet.rows[1].cells[1] = "13900000015".into();
    sheet.rows[2].cells[0] = "孙六".into();
    sheet.rows[3].cells[2] = "a1".into();
    let headers: Vec<&str> = sheet.headers.iter().map(String::as_str).collect();
    let mut fixed = Writer::new(Format::Xlsx, Vec::new(), &headers).unwrap();
    for row in &sheet.rows {
        let cells: Vec<Cell> = row.cells.iter().map(|c| Cell::Text(c.clone())).collect();
        fixed.row(&cells).unwrap();
    }
    let fixed = fixed.finish().unwrap();
    let mended = import(&staff, Kind::Persons, &fixed, "A", false)
        .await
        .unwrap();
    assert_eq!(mended.format, read::Format::Xlsx);
    assert_eq!(
        (mended.created, mended.problems.len()),
        (4, 0),
        "{:?}",
        mended.problems
    );
    // The report's own columns are not "not read": only the roster's note.
    assert_eq!(mended.ignored_columns, ["备注"]);
    assert_eq!(persons_of(&env, &w.community_a).await.len(), before + 6);
    assert_eq!(
        person_by_phone(&env, "13900000013").await.display_name,
        "孙六"
    );
}

async fn files_that_cannot_be_imported_are_refused_whole_and_change_nothing(env: Env) {
    let w = World::build(&env).await;
    let staff = clients(&env, community_admin(&env, &w.community_a));
    let before = persons_of(&env, &w.community_a).await.len();
    let read_error = |r: Result<Report, ImportError>| match r {
        Err(ImportError::Read(e)) => e,
        other => panic!("expected a read error, got {other:?}"),
    };
    assert_eq!(
        read_error(import(&staff, Kind::Persons, b"", "A", false).await),
        ReadError::Empty
    );
    // Latin-1 bytes are neither UTF-8 nor GB18030.
    assert_eq!(
        read_error(
            import(
                &staff,
                Kind::Persons,
                b"name,phone\n\xff\xfe\xff,1\n",
                "A",
                false
            )
            .await
        ),
        ReadError::Encoding
    );
    let mut huge = String::from("姓名,手机号\n");
    for i in 0..60 {
        huge.push_str(&format!("人{i},139{i:08}\n"));
    }
    let small = Options {
        community: "A".into(),
        limits: Limits {
            max_rows: 50,
            ..Limits::default()
        },
        ..Options::default()
    };
    match import::run(&staff, Kind::Persons, huge.as_bytes(), &small, &|_, _| {}).await {
        Err(ImportError::Read(ReadError::TooManyRows { max: 50 })) => {}
        other => panic!("expected too many rows, got {other:?}"),
    }
    match import(
        &staff,
        Kind::Persons,
        "姓名,地址\n张,x\n".as_bytes(),
        "A",
        false,
    )
    .await
    {
        Err(ImportError::MissingColumns(missing)) => assert_eq!(missing, ["手机"]),
        other => panic!("expected a missing column, got {other:?}"),
    }
    // Another community's staff do not see A; a partner cannot register
    // persons: nothing is created either way.
    let roster = "姓名,手机号\n张,13900000031\n".as_bytes();
    let b_staff = clients(&env, community_admin(&env, &w.community_b));
    for community in ["A", w.community_a.as_str()] {
        match import(&b_staff, Kind::Persons, roster, community, false).await {
            Err(ImportError::Refused(s)) => assert_eq!(s.code(), Code::PermissionDenied, "{s:?}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    let firm = clients(&env, key(&w.key_a));
    match import(&firm, Kind::Persons, roster, &w.community_a, false).await {
        Err(ImportError::Refused(s)) => {
            assert!(
                matches!(s.code(), Code::PermissionDenied | Code::NotFound),
                "{s:?}"
            )
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(persons_of(&env, &w.community_a).await.len(), before);
}

async fn courtyards_buildings_then_an_xlsx_roster_of_persons(env: Env) {
    let w = World::build(&env).await;
    let staff = clients(&env, community_admin(&env, &w.community_a));
    let courtyards = "Courtyard,Kind,Households,Pilot\nc2,bungalow,40,yes\na1,,,\n";
    let r = import(&staff, Kind::Courtyards, courtyards.as_bytes(), "A", false)
        .await
        .unwrap();
    assert_eq!(
        (r.created, r.updated, r.unchanged, r.problems.len()),
        (1, 0, 1, 0)
    );
    let buildings = "楼院,楼栋,层数,户数\nc2,B1,6,36\nc2,B2,5,\nc2,B2,5,\nc3,B1,,\n";
    let r = import(&staff, Kind::Buildings, buildings.as_bytes(), "A", false)
        .await
        .unwrap();
    assert_eq!((r.created, r.problems.len()), (2, 2), "{:?}", r.problems);
    assert_eq!(
        problems(&r),
        [(4, "楼栋".to_owned()), (5, "楼院".to_owned())]
    );

    // Excel turns a typed phone number into a number: it still reads as one.
    let mut x = rust_xlsxwriter::Workbook::new();
    let sheet = x.add_worksheet();
    for (c, h) in ["Name", "Phone", "Courtyard", "Building", "Building head"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_string(1, 0, "周七").unwrap();
    sheet.write_number(1, 1, 13900000021.0).unwrap();
    sheet.write_string(1, 2, "c2").unwrap();
    sheet.write_string(1, 3, "B1").unwrap();
    sheet.write_boolean(1, 4, true).unwrap();
    let bytes = x.save_to_buffer().unwrap();
    let r = import(&staff, Kind::Persons, &bytes, "A", false)
        .await
        .unwrap();
    assert_eq!((r.created, r.problems.len()), (1, 0), "{:?}", r.problems);
    let zhou = person_by_phone(&env, "13900000021").await;
    assert!(zhou.building_head);
    let b1 = env
        .orgs(env.street_admin())
        .get_building(org::GetBuildingRequest {
            name: zhou.building.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(b1.display_name, "B1");
    assert_eq!(b1.floor_count, 6);

    // Talents hang on persons by phone, one per category.
    let talents = "手机号,类别,特长\n13900000021,维修,修自行车\n13900000099,维修,x\n139 0000 0021,厨艺,包饺子\n";
    let r = import(&staff, Kind::Talents, talents.as_bytes(), "A", false)
        .await
        .unwrap();
    assert_eq!((r.created, r.problems.len()), (2, 1), "{:?}", r.problems);
    assert_eq!(problems(&r), [(3, "手机号".to_owned())]);
    let r = import(&staff, Kind::Talents, talents.as_bytes(), "A", false)
        .await
        .unwrap();
    assert_eq!((r.created, r.unchanged), (0, 2));
    // Shared resources by owner and name, here as the street admin.
    let street = clients(&env, env.street_admin());
    let resources =
        "名称,类型,提供单位,楼院,容纳人数,开放\n活动室,场地,School,c2,30,是\n操场,城堡,School,,,\n";
    let r = import(
        &street,
        Kind::SharedResources,
        resources.as_bytes(),
        "A",
        false,
    )
    .await
    .unwrap();
    assert_eq!((r.created, r.problems.len()), (1, 1), "{:?}", r.problems);
    let r = import(
        &street,
        Kind::SharedResources,
        resources.as_bytes(),
        "A",
        false,
    )
    .await
    .unwrap();
    assert_eq!((r.created, r.unchanged), (0, 1));

    // A changed cell updates that field only; an empty one erases nothing.
    let r = import(
        &staff,
        Kind::Courtyards,
        "Courtyard,Households,Pilot\nc2,45,\n".as_bytes(),
        "A",
        false,
    )
    .await
    .unwrap();
    assert_eq!((r.created, r.updated), (0, 1));
    let c2 = env
        .orgs(env.street_admin())
        .get_courtyard(org::GetCourtyardRequest {
            name: env
                .orgs(env.street_admin())
                .get_building(org::GetBuildingRequest {
                    name: zhou.building,
                })
                .await
                .unwrap()
                .into_inner()
                .courtyard,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(c2.household_count, 45);
    assert_eq!(c2.kind, org::CourtyardKind::Bungalow as i32);
    assert!(c2.pilot);

    volunteers_join_their_team(&env, &staff, &w).await;
}

/// A volunteers roster: persons by phone, skills in Chinese or as tags,
/// the team by its name.
async fn volunteers_join_their_team(env: &Env, staff: &Clients, w: &World) {
    let team = staff
        .volunteers
        .clone()
        .create_team(vol::CreateTeamRequest {
            team: Some(vol::Team {
                display_name: "Garden Keepers".into(),
                community: w.community_a.clone(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let roster = "姓名,手机号,技能,服务队
周七,13900000021,急救、plumbing,garden keepers
王阿姨,138 0000 0001,,
李四,13900000099,,
周七,139 0000 0021,,
错名,138 0000 0001,开锁,Nobody
";
    let r = import(staff, Kind::Volunteers, roster.as_bytes(), "A", true)
        .await
        .unwrap();
    assert_eq!((r.created, r.updated), (2, 0), "dry: {:?}", r.problems);
    assert_eq!(
        problems(&r),
        [
            (4, "手机号".to_owned()),
            (5, "手机号".to_owned()),
            (6, "姓名".to_owned()),
            (6, "技能".to_owned()),
            (6, "服务队".to_owned()),
        ]
    );
    let mut v = staff.volunteers.clone();
    let listed = async |v: &mut VolunteersServiceClient<cogov_sheets::link::Link>| {
        v.list_volunteers(vol::ListVolunteersRequest {
            filter: format!("community = \"{}\"", w.community_a),
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .volunteers
    };
    assert!(
        listed(&mut v).await.is_empty(),
        "a dry run registers nobody"
    );

    let r = import(staff, Kind::Volunteers, roster.as_bytes(), "A", false)
        .await
        .unwrap();
    assert_eq!((r.created, r.problems.len()), (2, 5), "{:?}", r.problems);
    let zhou = person_by_phone(env, "13900000021").await;
    let volunteers = listed(&mut v).await;
    assert_eq!(volunteers.len(), 2);
    let zhou = volunteers.iter().find(|x| x.person == zhou.name).unwrap();
    assert_eq!(zhou.skills, ["first_aid", "plumbing"]);
    let members = async |v: &mut VolunteersServiceClient<cogov_sheets::link::Link>| {
        let mut m: Vec<String> = v
            .list_team_members(vol::ListTeamMembersRequest {
                parent: team.name.clone(),
                page_size: 100,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .members
            .into_iter()
            .map(|m| m.volunteer)
            .collect();
        m.sort();
        m
    };
    assert_eq!(members(&mut v).await, [zhou.name.clone()]);

    // Again: nothing changes. Then skills are added, never taken away,
    // and a volunteer already registered joins the team.
    let r = import(staff, Kind::Volunteers, roster.as_bytes(), "A", false)
        .await
        .unwrap();
    assert_eq!((r.created, r.updated, r.unchanged), (0, 0, 2));
    let more = "Phone,Skills,Team\n13800000001,cooking,Garden Keepers\n13900000021,first_aid,\n";
    let r = import(staff, Kind::Volunteers, more.as_bytes(), "A", false)
        .await
        .unwrap();
    assert_eq!((r.updated, r.unchanged, r.problems.len()), (1, 1, 0));
    let volunteers = listed(&mut v).await;
    let wang = volunteers.iter().find(|x| x.name != zhou.name).unwrap();
    assert_eq!(wang.skills, ["cooking"]);
    let mut both = vec![zhou.name.clone(), wang.name.clone()];
    both.sort();
    assert_eq!(members(&mut v).await, both);
}

async fn exports_read_back_equal_the_apis_answers(env: Env) {
    let w = World::build(&env).await;
    let resident = env.resident(PHONE_A1).await;
    for title in ["楼道堆物", "=cmd|' /C calc'!A0", "-1 and more"] {
        report(&env, resident.clone(), &w.a1, title).await;
    }
    report(&env, env.street_admin(), &w.b1, "b1 clutter").await;
    let admin = env.street_admin();
    let listed = env
        .issues(admin.clone())
        .list_issues(iss::ListIssuesRequest {
            filter: format!("community = \"{}\"", w.community_a),
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .issues;
    assert_eq!(listed.len(), 3);
    let staff = clients(&env, admin);
    let what = Export::Issues {
        filter: format!("community = \"{}\"", w.community_a),
    };
    for format in [Format::Csv, Format::Xlsx] {
        let (bytes, rows) = export::run(&staff, &what, format, Vec::new(), &|_| {})
            .await
            .unwrap();
        assert_eq!(rows, 3);
        if format == Format::Csv {
            let text = String::from_utf8(bytes.clone()).unwrap();
            assert!(text.contains("'=cmd|"), "{text}");
            assert!(text.contains("'-1 and more"), "{text}");
        }
        let sheet = read::read(&bytes, &Limits::default()).unwrap();
        let mut got: Vec<(String, String, String)> = sheet
            .rows
            .iter()
            .map(|r| (r.cells[0].clone(), r.cells[1].clone(), r.cells[6].clone()))
            .collect();
        let mut want: Vec<(String, String, String)> = listed
            .iter()
            .map(|i| (i.name.clone(), i.title.clone(), "a1".to_owned()))
            .collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{format:?}");
    }

    // The window's end is exclusive, and the test clock stands still.
    let interval = Some(cogov_proto::common::Interval {
        start_time: Some(cogov_kit::convert::timestamp(
            start_time() - chrono::Duration::days(1),
        )),
        end_time: Some(cogov_kit::convert::timestamp(
            start_time() + chrono::Duration::days(1),
        )),
    });
    let computed = env
        .issues(env.street_admin())
        .compute_issue_statistics(iss::ComputeIssueStatisticsRequest {
            group_by: iss::StatisticsGroup::Courtyard as i32,
            interval,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .rows;
    assert_eq!(computed.len(), 2);
    let what = Export::Statistics {
        group_by: iss::StatisticsGroup::Courtyard,
        interval,
        filter: String::new(),
    };
    let (bytes, rows) = export::run(&staff, &what, Format::Xlsx, Vec::new(), &|_| {})
        .await
        .unwrap();
    assert_eq!(rows as usize, computed.len());
    let sheet = read::read(&bytes, &Limits::default()).unwrap();
    for (row, want) in sheet.rows.iter().zip(&computed) {
        assert_eq!(row.cells[1], want.key);
        assert_eq!(row.cells[3], want.reported.to_string());
        assert_eq!(row.cells[12].parse::<f64>().unwrap(), want.resolution_rate);
    }
    let names: Vec<&str> = sheet.rows.iter().map(|r| r.cells[2].as_str()).collect();
    assert!(names.contains(&"a1") && names.contains(&"b1"), "{names:?}");

    // A partner exports only what it sees: firm A's reach is a1.
    let firm = clients(&env, key(&w.key_a));
    let (bytes, rows) = export::run(
        &firm,
        &Export::Issues {
            filter: String::new(),
        },
        Format::Csv,
        Vec::new(),
        &|_| {},
    )
    .await
    .unwrap();
    assert_eq!(rows, 3, "{}", String::from_utf8_lossy(&bytes));
}
