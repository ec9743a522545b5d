//! Residents sign in by phone: codes and their limits, who a number is,
//! registration and verification, sessions with rotating refresh tokens,
//! and ending sessions — over real gRPC, with codes delivered by signed
//! HTTP POSTs to a real receiver.

use cogov_proto::gateway::*;
use cogov_proto::issues::{
    CreateIssueCommentRequest, Issue, ListIssuesRequest, ReportIssueRequest,
};
use cogov_proto::organizations as org;
use cogov_proto::volunteers::volunteers_service_client::VolunteersServiceClient;
use cogov_proto::volunteers::{CreateVolunteerRequest, Volunteer};

use tonic::Code;
use tonic_types::StatusExt;

use crate::both;
use crate::support::*;

both!(
    a_known_number_signs_in_and_acts_as_its_person,
    codes_are_single_use_and_limited,
    an_unknown_number_registers_and_waits_for_verification,
    refresh_tokens_rotate_and_a_reused_one_ends_the_session,
    sessions_are_listed_and_ended_by_their_resident_and_staff,
    the_inbox_tells_a_reporter_and_forwards_when_asked,
    a_resident_exports_their_data_and_has_it_erased,
    staff_act_for_a_resident_at_the_service_station,
);

pub(crate) fn tokens(r: SignInResponse) -> ResidentTokens {
    match r.outcome {
        Some(sign_in_response::Outcome::Tokens(t)) => t,
        other => panic!("expected tokens, got {other:?}"),
    }
}

pub(crate) fn as_resident(t: &ResidentTokens) -> Bearer {
    Bearer(Some(t.access_token.clone()))
}

