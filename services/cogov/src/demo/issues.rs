//! The demo's issues: 300 reports over the 27 sub-items in realistic
//! states, dispatched to the firm serving the courtyard, the community's
//! residents' committee or a street department, and an inspection round of
//! the two-nos items in every courtyard.

use cogov_issues::taxonomy_seed::SUB_ITEMS;
use cogov_proto::common::ContactDetails;
use cogov_proto::issues::issues_service_client::IssuesServiceClient;
use cogov_proto::issues::{
    AcknowledgeIssueRequest, ConfirmIssueRequest, CreateInspectionRequest, DispatchIssueRequest,
    Inspection, InspectionResult, Issue, IssueState, MarkDuplicateIssueRequest, RejectIssueRequest,
    RejectReason, ReopenIssueRequest, ReportIssueRequest, ResolveIssueRequest, ReturnIssueRequest,
    ReturnReason, StartIssueRequest,
};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use tonic::transport::Channel;

use super::{DemoStreet, Signer, err};

/// How many issues the demo reports.
pub const ISSUES: usize = 300;

/// The problems old estates report most.
const COMMON: [&str; 12] = [
    "chaotic_parking",
    "clutter_piling",
    "ebike_parking_charging",
    "garbage_sorting",
    "roof_leak",
    "water_drainage",
    "lighting",
    "property_service",
    "noise",
    "neighbor_dispute",
    "public_hygiene",
    "greening",
];

/// Problems for the residents' committee rather than a firm.
const COMMUNITY_MATTERS: [&str; 3] = ["neighbor_dispute", "elderly_care", "noise"];

