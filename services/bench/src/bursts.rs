//! The other writes people make in bursts, measured the way ReportIssue
//! is: through the gateway at concurrency 64. A crowd does them: after a
//! meeting everyone co-signs, comments and votes; at an activity's start
//! every volunteer checks in. So each call is a resident's own (a street
//! admin acting for them at the service station, `x-cogov-for-resident`,
//! which the services see as the resident's call; check-in is the
//! organiser's, at the door) and touches a row of its own: its own sign-up,
//! support, opinion, ballot or issue.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cogov_proto::deliberation as del;
use cogov_proto::deliberation::deliberation_service_client::DeliberationServiceClient;
use cogov_proto::issues::issues_service_client::IssuesServiceClient;
use cogov_proto::issues::*;
use cogov_proto::organizations as org;
use cogov_proto::organizations::organizations_service_client::OrganizationsServiceClient;
use cogov_proto::volunteers as vol;
use cogov_proto::volunteers::volunteers_service_client::VolunteersServiceClient;
use tonic::service::Interceptor;
use tonic::transport::Channel;
use uuid::Uuid;

use crate::{Run, Stack, figures, load};

/// Concurrency of the measured bursts, as for ReportIssue.
const CONCURRENCY: usize = 64;

/// A street admin's call, or their call for a resident.
#[derive(Clone)]
struct Caller {
    token: String,
    resident: Option<String>,
}

impl Interceptor for Caller {
    fn call(&mut self, mut r: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let m = r.metadata_mut();
        m.insert(
            "authorization",
            format!("Bearer {}", self.token).parse().expect("ascii"),
        );
        if let Some(person) = &self.resident {
            m.insert(
                cogov_gateway::residents::assisted::HEADER,
                person.parse().expect("ascii"),
            );
        }
        Ok(r)
    }
}

/// Clients through the gateway for one caller.
#[derive(Clone)]
struct Clients {
    channel: Channel,
    caller: Caller,
}

impl Clients {
    fn staff(stack: &Stack) -> Clients {
        Clients {
            channel: stack.gateway_channel.clone(),
            caller: Caller {
                token: stack.token.clone(),
                resident: None,
            },
        }
    }

    fn resident(&self, person: &str) -> Clients {
        Clients {
            channel: self.channel.clone(),
            caller: Caller {
                token: self.caller.token.clone(),
                resident: Some(person.to_owned()),
            },
        }
    }

    fn orgs(
        &self,
    ) -> OrganizationsServiceClient<tonic::service::interceptor::InterceptedService<Channel, Caller>>
    {
        OrganizationsServiceClient::with_interceptor(self.channel.clone(), self.caller.clone())
    }

    fn issues(
        &self,
    ) -> IssuesServiceClient<tonic::service::interceptor::InterceptedService<Channel, Caller>> {
        IssuesServiceClient::with_interceptor(self.channel.clone(), self.caller.clone())
    }

    fn volunteers(
        &self,
    ) -> VolunteersServiceClient<tonic::service::interceptor::InterceptedService<Channel, Caller>>
    {
        VolunteersServiceClient::with_interceptor(self.channel.clone(), self.caller.clone())
    }

    fn deliberation(
        &self,
    ) -> DeliberationServiceClient<tonic::service::interceptor::InterceptedService<Channel, Caller>>
    {
        DeliberationServiceClient::with_interceptor(self.channel.clone(), self.caller.clone())
    }
}

fn request_id() -> String {
    Uuid::new_v4().to_string()
}

/// `f(k)` for every k below `n`, 64 at a time (setting the scene, not
/// measured); the answers in order.
async fn each<T, F, Fut>(n: usize, f: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = T> + Send,
{
    let mut tasks = Vec::new();
    for t in 0..CONCURRENCY {
        let f = f.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for k in (t..n).step_by(CONCURRENCY) {
                out.push((k, f(k).await));
            }
            out
        }));
    }
    let mut all = Vec::with_capacity(n);
    for t in tasks {
        all.extend(t.await.expect("a setting-up task"));
    }
    all.sort_by_key(|(k, _)| *k);
    all.into_iter().map(|(_, v)| v).collect()
}

