//! The service against a model of the issue lifecycle: random sequences of
//! actions, legal and illegal, sent over gRPC by whoever would send them.
//! After every step the issue is what the model says; an illegal step is
//! FAILED_PRECONDITION (PERMISSION_DENIED for a firm acting on an issue
//! not dispatched to it) and changes nothing; the counters, the close time
//! and the timeline agree with the steps that were taken.

use cogov_proto::issues::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use tonic::Code;

use crate::support::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Acknowledge,
    Dispatch,
    Return,
    Start,
    Resolve,
    Confirm,
    Reopen,
    Reject,
    MarkDuplicate,
}

/// The lifecycle as the documentation draws it, written apart from the
/// service's own table.
fn model(state: IssueState, step: Step) -> Option<IssueState> {
    use IssueState as S;
    let open = matches!(
        state,
        S::Reported | S::Acknowledged | S::Dispatched | S::Returned | S::InProgress | S::Reopened
    );
    match (step, state) {
        (Step::Acknowledge, S::Reported) => Some(S::Acknowledged),
        (Step::Dispatch, S::Acknowledged | S::Returned | S::Reopened) => Some(S::Dispatched),
        (Step::Return, S::Dispatched) => Some(S::Returned),
        (Step::Start, S::Dispatched) => Some(S::InProgress),
        (Step::Resolve, S::InProgress) => Some(S::Resolved),
        (Step::Confirm, S::Resolved) => Some(S::Closed),
        (Step::Reopen, S::Resolved | S::Closed) => Some(S::Reopened),
        (Step::Reject, _) if open => Some(S::Rejected),
        (Step::MarkDuplicate, _) if open => Some(S::Duplicate),
        _ => None,
    }
}

#[derive(Clone)]
struct Actors {
    staff: Client,
    firm: Client,
    firm_name: String,
    original: String,
}

/// Sends `step` as the one who would: the firm works the issue, staff do
/// the rest.
async fn send(a: &mut Actors, name: &str, step: Step) -> Result<Issue, tonic::Status> {
    let name = name.to_owned();
    let reply = match step {
        Step::Acknowledge => {
            a.staff
                .acknowledge_issue(AcknowledgeIssueRequest {
                    name,
                    ..Default::default()
                })
                .await
        }
        Step::Dispatch => {
            a.staff
                .dispatch_issue(DispatchIssueRequest {
                    name,
                    assignee: a.firm_name.clone(),
                    ..Default::default()
                })
                .await
        }
        Step::Return => {
            a.firm
                .return_issue(ReturnIssueRequest {
                    name,
                    reason: ReturnReason::NotOurDuty as i32,
                    ..Default::default()
                })
                .await
        }
        Step::Start => {
            a.firm
                .start_issue(StartIssueRequest {
                    name,
                    ..Default::default()
                })
                .await
        }
        Step::Resolve => {
            a.firm
                .resolve_issue(ResolveIssueRequest {
                    name,
                    note: "done".into(),
                    ..Default::default()
                })
                .await
        }
        Step::Confirm => {
            a.staff
                .confirm_issue(ConfirmIssueRequest {
                    name,
                    satisfaction: 4,
                    ..Default::default()
                })
                .await
        }
        Step::Reopen => {
            a.staff
                .reopen_issue(ReopenIssueRequest {
                    name,
                    reason: "it is back".into(),
                    ..Default::default()
                })
                .await
        }
        Step::Reject => {
            a.staff
                .reject_issue(RejectIssueRequest {
                    name,
                    reason: RejectReason::NotResponsible as i32,
                    ..Default::default()
                })
                .await
        }
        Step::MarkDuplicate => {
            a.staff
                .mark_duplicate_issue(MarkDuplicateIssueRequest {
                    name,
                    original: a.original.clone(),
                    ..Default::default()
                })
                .await
        }
    };
    reply.map(tonic::Response::into_inner)
}

fn check(ok: bool, what: impl FnOnce() -> String) -> Result<(), TestCaseError> {
    if ok {
        Ok(())
    } else {
        Err(TestCaseError::fail(what()))
    }
}