fn uuid(rng: &mut ChaCha8Rng) -> String {
    let bytes: [u8; 16] = rng.random();
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// Loads the issues and inspections; returns a summary.
pub async fn load(
    channel: Channel,
    signer: Signer,
    street: &DemoStreet,
    rng: &mut ChaCha8Rng,
) -> Result<String, String> {
    let mut c = IssuesServiceClient::with_interceptor(channel, signer);
    let mut calls = 0usize;
    let mut by_state = std::collections::BTreeMap::<&'static str, usize>::new();
    // The last issue still open in each courtyard, for duplicates.
    let mut open_by_courtyard: Vec<Option<(String, String)>> = vec![None; street.courtyards.len()];

    for _ in 0..ISSUES {
        let yi = rng.random_range(0..street.courtyards.len());
        let (courtyard, community, estate) = street.courtyards[yi].clone();
        let roll = rng.random_range(0..100);
        let target = match roll {
            0..8 => IssueState::Reported,
            8..16 => IssueState::Acknowledged,
            16..30 => IssueState::Dispatched,
            30..40 => IssueState::InProgress,
            40..52 => IssueState::Resolved,
            52..88 => IssueState::Closed,
            88..91 => IssueState::Returned,
            91..94 => IssueState::Rejected,
            94..97 => IssueState::Duplicate,
            _ => IssueState::Reopened,
        };
        let repeat = open_by_courtyard[yi]
            .clone()
            .filter(|_| target == IssueState::Duplicate);
        let sub_item: &str = match &repeat {
            Some((_, item)) => SUB_ITEMS
                .iter()
                .find(|s| s.code == item)
                .map_or("noise", |s| s.code),
            None if rng.random_bool(0.6) => COMMON[rng.random_range(0..COMMON.len())],
            None => SUB_ITEMS[rng.random_range(0..SUB_ITEMS.len())].code,
        };
        let neighbours: Vec<&String> = street
            .residents
            .iter()
            .filter(|(_, y)| *y == yi)
            .map(|(n, _)| n)
            .collect();
        let (reporter, contact) = if !neighbours.is_empty() && rng.random_bool(0.7) {
            (
                neighbours[rng.random_range(0..neighbours.len())].clone(),
                None,
            )
        } else {
            let phone = format!("139{:08}", rng.random_range(0..100_000_000u32));
            (
                String::new(),
                Some(ContactDetails {
                    display_name: "热心居民 A resident".into(),
                    phone,
                    address: String::new(),
                }),
            )
        };
        let channel = [
            cogov_proto::issues::Channel::App,
            cogov_proto::issues::Channel::Hotline,
            cogov_proto::issues::Channel::WalkIn,
            cogov_proto::issues::Channel::Inspection,
        ][rng.random_range(0..4)];
        let request_id = uuid(rng);
        calls += 1;
        let issue = c
            .report_issue(ReportIssueRequest {
                issue: Some(Issue {
                    courtyard: courtyard.clone(),
                    sub_item: format!("subItems/{sub_item}"),
                    title: SUB_ITEMS
                        .iter()
                        .find(|s| s.code == sub_item)
                        .map(|s| s.zh.to_owned())
                        .unwrap_or_default(),
                    description: "居民反映 Reported by residents".into(),
                    channel: channel as i32,
                    reporter,
                    reporter_contact: contact,
                    ..Default::default()
                }),
                request_id,
            })
            .await
            .map_err(err("issue"))?
            .into_inner();
        let name = issue.name.clone();

        let assignee = if COMMUNITY_MATTERS.contains(&sub_item) {
            street.committees[community].clone()
        } else if let Some((firm, _)) = street
            .firms
            .iter()
            .find(|(_, served)| estate && served.contains(&community))
        {
            firm.clone()
        } else if matches!(
            sub_item,
            "illegal_construction" | "chaotic_parking" | "fire_lane_blocked"
        ) {
            street.departments[0].clone()
        } else if estate {
            street.departments[1].clone()
        } else {
            street.committees[community].clone()
        };

        let mut state = IssueState::Reported;
        macro_rules! step {
            ($call:ident, $req:expr) => {{
                calls += 1;
                c.$call($req).await.map_err(err(stringify!($call)))?;
            }};
        }
        if target == IssueState::Duplicate {
            if let Some((original, _)) = repeat {
                step!(
                    mark_duplicate_issue,
                    MarkDuplicateIssueRequest {
                        name: name.clone(),
                        original,
                        ..Default::default()
                    }
                );
                state = IssueState::Duplicate;
            }
        } else if target == IssueState::Rejected {
            step!(
                acknowledge_issue,
                AcknowledgeIssueRequest {
                    name: name.clone(),
                    ..Default::default()
                }
            );
            step!(
                reject_issue,
                RejectIssueRequest {
                    name: name.clone(),
                    reason: RejectReason::NotResponsible as i32,
                    note: "属于其他部门职责 Another body's duty".into(),
                    ..Default::default()
                }
            );
            state = IssueState::Rejected;
        } else if target != IssueState::Reported {
            step!(
                acknowledge_issue,
                AcknowledgeIssueRequest {
                    name: name.clone(),
                    ..Default::default()
                }
            );
            state = IssueState::Acknowledged;
            if target != IssueState::Acknowledged {
                step!(
                    dispatch_issue,
                    DispatchIssueRequest {
                        name: name.clone(),
                        assignee: assignee.clone(),
                        ..Default::default()
                    }
                );
                state = IssueState::Dispatched;
            }
            if target == IssueState::Returned {
                step!(
                    return_issue,
                    ReturnIssueRequest {
                        name: name.clone(),
                        reason: ReturnReason::NeedsOtherParty as i32,
                        note: "需要联合处置 Needs a joint response".into(),
                        ..Default::default()
                    }
                );
                state = IssueState::Returned;
            } else if !matches!(target, IssueState::Acknowledged | IssueState::Dispatched) {
                step!(
                    start_issue,
                    StartIssueRequest {
                        name: name.clone(),
                        ..Default::default()
                    }
                );
                state = IssueState::InProgress;
                if target != IssueState::InProgress {
                    step!(
                        resolve_issue,
                        ResolveIssueRequest {
                            name: name.clone(),
                            note: "已处理完毕 Handled".into(),
                            ..Default::default()
                        }
                    );
                    state = IssueState::Resolved;
                }
                if matches!(target, IssueState::Closed | IssueState::Reopened) {
                    let satisfaction = match rng.random_range(0..100) {
                        0..70 => rng.random_range(4..=5),
                        70..85 => 3,
                        _ => rng.random_range(1..=2),
                    };
                    step!(
                        confirm_issue,
                        ConfirmIssueRequest {
                            name: name.clone(),
                            satisfaction,
                            ..Default::default()
                        }
                    );
                    state = IssueState::Closed;
                }
                if target == IssueState::Reopened {
                    step!(
                        reopen_issue,
                        ReopenIssueRequest {
                            name: name.clone(),
                            reason: "问题复发 It came back".into(),
                            ..Default::default()
                        }
                    );
                    state = IssueState::Reopened;
                }
            }
        }
        if matches!(
            state,
            IssueState::Reported
                | IssueState::Acknowledged
                | IssueState::Dispatched
                | IssueState::InProgress
        ) {
            open_by_courtyard[yi] = Some((name, sub_item.to_owned()));
        }
        *by_state
            .entry(state.as_str_name().trim_start_matches("ISSUE_STATE_"))
            .or_default() += 1;
    }

    // An inspection round of the two-nos items.
    let mut inspections = 0;
    for (courtyard, _, _) in &street.courtyards {
        for sub_item in ["chaotic_parking", "clutter_piling"] {
            let result = if rng.random_bool(0.75) {
                InspectionResult::Passed
            } else {
                InspectionResult::Failed
            };
            let request_id = uuid(rng);
            calls += 1;
            c.create_inspection(CreateInspectionRequest {
                inspection: Some(Inspection {
                    courtyard: courtyard.clone(),
                    sub_item: format!("subItems/{sub_item}"),
                    result: result as i32,
                    notes: "月度巡查 Monthly round".into(),
                    ..Default::default()
                }),
                request_id,
            })
            .await
            .map_err(err("inspection"))?;
            inspections += 1;
        }
    }
    let states: Vec<String> = by_state
        .iter()
        .map(|(s, n)| format!("{n} {}", s.to_lowercase()))
        .collect();
    Ok(format!(
        "{ISSUES} issues ({}), {inspections} inspections ({calls} calls)",
        states.join(", ")
    ))
}