/// A measured burst of `n` calls, `call(k)` for each k below `n`; the
/// answers are kept by k for the next step.
async fn burst<T, F, Fut>(n: usize, call: F) -> (Run, Vec<T>)
where
    T: Send + Clone + 'static,
    F: Fn(usize) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = T> + Send,
{
    let per_task = n / CONCURRENCY;
    let kept: Arc<Mutex<Vec<Option<T>>>> = Arc::new(Mutex::new(vec![None; per_task * CONCURRENCY]));
    let run = {
        let kept = kept.clone();
        load(per_task * CONCURRENCY, CONCURRENCY, move |t, i| {
            let call = call.clone();
            let kept = kept.clone();
            let k = t * per_task + i;
            async move {
                let out = call(k).await;
                kept.lock().expect("not poisoned")[k] = Some(out);
            }
        })
        .await
    };
    let kept = std::mem::take(&mut *kept.lock().expect("not poisoned"));
    (
        run,
        kept.into_iter()
            .map(|v| v.expect("every call answered"))
            .collect(),
    )
}

/// Measures the bursts with `n` residents of one courtyard, on the stack's
/// databases; prints a table row per write.
pub async fn measure(stack: &Stack, n: usize) {
    let n = n / CONCURRENCY * CONCURRENCY;
    let staff = Clients::staff(stack);
    let (courtyard_id, community_id) = stack.courtyards[0];
    let courtyard = cogov_kit::names::format("courtyards", courtyard_id);
    let community = cogov_kit::names::format("communities", community_id);

    // The crowd: residents registered by staff, each a volunteer.
    let persons = {
        let (staff, courtyard, community) = (staff.clone(), courtyard.clone(), community.clone());
        each(n, move |k| {
            let (mut o, courtyard, community) =
                (staff.orgs(), courtyard.clone(), community.clone());
            async move {
                o.create_person(org::CreatePersonRequest {
                    person: Some(org::Person {
                        display_name: format!("resident {k}"),
                        community,
                        courtyard,
                        phone: format!("139{k:08}"),
                        ..Default::default()
                    }),
                    request_id: request_id(),
                })
                .await
                .expect("a resident")
                .into_inner()
                .name
            }
        })
        .await
    };
    let persons = Arc::new(persons);
    let volunteers = {
        let (staff, persons) = (staff.clone(), persons.clone());
        each(n, move |k| {
            let (mut v, person) = (staff.volunteers(), persons[k].clone());
            async move {
                v.create_volunteer(vol::CreateVolunteerRequest {
                    volunteer: Some(vol::Volunteer {
                        person,
                        phone: format!("139{k:08}"),
                        ..Default::default()
                    }),
                    request_id: request_id(),
                })
                .await
                .expect("a volunteer")
                .into_inner()
                .name
            }
        })
        .await
    };
    let volunteers = Arc::new(volunteers);

    // An activity every one of them can join, starting in a minute.
    let mut v = staff.volunteers();
    let team = v
        .create_team(vol::CreateTeamRequest {
            team: Some(vol::Team {
                display_name: "bench team".into(),
                community: community.clone(),
                leader: volunteers[0].clone(),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .expect("a team")
        .into_inner()
        .name;
    let start = chrono::Utc::now() + chrono::Duration::minutes(1);
    let activity = v
        .create_activity(vol::CreateActivityRequest {
            activity: Some(vol::Activity {
                title: "bench activity".into(),
                community: community.clone(),
                courtyard: courtyard.clone(),
                organizing_team: team,
                start_time: Some(cogov_kit::convert::timestamp(start)),
                end_time: Some(cogov_kit::convert::timestamp(
                    start + chrono::Duration::hours(3),
                )),
                capacity: i32::try_from(n).expect("a capacity"),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .expect("an activity")
        .into_inner()
        .name;
    v.publish_activity(vol::PublishActivityRequest {
        name: activity.clone(),
        ..Default::default()
    })
    .await
    .expect("published");

    let (run, signups) = {
        let (staff, persons, volunteers, activity) = (
            staff.clone(),
            persons.clone(),
            volunteers.clone(),
            activity.clone(),
        );
        burst(n, move |k| {
            let mut v = staff.resident(&persons[k]).volunteers();
            let (volunteer, parent) = (volunteers[k].clone(), activity.clone());
            async move {
                v.create_signup(vol::CreateSignupRequest {
                    parent,
                    signup: Some(vol::Signup {
                        volunteer,
                        ..Default::default()
                    }),
                    request_id: request_id(),
                })
                .await
                .expect("CreateSignup")
                .into_inner()
                .name
            }
        })
        .await
    };
    figures(
        "CreateSignup through the gateway, concurrency 64 (each resident for themself)",
        run,
        "sign-ups",
    );
    v.start_activity(vol::StartActivityRequest {
        name: activity.clone(),
        ..Default::default()
    })
    .await
    .expect("started");
    let signups = Arc::new(signups);
    // The organiser checks each arrival in.
    let (run, _) = {
        let staff = staff.clone();
        burst(n, move |k| {
            let mut v = staff.volunteers();
            let name = signups[k].clone();
            async move {
                v.check_in_signup(vol::CheckInSignupRequest { name })
                    .await
                    .expect("CheckInSignup");
            }
        })
        .await
    };
    figures(
        "CheckInSignup through the gateway, concurrency 64 (staff at the door)",
        run,
        "check-ins",
    );

    // A council of the courtyard: a proposal to co-sign, a topic under
    // discussion, then its poll open to the courtyard's residents.
    let mut d = staff.deliberation();
    let council = d
        .create_council(del::CreateCouncilRequest {
            council: Some(del::Council {
                display_name: "bench council".into(),
                place: courtyard.clone(),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .expect("a council")
        .into_inner()
        .name;
    let mut topic = async |title: &str| {
        d.create_topic(del::CreateTopicRequest {
            topic: Some(del::Topic {
                council: council.clone(),
                title: title.into(),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .expect("a topic")
        .into_inner()
        .name
    };
    let proposal = topic("bench proposal").await;
    let discussed = topic("bench discussion").await;
    d.schedule_topic(del::ScheduleTopicRequest {
        name: discussed.clone(),
        ..Default::default()
    })
    .await
    .expect("scheduled");
    d.open_topic_discussion(del::OpenTopicDiscussionRequest {
        name: discussed.clone(),
        ..Default::default()
    })
    .await
    .expect("in discussion");

    let (run, _) = {
        let (staff, persons) = (staff.clone(), persons.clone());
        burst(n, move |k| {
            let mut d = staff.resident(&persons[k]).deliberation();
            let (name, supporter) = (proposal.clone(), persons[k].clone());
            async move {
                d.support_topic(del::SupportTopicRequest { name, supporter })
                    .await
                    .expect("SupportTopic");
            }
        })
        .await
    };
    figures(
        "SupportTopic through the gateway, concurrency 64",
        run,
        "co-signatures",
    );
    let (run, _) = {
        let (staff, persons, parent) = (staff.clone(), persons.clone(), discussed.clone());
        burst(n, move |k| {
            let mut d = staff.resident(&persons[k]).deliberation();
            let (parent, author) = (parent.clone(), persons[k].clone());
            async move {
                d.create_opinion(del::CreateOpinionRequest {
                    parent,
                    opinion: Some(del::Opinion {
                        author,
                        stance: del::Stance::Support as i32,
                        text: "同意，尽快办".into(),
                        ..Default::default()
                    }),
                    request_id: request_id(),
                })
                .await
                .expect("CreateOpinion");
            }
        })
        .await
    };
    figures(
        "CreateOpinion through the gateway, concurrency 64",
        run,
        "opinions",
    );

    let poll = d
        .create_poll(del::CreatePollRequest {
            poll: Some(del::Poll {
                topic: discussed.clone(),
                title: "Shall we?".into(),
                method: del::PollMethod::Proposal as i32,
                eligibility: del::Eligibility::Residents as i32,
                close_time: Some(cogov_kit::convert::timestamp(
                    chrono::Utc::now() + chrono::Duration::days(7),
                )),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .expect("a poll")
        .into_inner()
        .name;
    d.open_poll(del::OpenPollRequest {
        name: poll.clone(),
        ..Default::default()
    })
    .await
    .expect("opened");
    let (run, _) = {
        let (staff, persons) = (staff.clone(), persons.clone());
        burst(n, move |k| {
            let mut d = staff.resident(&persons[k]).deliberation();
            let (poll, voter) = (poll.clone(), persons[k].clone());
            async move {
                d.cast_vote(del::CastVoteRequest {
                    poll,
                    voter,
                    choices: vec![del::Choice {
                        option: "agree".into(),
                        value: 1,
                    }],
                    request_id: request_id(),
                    ..Default::default()
                })
                .await
                .expect("CastVote");
            }
        })
        .await
    };
    figures(
        &format!("CastVote through the gateway, concurrency 64 (a poll of {n} eligible)"),
        run,
        "ballots",
    );

    // Each resident's own report, taken up by a property firm and resolved.
    let mut o = staff.orgs();
    let firm = o
        .create_organization(org::CreateOrganizationRequest {
            organization: Some(org::Organization {
                display_name: "bench firm".into(),
                kind: org::OrganizationKind::PropertyFirm as i32,
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .expect("a firm")
        .into_inner()
        .name;
    o.create_agreement(org::CreateAgreementRequest {
        agreement: Some(org::Agreement {
            kind: org::AgreementKind::Service as i32,
            organization: firm.clone(),
            courtyards: vec![courtyard.clone()],
            title: "bench service".into(),
            start_time: Some(cogov_kit::convert::timestamp(
                chrono::Utc::now() - chrono::Duration::days(30),
            )),
            ..Default::default()
        }),
        request_id: request_id(),
    })
    .await
    .expect("an agreement");
    let issues = {
        let (staff, persons) = (staff.clone(), persons.clone());
        each(n, move |k| {
            let mut mine = staff.resident(&persons[k]).issues();
            let mut i = staff.issues();
            let (courtyard, firm) = (courtyard.clone(), firm.clone());
            async move {
                let name = mine
                    .report_issue(ReportIssueRequest {
                        issue: Some(Issue {
                            courtyard,
                            sub_item: "subItems/roof_leak".into(),
                            title: format!("bench {k}"),
                            ..Default::default()
                        }),
                        request_id: request_id(),
                    })
                    .await
                    .expect("a report")
                    .into_inner()
                    .name;
                i.acknowledge_issue(AcknowledgeIssueRequest {
                    name: name.clone(),
                    ..Default::default()
                })
                .await
                .expect("acknowledged");
                i.dispatch_issue(DispatchIssueRequest {
                    name: name.clone(),
                    assignee: firm,
                    ..Default::default()
                })
                .await
                .expect("dispatched");
                i.start_issue(StartIssueRequest {
                    name: name.clone(),
                    ..Default::default()
                })
                .await
                .expect("started");
                i.resolve_issue(ResolveIssueRequest {
                    name: name.clone(),
                    note: "mended".into(),
                    ..Default::default()
                })
                .await
                .expect("resolved");
                name
            }
        })
        .await
    };
    let issues = Arc::new(issues);
    // The set-up's events (a report and four steps each, and a notice to
    // the reporter for each step) are still being applied when its calls
    // have returned: measured on their own, and out of the confirmations'
    // figures.
    let (took, cpu) = settle().await;
    println!(
        "| the set-up's {} issue events and {} notices, applied after its calls returned | {:.1} s, {:.1} s of CPU |",
        5 * n,
        4 * n,
        took.as_secs_f64(),
        cpu
    );
    let (run, _) = {
        let (staff, persons) = (staff.clone(), persons.clone());
        burst(n, move |k| {
            let mut i = staff.resident(&persons[k]).issues();
            let (name, confirmer) = (issues[k].clone(), persons[k].clone());
            async move {
                i.confirm_issue(ConfirmIssueRequest {
                    name,
                    satisfaction: 5,
                    confirmer,
                    ..Default::default()
                })
                .await
                .expect("ConfirmIssue");
            }
        })
        .await
    };
    figures(
        "ConfirmIssue through the gateway, concurrency 64 (each reporter their own)",
        run,
        "confirmations",
    );
    // Let the event pipeline drain before the next measurement.
    tokio::time::sleep(Duration::from_millis(500)).await;
}

/// Waits until the process and PostgreSQL are nearly idle (under 5 % of a
/// core for a quarter of a second, or a minute at most): how long it took
/// and the CPU seconds spent meanwhile.
async fn settle() -> (Duration, f64) {
    const QUIET: f64 = 0.05;
    const STEP: Duration = Duration::from_millis(250);
    let (start, cpu0) = (std::time::Instant::now(), crate::cpu::seconds());
    let mut last = (start, cpu0);
    while start.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(STEP).await;
        let now = (std::time::Instant::now(), crate::cpu::seconds());
        if (now.1 - last.1) / (now.0 - last.0).as_secs_f64() < QUIET {
            break;
        }
        last = now;
    }
    (last.0 - start, last.1 - cpu0)
}