/// Whether the audit log soon holds a successful call of `method` by a
/// resident principal that `fits`.
async fn audited_as_resident(
    env: &Env,
    method: &str,
    fits: impl Fn(&cogov_proto::common::ResidentPrincipal) -> bool,
) -> bool {
    use cogov_proto::common::principal::Kind;
    let mut admin = env.admin();
    eventually(async || {
        admin
            .list_audit_records(ListAuditRecordsRequest {
                filter: format!("method = {method:?}"),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .audit_records
            .iter()
            .any(|r| {
                r.code == 0
                    && r.principal
                        .as_ref()
                        .is_some_and(|p| matches!(&p.kind, Some(Kind::Resident(r)) if fits(r)))
            })
    })
    .await
}

async fn caller(env: &Env, who: Bearer) -> Result<Caller, tonic::Status> {
    env.gateway_as(who)
        .get_caller(GetCallerRequest {})
        .await
        .map(|r| r.into_inner())
}

async fn a_known_number_signs_in_and_acts_as_its_person(env: Env) {
    let w = World::build(&env).await;
    let t = env.resident_tokens(PHONE_A1).await;
    assert!(t.access_token.starts_with("cgr_"));
    let me = caller(&env, as_resident(&t)).await.unwrap();
    let principal = cogov_kit::auth::Principal::from_proto(me.principal.as_ref().unwrap()).unwrap();
    assert_eq!(
        cogov_kit::names::format(
            "persons",
            match principal {
                cogov_kit::auth::Principal::Resident { person, .. } => person,
                other => panic!("{other:?}"),
            }
        ),
        w.resident_a1
    );
    assert_eq!(me.courtyards, [w.a1.clone()]);
    assert_eq!(me.communities, [w.community_a.clone()]);

    // The resident reports in their own courtyard, as themselves.
    let issue = env
        .issues(as_resident(&t))
        .report_issue(ReportIssueRequest {
            issue: Some(Issue {
                courtyard: w.a1.clone(),
                sub_item: "subItems/lighting".into(),
                title: "楼道灯不亮".into(),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(issue.reporter, w.resident_a1);
    // Not in another community's courtyard.
    let elsewhere = env
        .issues(as_resident(&t))
        .report_issue(ReportIssueRequest {
            issue: Some(Issue {
                courtyard: w.b1.clone(),
                sub_item: "subItems/lighting".into(),
                title: "x".into(),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await;
    assert_status(elsewhere, Code::PermissionDenied, "OUT_OF_REACH");
    // Staff-only methods are refused at the door.
    let admin_only = env
        .gateway_as(as_resident(&t))
        .list_audit_records(ListAuditRecordsRequest::default())
        .await;
    assert_status(admin_only, Code::PermissionDenied, "FORBIDDEN");
    // The sign-in is in the audit log, by the person who signed in.
    assert!(
        audited_as_resident(&env, "/cogov.gateway.v1.ResidentsService/SignIn", |r| {
            r.person == w.resident_a1
        })
        .await,
        "a sign-in audit record naming the resident"
    );
    // A neighbour in a1 sees the report in the public view: no reporter,
    // no contact; and may not comment on it. The resident of b1 does not
    // see it at all.
    let neighbour_phone = "13700000003";
    env.orgs(env.street_admin())
        .create_person(org::CreatePersonRequest {
            person: Some(org::Person {
                display_name: "赵叔".into(),
                community: w.community_a.clone(),
                courtyard: w.a1.clone(),
                phone: neighbour_phone.into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
    let neighbour = env.resident(neighbour_phone).await;
    let seen = env
        .issues(neighbour.clone())
        .list_issues(ListIssuesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .issues;
    let public = seen
        .iter()
        .find(|i| i.name == issue.name)
        .expect("the courtyard's issue");
    assert_eq!(public.reporter, "");
    assert!(public.reporter_contact.is_none());
    assert_status(
        env.issues(neighbour)
            .create_issue_comment(CreateIssueCommentRequest {
                parent: issue.name.clone(),
                text: "me too".into(),
                ..Default::default()
            })
            .await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
    let far = env
        .issues(env.resident(PHONE_B1).await)
        .list_issues(ListIssuesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .issues;
    assert!(far.iter().all(|i| i.name != issue.name));
    // The reporter comments on their own.
    env.issues(as_resident(&t))
        .create_issue_comment(CreateIssueCommentRequest {
            parent: issue.name.clone(),
            text: "还是不亮".into(),
            ..Default::default()
        })
        .await
        .unwrap();

    // Their own record: they change their contact preferences, nothing
    // else, and no one else's.
    let mut orgs = env.orgs(as_resident(&t));
    let prefs = org::ContactPreferences {
        forward_notices: true,
        daily_digest: true,
    };
    let updated = orgs
        .update_person(org::UpdatePersonRequest {
            person: Some(org::Person {
                name: w.resident_a1.clone(),
                contact_preferences: Some(prefs),
                ..Default::default()
            }),
            update_mask: mask(&["contact_preferences"]),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.contact_preferences, Some(prefs));
    for (name, path, reason) in [
        (&w.resident_a1, "building_head", "FORBIDDEN"),
        (&w.resident_b1, "contact_preferences", "OUT_OF_REACH"),
    ] {
        assert_status(
            orgs.update_person(org::UpdatePersonRequest {
                person: Some(org::Person {
                    name: name.clone(),
                    building_head: true,
                    ..Default::default()
                }),
                update_mask: mask(&[path]),
            })
            .await,
            Code::PermissionDenied,
            reason,
        );
    }

    // A number in another spelling is the same number.
    let again = env.resident_tokens("+86-138-0000-0001").await;
    assert_ne!(again.session, t.session, "a second session");
    // Nothing was posted to the messaging system that it had to refuse.
    assert_eq!(env.phones.refused(), 0);
}

async fn codes_are_single_use_and_limited(env: Env) {
    World::build(&env).await;
    let mut public = env.residents(Bearer(None));
    let send = |phone: &str| SendSignInCodeRequest {
        phone: phone.into(),
    };
    let sign_in = |code: &str| SignInRequest {
        phone: PHONE_A1.into(),
        code: code.into(),
        device: String::new(),
    };

    // Bad numbers name the field and send nothing.
    for bad in ["", "12345", "010-12345678", "+86 10 1234 5678", "phone"] {
        assert_bad_field(public.send_sign_in_code(send(bad)).await, "phone");
    }
    assert_bad_field(public.sign_in(sign_in("12ab56")).await, "code");

    let first = public
        .send_sign_in_code(send(PHONE_A1))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.code_length, 6);
    assert_eq!(first.resend_after.as_ref().unwrap().seconds, 60);
    let code = env.phones.code(&e164(PHONE_A1), 1).await;

    // Another code within the minute: RESOURCE_EXHAUSTED with RetryInfo.
    let again = public.send_sign_in_code(send(PHONE_A1)).await.unwrap_err();
    assert_eq!(again.code(), Code::ResourceExhausted);
    let retry = again.get_details_retry_info().expect("RetryInfo");
    assert!(retry.retry_delay.is_some_and(|d| d.as_secs() <= 60));

    // Wrong codes use up the code's tries; after five even the right one
    // is refused.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        assert_status(
            public.sign_in(sign_in(wrong)).await,
            Code::Unauthenticated,
            "CODE_INVALID",
        );
    }
    assert_status(
        public.sign_in(sign_in(&code)).await,
        Code::Unauthenticated,
        "CODE_TRIES_EXHAUSTED",
    );

    // A fresh code works once.
    env.clock.advance(chrono::Duration::seconds(61));
    public.send_sign_in_code(send(PHONE_A1)).await.unwrap();
    let code = env.phones.code(&e164(PHONE_A1), 2).await;
    tokens(public.sign_in(sign_in(&code)).await.unwrap().into_inner());
    assert_status(
        public.sign_in(sign_in(&code)).await,
        Code::Unauthenticated,
        "CODE_USED",
    );

    // A code lapses after five minutes.
    env.clock.advance(chrono::Duration::seconds(61));
    public.send_sign_in_code(send(PHONE_A1)).await.unwrap();
    let code = env.phones.code(&e164(PHONE_A1), 3).await;
    env.clock.advance(chrono::Duration::minutes(5));
    assert_status(
        public.sign_in(sign_in(&code)).await,
        Code::Unauthenticated,
        "CODE_EXPIRED",
    );

    // Ten codes a day for one number.
    for n in 4..=10 {
        env.clock.advance(chrono::Duration::seconds(61));
        public.send_sign_in_code(send(PHONE_A1)).await.unwrap();
        env.phones.code(&e164(PHONE_A1), n).await;
    }
    env.clock.advance(chrono::Duration::seconds(61));
    let eleventh = public.send_sign_in_code(send(PHONE_A1)).await.unwrap_err();
    assert_eq!(eleventh.code(), Code::ResourceExhausted);
    env.clock.advance(chrono::Duration::days(1));
    public.send_sign_in_code(send(PHONE_A1)).await.unwrap();

    // The answer for a number nobody has is the same as for a known one:
    // the same fields, and a code is sent to it all the same.
    let unknown = public
        .send_sign_in_code(send("13900000009"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(unknown.code_length, first.code_length);
    assert_eq!(unknown.resend_after, first.resend_after);
    env.phones.code(&e164("13900000009"), 1).await;
}

async fn an_unknown_number_registers_and_waits_for_verification(env: Env) {
    let w = World::build(&env).await;
    let phone = "139 1234 5678";
    let ticket = match env.sign_in(phone).await.outcome {
        Some(sign_in_response::Outcome::Registration(r)) => r,
        other => panic!("expected a registration ticket, got {other:?}"),
    };
    let notice = ticket.privacy_notice.clone().unwrap();
    assert!(notice.text.contains("个人信息"));
    let mut public = env.residents(Bearer(None));
    let register = |consent: bool, version: &str, building: &str| RegisterResidentRequest {
        ticket: ticket.ticket.clone(),
        display_name: "张先生".into(),
        courtyard: w.a1.clone(),
        building: building.into(),
        privacy_notice_version: version.into(),
        consent,
        device: "test phone".into(),
    };
    assert_bad_field(
        public
            .register_resident(register(false, &notice.version, ""))
            .await,
        "consent",
    );
    assert_bad_field(
        public
            .register_resident(register(true, "1999-01-01", ""))
            .await,
        "privacy_notice_version",
    );
    let mut o = env.orgs(env.street_admin());
    let b1_building = o
        .create_building(org::CreateBuildingRequest {
            building: Some(org::Building {
                courtyard: w.b1.clone(),
                display_name: "1号楼".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .name;
    assert_bad_field(
        public
            .register_resident(register(true, &notice.version, &b1_building))
            .await,
        "building",
    );
    let mut forged = register(true, &notice.version, "");
    forged.ticket = format!("{}x", forged.ticket);
    assert_bad_field(public.register_resident(forged).await, "ticket");

    let t = tokens(
        public
            .register_resident(register(true, &notice.version, ""))
            .await
            .unwrap()
            .into_inner(),
    );
    // A retry with the same ticket is the same person, not a second one.
    let retried = tokens(
        public
            .register_resident(register(true, &notice.version, ""))
            .await
            .unwrap()
            .into_inner(),
    );
    let person_of = |t: &ResidentTokens| {
        let name = &t.session.as_ref().unwrap().name;
        name[..name.find("/sessions/").unwrap()].to_owned()
    };
    assert_eq!(person_of(&t), person_of(&retried));
    let holders = o
        .list_persons(org::ListPersonsRequest {
            filter: format!("phone = {:?}", e164(phone)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .persons;
    assert_eq!(holders.len(), 1, "one person for the number");
    let person = holders[0].clone();
    assert_eq!(person.name, person_of(&t));
    assert_eq!(
        person.verification,
        org::PersonVerification::Unverified as i32
    );
    assert_eq!(person.privacy_notice_version, notice.version);
    assert!(person.consent_time.is_some());
    assert_eq!(person.community, w.community_a);

    // Unverified: reports, but does not volunteer (nor vote, nor co-sign).
    let me = as_resident(&t);
    env.issues(me.clone())
        .report_issue(ReportIssueRequest {
            issue: Some(Issue {
                courtyard: w.a1.clone(),
                sub_item: "subItems/lighting".into(),
                title: "灯坏了".into(),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap();
    let mut volunteers =
        VolunteersServiceClient::with_interceptor(env.gateway.channel.clone(), me.clone());
    let volunteer = || CreateVolunteerRequest {
        volunteer: Some(Volunteer {
            person: person.name.clone(),
            ..Default::default()
        }),
        request_id: request_id(),
    };
    assert_status(
        volunteers.create_volunteer(volunteer()).await,
        Code::FailedPrecondition,
        "RESIDENT_UNVERIFIED",
    );

    // Community staff see the pending registration and verify it; B's
    // cannot.
    let pending = env
        .orgs(Bearer(Some(env.token("community_admin", &w.community_a))))
        .list_persons(org::ListPersonsRequest {
            filter: "verification = UNVERIFIED".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .persons;
    assert_eq!(
        pending.iter().map(|p| &p.name).collect::<Vec<_>>(),
        [&person.name]
    );
    let verify = org::VerifyPersonRequest {
        name: person.name.clone(),
        etag: String::new(),
    };
    assert_status(
        env.orgs(Bearer(Some(env.token("community_admin", &w.community_b))))
            .verify_person(verify.clone())
            .await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );
    assert_status(
        env.orgs(me.clone()).verify_person(verify.clone()).await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
    let verified = env
        .orgs(Bearer(Some(env.token("community_admin", &w.community_a))))
        .verify_person(verify.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        verified.verification,
        org::PersonVerification::Verified as i32
    );
    assert_status(
        env.orgs(env.street_admin()).verify_person(verify).await,
        Code::FailedPrecondition,
        "ILLEGAL_STATE_TRANSITION",
    );
    // They hear of it in their inbox, and may volunteer, with the same
    // session.
    let told = notices_reach(&env, &me, 1).await;
    assert_eq!(
        told[0].kind,
        cogov_proto::common::NoticeKind::RegistrationVerified as i32
    );
    volunteers.create_volunteer(volunteer()).await.unwrap();
    // And the next sign-in finds them by their number.
    let back = env.resident_tokens(phone).await;
    assert_eq!(person_of(&back), person.name);

    // The gateway's RegisterPerson is nobody's through the door.
    let direct = env
        .orgs(env.street_admin())
        .register_person(org::RegisterPersonRequest::default())
        .await;
    assert_status(direct, Code::PermissionDenied, "FORBIDDEN");
}

async fn refresh_tokens_rotate_and_a_reused_one_ends_the_session(env: Env) {
    let w = World::build(&env).await;
    let t = env.resident_tokens(PHONE_A1).await;
    // An expired access token is refused; the refresh renews it, also when
    // the old access token is sent along.
    env.clock.advance(chrono::Duration::minutes(16));
    assert_status(
        caller(&env, as_resident(&t)).await,
        Code::Unauthenticated,
        "ACCESS_TOKEN_EXPIRED",
    );
    let mut with_old = env.residents(as_resident(&t));
    let renewed = with_old
        .refresh_resident_session(RefreshResidentSessionRequest {
            refresh_token: t.refresh_token.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_ne!(renewed.refresh_token, t.refresh_token);
    assert_eq!(
        renewed.session.as_ref().unwrap().name,
        t.session.as_ref().unwrap().name
    );
    caller(&env, as_resident(&renewed)).await.unwrap();

    // Forged and unknown refresh tokens are refused and change nothing.
    let mut public = env.residents(Bearer(None));
    for forged in [
        "cgrr_nope".to_owned(),
        renewed.refresh_token.replace(".2.", ".3."),
        format!("{}A", renewed.refresh_token),
    ] {
        assert_status(
            public
                .refresh_resident_session(RefreshResidentSessionRequest {
                    refresh_token: forged,
                })
                .await,
            Code::Unauthenticated,
            "REFRESH_TOKEN_INVALID",
        );
    }
    caller(&env, as_resident(&renewed)).await.unwrap();

    // The spent token again: someone copied it. The session ends, and its
    // newest access token stops working at once.
    assert_status(
        public
            .refresh_resident_session(RefreshResidentSessionRequest {
                refresh_token: t.refresh_token.clone(),
            })
            .await,
        Code::Unauthenticated,
        "REFRESH_TOKEN_REUSED",
    );
    assert_status(
        caller(&env, as_resident(&renewed)).await,
        Code::Unauthenticated,
        "SESSION_ENDED",
    );
    assert_status(
        public
            .refresh_resident_session(RefreshResidentSessionRequest {
                refresh_token: renewed.refresh_token.clone(),
            })
            .await,
        Code::Unauthenticated,
        "SESSION_ENDED",
    );
    let sessions = env
        .residents(env.street_admin())
        .list_resident_sessions(ListResidentSessionsRequest {
            parent: w.resident_a1.clone(),
            show_ended: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .sessions;
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].end, SessionEnd::RefreshReused as i32);

    // A refresh token lapses after 30 days without renewal.
    let t = env.resident_tokens(PHONE_A1).await;
    env.clock.advance(chrono::Duration::days(31));
    assert_status(
        public
            .refresh_resident_session(RefreshResidentSessionRequest {
                refresh_token: t.refresh_token.clone(),
            })
            .await,
        Code::Unauthenticated,
        "SESSION_EXPIRED",
    );
}

async fn sessions_are_listed_and_ended_by_their_resident_and_staff(env: Env) {
    let w = World::build(&env).await;
    let phone_one = env.resident_tokens(PHONE_A1).await;
    let phone_two = env.resident_tokens(PHONE_A1).await;
    let neighbour = env.resident_tokens(PHONE_B1).await;
    let mine = env
        .residents(as_resident(&phone_one))
        .list_resident_sessions(ListResidentSessionsRequest {
            parent: "persons/me".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .sessions;
    assert_eq!(mine.len(), 2);
    assert_eq!(mine.iter().filter(|s| s.current).count(), 1);
    assert!(mine.iter().all(|s| s.device == "test phone"));

    // Another person's sessions are out of reach, for a resident and for
    // another community's staff.
    let theirs = ListResidentSessionsRequest {
        parent: w.resident_b1.clone(),
        ..Default::default()
    };
    assert_status(
        env.residents(as_resident(&phone_one))
            .list_resident_sessions(theirs.clone())
            .await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );
    assert_status(
        env.residents(Bearer(Some(env.token("community_admin", &w.community_a))))
            .list_resident_sessions(theirs.clone())
            .await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );
    let end_neighbour = EndResidentSessionRequest {
        name: neighbour.session.as_ref().unwrap().name.clone(),
    };
    assert_status(
        env.residents(as_resident(&phone_one))
            .end_resident_session(end_neighbour.clone())
            .await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );
    // B's staff end the neighbour's session; its token stops at once.
    let ended = env
        .residents(Bearer(Some(env.token("community_admin", &w.community_b))))
        .end_resident_session(end_neighbour)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ended.end, SessionEnd::EndedByStaff as i32);
    assert_status(
        caller(&env, as_resident(&neighbour)).await,
        Code::Unauthenticated,
        "SESSION_ENDED",
    );

    // The resident ends their other phone's session from this one.
    let other = env
        .residents(as_resident(&phone_one))
        .end_resident_session(EndResidentSessionRequest {
            name: phone_two.session.as_ref().unwrap().name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(other.end, SessionEnd::EndedByResident as i32);
    assert_status(
        caller(&env, as_resident(&phone_two)).await,
        Code::Unauthenticated,
        "SESSION_ENDED",
    );
    caller(&env, as_resident(&phone_one)).await.unwrap();

    // Sign-out ends this one; staff and partners have no session to end.
    env.residents(as_resident(&phone_one))
        .sign_out(SignOutRequest {})
        .await
        .unwrap();
    assert_status(
        caller(&env, as_resident(&phone_one)).await,
        Code::Unauthenticated,
        "SESSION_ENDED",
    );
    assert_status(
        env.residents(key(&w.key_a))
            .sign_out(SignOutRequest {})
            .await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
    let listed = env
        .residents(env.street_admin())
        .list_resident_sessions(ListResidentSessionsRequest {
            parent: w.resident_a1.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .sessions;
    assert!(listed.is_empty(), "no open session left: {listed:?}");
}

async fn notices(env: &Env, who: &Bearer, unread_only: bool) -> ListNoticesResponse {
    env.residents(who.clone())
        .list_notices(ListNoticesRequest {
            parent: "persons/me".into(),
            unread_only,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

/// Waits until the resident has `n` notices.
async fn notices_reach(env: &Env, who: &Bearer, n: usize) -> Vec<Notice> {
    let mut last = Vec::new();
    for _ in 0..200 {
        last = notices(env, who, false).await.notices;
        if last.len() >= n {
            return last;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("expected {n} notices, have {last:?}");
}

async fn the_inbox_tells_a_reporter_and_forwards_when_asked(env: Env) {
    use cogov_proto::common::NoticeKind;
    use cogov_proto::issues::{AcknowledgeIssueRequest, RejectIssueRequest};
    let w = World::build(&env).await;
    let me = env.resident(PHONE_A1).await;
    let mut stream = env
        .residents(me.clone())
        .watch_notices(WatchNoticesRequest {
            parent: "persons/me".into(),
            language: "en".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let issue = env
        .issues(me.clone())
        .report_issue(ReportIssueRequest {
            issue: Some(Issue {
                courtyard: w.a1.clone(),
                sub_item: "subItems/lighting".into(),
                title: "楼道灯不亮".into(),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    // The reporter's own comment tells nobody; staff's steps and answers
    // tell the reporter.
    let mut issues = env.issues(me.clone());
    issues
        .create_issue_comment(CreateIssueCommentRequest {
            parent: issue.name.clone(),
            text: "三楼".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut staff = env.issues(env.street_admin());
    staff
        .acknowledge_issue(AcknowledgeIssueRequest {
            name: issue.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    staff
        .create_issue_comment(CreateIssueCommentRequest {
            parent: issue.name.clone(),
            text: "明天上午来修".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    // A staff-only note tells nobody.
    staff
        .create_issue_comment(CreateIssueCommentRequest {
            parent: issue.name.clone(),
            text: "内部备注".into(),
            internal: true,
            ..Default::default()
        })
        .await
        .unwrap();
    let got = notices_reach(&env, &me, 2).await;
    let kinds: Vec<i32> = got.iter().map(|n| n.kind).collect();
    assert_eq!(
        kinds,
        [
            NoticeKind::ReportAnswered as i32,
            NoticeKind::ReportStateChanged as i32
        ],
        "newest first: {got:?}"
    );
    assert!(got.iter().all(|n| n.subject == issue.name));
    assert_eq!(got[1].title, "您反映的问题已受理");
    assert!(got[0].body.contains("明天上午来修"));
    // The stream saw them as they came, in English.
    let first = stream.message().await.unwrap().unwrap();
    assert_eq!(first.kind, NoticeKind::ReportStateChanged as i32);
    assert_eq!(first.title, "Your report is acknowledged");
    assert_eq!(
        stream.message().await.unwrap().unwrap().kind,
        NoticeKind::ReportAnswered as i32
    );

    // Marked read; another's inbox is out of reach.
    let mut inbox = env.residents(me.clone());
    assert_eq!(notices(&env, &me, false).await.unread_count, 2);
    assert_bad_field(
        inbox
            .mark_notices_read(MarkNoticesReadRequest {
                parent: "persons/me".into(),
                ..Default::default()
            })
            .await,
        "names",
    );
    let marked = inbox
        .mark_notices_read(MarkNoticesReadRequest {
            parent: "persons/me".into(),
            names: vec![got[1].name.clone()],
            all: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(marked.marked, 1);
    let unread = notices(&env, &me, true).await;
    assert_eq!((unread.unread_count, unread.notices.len()), (1, 1));
    assert_status(
        inbox
            .list_notices(ListNoticesRequest {
                parent: w.resident_b1.clone(),
                ..Default::default()
            })
            .await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );
    assert_status(
        env.residents(env.street_admin())
            .list_notices(ListNoticesRequest {
                parent: "persons/me".into(),
                ..Default::default()
            })
            .await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );

    // Asked for it, the resident gets the next notice on their phone too.
    env.orgs(me.clone())
        .update_person(contact_preferences(&w.resident_a1, true, false))
        .await
        .unwrap();
    staff
        .reject_issue(RejectIssueRequest {
            name: issue.name.clone(),
            reason: cogov_proto::issues::RejectReason::NotResponsible as i32,
            note: "不属于物业范围".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    notices_reach(&env, &me, 3).await;
    assert!(
        eventually(async || env.phones.notices(&e164(PHONE_A1)).len() == 1).await,
        "the notice was sent on"
    );
    assert!(env.phones.notices(&e164(PHONE_A1))[0].contains("未予受理"));
    // With a daily digest instead, the next notices wait for a day.
    env.orgs(me.clone())
        .update_person(contact_preferences(&w.resident_a1, true, true))
        .await
        .unwrap();
    for text in ["已联系物业", "请留意"] {
        staff
            .create_issue_comment(CreateIssueCommentRequest {
                parent: issue.name.clone(),
                text: text.into(),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    notices_reach(&env, &me, 5).await;
    let digest = cogov_gateway::residents::inbox::send_digests;
    assert_eq!(digest(&env.gw, env.clock.now()).await.unwrap(), 0);
    env.clock.advance(chrono::Duration::hours(25));
    assert_eq!(digest(&env.gw, env.clock.now()).await.unwrap(), 1);
    assert_eq!(digest(&env.gw, env.clock.now()).await.unwrap(), 0, "once");
    assert!(
        eventually(async || env.phones.notices(&e164(PHONE_A1)).len() == 2).await,
        "one digest"
    );
    assert!(env.phones.notices(&e164(PHONE_A1))[1].contains("条新消息"));

    // The resident of b1 heard nothing of it.
    assert_eq!(
        notices(&env, &env.resident(PHONE_B1).await, false)
            .await
            .notices
            .len(),
        0
    );
}

/// The `table.column`s of the database at `url` that hold any of
/// `needles`, in text or in bytes.
/// How many follows the issues service keeps (its database is one of
/// the environment's).
async fn follows_held(env: &Env) -> i64 {
    use sea_orm::{ConnectionTrait, Database, Statement};
    let mut held = 0;
    for url in env.database_urls() {
        let db = Database::connect(url).await.unwrap();
        let counted = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT COUNT(*) FROM issue_followers",
            ))
            .await;
        // Other services' databases have no such table.
        if let Ok(Some(row)) = counted {
            held += row.try_get_by_index::<i64>(0).unwrap();
        }
    }
    held
}

async fn holders(url: &str, needles: &[&str]) -> Vec<String> {
    use sea_orm::{ConnectionTrait, Database, DatabaseBackend, Statement};
    let db = Database::connect(url).await.unwrap();
    let backend = db.get_database_backend();
    let columns: Vec<(String, String, String)> = match backend {
        DatabaseBackend::Postgres => db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = 'public'",
            ))
            .await
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r.try_get_by_index(0).unwrap(),
                    r.try_get_by_index(1).unwrap(),
                    r.try_get_by_index(2).unwrap(),
                )
            })
            .collect(),
        _ => {
            let tables: Vec<String> = db
                .query_all_raw(Statement::from_string(
                    backend,
                    "SELECT name FROM sqlite_master WHERE type = 'table'",
                ))
                .await
                .unwrap()
                .iter()
                .map(|r| r.try_get_by_index(0).unwrap())
                .collect();
            let mut out = Vec::new();
            for t in tables {
                for r in db
                    .query_all_raw(Statement::from_string(
                        backend,
                        format!("SELECT name, type FROM pragma_table_info('{t}')"),
                    ))
                    .await
                    .unwrap()
                {
                    out.push((t.clone(), r.try_get_by_index(0).unwrap(), r.try_get_by_index(1).unwrap()));
                }
            }
            out
        }
    };
    // One scan per table: a condition per column and needle, all OR-ed;
    // only a table that matches is asked again column by column.
    let condition = |column: &str, kind: &str, at: usize| match backend {
        DatabaseBackend::Postgres if kind == "bytea" => {
            format!("position(${at}::bytea in \"{column}\") > 0")
        }
        DatabaseBackend::Postgres => format!("\"{column}\"::text LIKE ${at}"),
        _ => format!("instr(CAST(\"{column}\" AS BLOB), ?) > 0"),
    };
    let value = |kind: &str, needle: &str| -> sea_orm::Value {
        match backend {
            DatabaseBackend::Postgres if kind != "bytea" => format!("%{needle}%").into(),
            _ => needle.as_bytes().to_vec().into(),
        }
    };
    let mut tables: std::collections::BTreeMap<String, Vec<(String, String)>> = Default::default();
    for (table, column, kind) in columns {
        tables.entry(table).or_default().push((column, kind));
    }
    let mut found = Vec::new();
    for (table, columns) in tables {
        let probes: Vec<(&str, &str, &str)> = columns
            .iter()
            .flat_map(|(c, k)| needles.iter().map(move |n| (c.as_str(), k.as_str(), *n)))
            .collect();
        let count = |probes: &[(&str, &str, &str)]| {
            let sql = format!(
                "SELECT count(*) FROM \"{table}\" WHERE {}",
                probes
                    .iter()
                    .enumerate()
                    .map(|(i, (c, k, _))| condition(c, k, i + 1))
                    .collect::<Vec<_>>()
                    .join(" OR ")
            );
            let values: Vec<_> = probes.iter().map(|(_, k, n)| value(k, n)).collect();
            let db = &db;
            async move {
                let row = db
                    .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
                    .await
                    .unwrap()
                    .unwrap();
                row.try_get_by_index::<i64>(0).unwrap()
            }
        };
        if count(&probes).await == 0 {
            continue;
        }
        for probe in &probes {
            if count(std::slice::from_ref(probe)).await > 0 {
                found.push(format!("{table}.{} holds {:?}", probe.0, probe.2));
            }
        }
    }
    db.close().await.ok();
    found
}

async fn a_resident_exports_their_data_and_has_it_erased(env: Env) {
    use cogov_proto::volunteers::volunteers_service_client::VolunteersServiceClient;
    let w = World::build(&env).await;
    let me = env.resident(PHONE_A1).await;
    let name = "王阿姨";
    let digits = "13800000001";
    // What there is of them: a report with their contact details, a
    // volunteer record with their number.
    let issue = env
        .issues(me.clone())
        .report_issue(ReportIssueRequest {
            issue: Some(Issue {
                courtyard: w.a1.clone(),
                sub_item: "subItems/clutter_piling".into(),
                title: "楼道堆物".into(),
                reporter_contact: Some(cogov_proto::common::ContactDetails {
                    display_name: name.into(),
                    phone: digits.into(),
                    address: "3号楼2单元".into(),
                }),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    VolunteersServiceClient::with_interceptor(env.gateway.channel.clone(), me.clone())
        .create_volunteer(CreateVolunteerRequest {
            volunteer: Some(Volunteer {
                person: w.resident_a1.clone(),
                phone: digits.into(),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap();

    // And a neighbour's report they follow.
    let followed = env
        .issues(env.street_admin())
        .report_issue(ReportIssueRequest {
            issue: Some(Issue {
                courtyard: w.a1.clone(),
                sub_item: "subItems/lighting".into(),
                title: "路灯不亮".into(),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    env.issues(me.clone())
        .follow_issue(cogov_proto::issues::FollowIssueRequest {
            name: followed.name.clone(),
        })
        .await
        .unwrap();
    assert_eq!(follows_held(&env).await, 1);

    // The scan below finds them where they are now (so its silence after
    // the erasure means something).
    let mut before = Vec::new();
    for url in env.database_urls() {
        before.extend(holders(url, &[name, digits]).await);
    }
    for held in [
        "persons.display_name",
        "persons.phone",
        "issues.",
        "volunteers.phone",
    ] {
        assert!(
            before.iter().any(|h| h.contains(held)),
            "{held} not found in {before:?}"
        );
    }

    // The export: one document, from every service, as the resident.
    let mut mine = env.residents(me.clone());
    let export = mine
        .export_my_data(ExportMyDataRequest {
            parent: "persons/me".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let doc: serde_json::Value = serde_json::from_str(&export.json).unwrap();
    assert_eq!(doc["person"]["displayName"], name);
    assert_eq!(
        doc["issues"]["reports"][0]["issue"]["name"],
        issue.name.as_str()
    );
    assert_eq!(
        doc["issues"]["following"][0]["name"],
        followed.name.as_str()
    );
    assert!(
        doc["issues"]["reports"][0]["timeline"]
            .as_array()
            .is_some_and(|t| !t.is_empty())
    );
    assert_eq!(doc["volunteers"][0]["volunteer"]["phone"], digits);
    assert!(
        doc["gateway"]["sessions"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    );
    assert_status(
        mine.export_my_data(ExportMyDataRequest {
            parent: w.resident_b1.clone(),
        })
        .await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );

    // The resident asks; asking again is the same request.
    let asked = mine
        .request_erasure(RequestErasureRequest {
            parent: "persons/me".into(),
            reason: "搬走了".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(asked.state, ErasureState::Pending as i32);
    let again = mine
        .request_erasure(RequestErasureRequest {
            parent: "persons/me".into(),
            reason: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.name, asked.name);

    // Staff of A see it pending; B's neither see nor decide it; the
    // resident cannot carry it out themselves.
    let staff_a = Bearer(Some(env.token("community_admin", &w.community_a)));
    let staff_b = Bearer(Some(env.token("community_admin", &w.community_b)));
    let pending = |who: Bearer| {
        let mut c = env.residents(who);
        async move {
            c.list_erasure_requests(ListErasureRequestsRequest {
                filter: "state = PENDING".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .erasure_requests
        }
    };
    assert_eq!(pending(staff_a.clone()).await.len(), 1);
    assert!(pending(staff_b.clone()).await.is_empty());
    let carry = CarryOutErasureRequest {
        name: asked.name.clone(),
    };
    assert_status(
        env.residents(staff_b)
            .carry_out_erasure(carry.clone())
            .await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );
    assert_status(
        mine.carry_out_erasure(carry.clone()).await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
    let done = env
        .residents(staff_a.clone())
        .carry_out_erasure(carry.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.state, ErasureState::Done as i32);
    assert!(done.decided_by.starts_with("community-admin:"));
    assert_status(
        env.residents(staff_a).carry_out_erasure(carry).await,
        Code::FailedPrecondition,
        "ILLEGAL_STATE_TRANSITION",
    );
    // Their session is over.
    assert_status(
        caller(&env, me.clone()).await,
        Code::Unauthenticated,
        "SESSION_ENDED",
    );
    // The report stays, and counts, without the contact details, once the
    // issues service has heard of the erasure (the volunteers service
    // hears of it the same way).
    let mut staff = env.issues(env.street_admin());
    assert!(
        eventually(async || {
            let kept = staff
                .get_issue(cogov_proto::issues::GetIssueRequest {
                    name: issue.name.clone(),
                })
                .await
                .unwrap()
                .into_inner();
            kept.reporter == w.resident_a1 && kept.reporter_contact.is_none()
        })
        .await,
        "the report kept, its contact details gone"
    );
    let mut volunteers =
        VolunteersServiceClient::with_interceptor(env.gateway.channel.clone(), env.street_admin());
    assert!(
        eventually(async || {
            volunteers
                .list_volunteers(cogov_proto::volunteers::ListVolunteersRequest::default())
                .await
                .unwrap()
                .into_inner()
                .volunteers
                .iter()
                .all(|v| v.phone != digits)
        })
        .await,
        "the volunteer record without their number"
    );

    // Nor what they followed.
    assert!(
        eventually(async || follows_held(&env).await == 0).await,
        "their follows forgotten"
    );

    // No table of any service holds their name or number.
    let needles = [name, digits];
    let mut left = Vec::new();
    for url in env.database_urls() {
        left.extend(holders(url, &needles).await);
    }
    assert!(left.is_empty(), "still held: {left:?}");
    // And the number is nobody's now.
    assert!(matches!(
        env.sign_in(PHONE_A1).await.outcome,
        Some(sign_in_response::Outcome::Registration(_))
    ));
}

async fn staff_act_for_a_resident_at_the_service_station(env: Env) {
    use cogov_proto::issues::issues_service_client::IssuesServiceClient;
    use cogov_proto::issues::{Channel as ReportChannel, ListIssueUpdatesRequest};
    let w = World::build(&env).await;
    let staff_a = Bearer(Some(env.token("community_admin", &w.community_a)));
    let for_a1 = |staff: Bearer, person: &str| {
        IssuesServiceClient::with_interceptor(
            env.gateway.channel.clone(),
            ForResident {
                staff,
                person: person.into(),
            },
        )
    };
    let report = || ReportIssueRequest {
        issue: Some(Issue {
            courtyard: w.a1.clone(),
            sub_item: "subItems/lighting".into(),
            title: "楼道灯坏了（代居民反映）".into(),
            ..Default::default()
        }),
        request_id: request_id(),
    };

    // Community A's staff member reports for resident A1, at the counter.
    let issue = for_a1(staff_a.clone(), &w.resident_a1)
        .report_issue(report())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        issue.reporter, w.resident_a1,
        "the report is the resident's"
    );
    assert_eq!(issue.channel, ReportChannel::WalkIn as i32);
    // The timeline says who typed it in, for whom.
    let updates = env
        .issues(env.street_admin())
        .list_issue_updates(ListIssueUpdatesRequest {
            parent: issue.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .updates;
    let author = &updates[0].author;
    assert!(
        author.starts_with("community-admin:")
            && author.ends_with(&format!("for resident:{}", w.resident_a1)),
        "{author}"
    );
    // So does the audit log: the resident's principal, with the staff
    // member who assisted.
    assert!(
        audited_as_resident(&env, "/cogov.issues.v1.IssuesService/ReportIssue", |r| {
            r.person == w.resident_a1
                && r.assisted_by
                    .as_ref()
                    .is_some_and(|s| s.community == w.community_a)
        })
        .await,
        "an audit record of the resident's report, assisted by community A's staff"
    );

    // The resident's own rules apply: they report only in their community.
    let mut elsewhere = report();
    elsewhere.issue.as_mut().unwrap().courtyard = w.b1.clone();
    assert_status(
        for_a1(staff_a.clone(), &w.resident_a1)
            .report_issue(elsewhere)
            .await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );
    // Staff-only methods are not the resident's to call, assisted or not.
    let mut as_resident_orgs = cogov_proto::organizations::organizations_service_client::OrganizationsServiceClient::with_interceptor(
        env.gateway.channel.clone(),
        ForResident {
            staff: staff_a.clone(),
            person: w.resident_a1.clone(),
        },
    );
    assert_status(
        as_resident_orgs
            .verify_person(org::VerifyPersonRequest {
                name: w.resident_a1.clone(),
                etag: String::new(),
            })
            .await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
    // Who may act for whom.
    let staff_b = Bearer(Some(env.token("community_admin", &w.community_b)));
    assert_status(
        for_a1(staff_b, &w.resident_a1).report_issue(report()).await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );
    assert_status(
        for_a1(
            env.street_admin(),
            &format!("persons/{}", uuid::Uuid::now_v7()),
        )
        .report_issue(report())
        .await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );
    assert_bad_field(
        for_a1(staff_a.clone(), "someone")
            .report_issue(report())
            .await,
        "x-cogov-for-resident",
    );
    let resident_b1 = env.resident(PHONE_B1).await;
    assert_status(
        for_a1(resident_b1, &w.resident_a1)
            .report_issue(report())
            .await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
    assert_status(
        for_a1(key(&w.key_a), &w.resident_a1)
            .report_issue(report())
            .await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
    assert_status(
        for_a1(Bearer(None), &w.resident_a1)
            .report_issue(report())
            .await,
        Code::Unauthenticated,
        "CREDENTIALS_MISSING",
    );
    // Street staff act for anyone in the street, and the resident's inbox
    // is theirs to read out at the counter.
    let mut inbox =
        cogov_proto::gateway::residents_service_client::ResidentsServiceClient::with_interceptor(
            env.gateway.channel.clone(),
            ForResident {
                staff: env.street_admin(),
                person: w.resident_b1.clone(),
            },
        );
    inbox
        .list_notices(ListNoticesRequest {
            parent: "persons/me".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    // Nothing changed for the failed attempts: one report in A1.
    let reports = env
        .issues(env.street_admin())
        .list_issues(cogov_proto::issues::ListIssuesRequest {
            filter: format!("reporter = {:?}", w.resident_a1),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .issues;
    assert_eq!(reports.len(), 1);
}