async fn run_case(a: &mut Actors, courtyard: &str, steps: &[Step]) -> Result<(), TestCaseError> {
    let mut issue = a
        .staff
        .report_issue(report(courtyard, "clutter_piling"))
        .await
        .map_err(|s| TestCaseError::fail(format!("report: {s}")))?
        .into_inner();
    let (mut returns, mut reopens, mut taken) = (0, 0, 0);
    for (i, &step) in steps.iter().enumerate() {
        let before = IssueState::try_from(issue.state).unwrap();
        // The firm may work an issue only while it is dispatched to it:
        // otherwise PERMISSION_DENIED, whatever the state.
        let by_firm = matches!(step, Step::Return | Step::Start | Step::Resolve);
        let allowed = !by_firm || issue.assignee == a.firm_name;
        let expected = model(before, step).filter(|_| allowed);
        let refusal = if allowed {
            Code::FailedPrecondition
        } else {
            Code::PermissionDenied
        };
        let reply = send(a, &issue.name, step).await;
        match (expected, reply) {
            (Some(state), Ok(after)) => {
                check(after.state == state as i32, || {
                    format!(
                        "step {i} {step:?} from {before:?}: {:?}, not {state:?}",
                        after.state
                    )
                })?;
                taken += 1;
                returns += i32::from(step == Step::Return);
                reopens += i32::from(step == Step::Reopen);
                issue = after;
            }
            (None, Err(status)) => {
                check(status.code() == refusal, || {
                    format!("step {i} {step:?} from {before:?}: {status:?}")
                })?;
                let now = a
                    .staff
                    .get_issue(GetIssueRequest {
                        name: issue.name.clone(),
                    })
                    .await
                    .map_err(|s| TestCaseError::fail(s.to_string()))?
                    .into_inner();
                check(now.etag == issue.etag, || {
                    format!("step {i} {step:?} was refused yet changed the issue")
                })?;
            }
            (expected, reply) => {
                return Err(TestCaseError::fail(format!(
                    "step {i} {step:?} from {before:?}: the model says {expected:?}, the service {:?}",
                    reply.map(|r| r.state)
                )));
            }
        }
        check(
            issue.return_count == returns && issue.reopen_count == reopens,
            || {
                format!(
                    "after step {i}: returns {} (model {returns}), reopens {} (model {reopens})",
                    issue.return_count, issue.reopen_count
                )
            },
        )?;
        let closed = matches!(
            IssueState::try_from(issue.state).unwrap(),
            IssueState::Closed | IssueState::Rejected | IssueState::Duplicate
        );
        check(issue.close_time.is_some() == closed, || {
            format!(
                "after step {i}: close_time {:?} in {:?}",
                issue.close_time, issue.state
            )
        })?;
    }
    let timeline = a
        .staff
        .list_issue_updates(ListIssueUpdatesRequest {
            parent: issue.name.clone(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .map_err(|s| TestCaseError::fail(s.to_string()))?
        .into_inner()
        .updates;
    let transitions = timeline
        .iter()
        .filter(|u| u.kind == IssueUpdateKind::Transition as i32)
        .count();
    check(transitions == 1 + taken, || {
        format!("{transitions} transitions on the timeline for the report and {taken} steps")
    })
}

#[test]
fn the_service_follows_the_lifecycle_model() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (env, w) = rt.block_on(async {
        let env = Env::start(TestDb::sqlite(), TestDb::sqlite()).await;
        let w = World::build(&env).await;
        (env, w)
    });
    let actors = Actors {
        staff: env.client(community_admin(&w.community_a)),
        firm: env.client(partner(&w.firm_a)),
        firm_name: w.firm_a.clone(),
        original: rt.block_on(async {
            env.admin()
                .report_issue(report(&w.a1, "clutter_piling"))
                .await
                .unwrap()
                .into_inner()
                .name
        }),
    };
    // Rejection and duplicates end an issue's life: rarer, so that cases
    // get far along the path.
    let step = prop_oneof![
        4 => Just(Step::Acknowledge),
        4 => Just(Step::Dispatch),
        2 => Just(Step::Return),
        4 => Just(Step::Start),
        4 => Just(Step::Resolve),
        3 => Just(Step::Confirm),
        2 => Just(Step::Reopen),
        1 => Just(Step::Reject),
        1 => Just(Step::MarkDuplicate),
    ];
    let steps = proptest::collection::vec(step, 1..16);
    let mut runner = TestRunner::new(Config {
        cases: 48,
        // Failures print their minimal case; nothing is written to disk.
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&steps, |steps| {
        let mut actors = actors.clone();
        rt.block_on(run_case(&mut actors, &w.a1, &steps))
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    rt.block_on(day_counts_agree_with_the_issues(&env));
}
