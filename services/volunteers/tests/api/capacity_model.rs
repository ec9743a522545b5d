//! Sign-ups against a model of places and the waitlist: random sequences
//! of sign-ups and cancellations by a handful of volunteers, on activities
//! of random capacity, over gRPC. After every step each volunteer's
//! sign-up (state and waitlist position) and the activity's counts are
//! what the model says: confirmed first come, first served up to the
//! capacity, then the waitlist in order up to its capacity, then
//! ACTIVITY_FULL; a cancelled place goes to the head of the waitlist.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, Ordering};

use cogov_proto::volunteers::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use tonic::Code;

use crate::support::*;

const VOLUNTEERS: usize = 5;

#[derive(Debug, Clone, Copy)]
enum Op {
    SignUp(usize),
    Cancel(usize),
}

/// Places and the waitlist, as volunteers' indices.
#[derive(Debug, Default)]
struct Model {
    capacity: usize,
    waitlist_capacity: usize,
    confirmed: Vec<usize>,
    waitlist: VecDeque<usize>,
}

/// What the model expects of a step.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Done,
    Full,
    NotActive,
}

impl Model {
    fn apply(&mut self, op: Op) -> Outcome {
        match op {
            Op::SignUp(v) => {
                if self.confirmed.contains(&v) || self.waitlist.contains(&v) {
                    // Signing up again is the same sign-up.
                    Outcome::Done
                } else if self.confirmed.len() < self.capacity {
                    self.confirmed.push(v);
                    Outcome::Done
                } else if self.waitlist.len() < self.waitlist_capacity {
                    self.waitlist.push_back(v);
                    Outcome::Done
                } else {
                    Outcome::Full
                }
            }
            Op::Cancel(v) => {
                if let Some(i) = self.confirmed.iter().position(|x| *x == v) {
                    self.confirmed.remove(i);
                    if let Some(first) = self.waitlist.pop_front() {
                        self.confirmed.push(first);
                    }
                    Outcome::Done
                } else if let Some(i) = self.waitlist.iter().position(|x| *x == v) {
                    self.waitlist.remove(i);
                    Outcome::Done
                } else {
                    Outcome::NotActive
                }
            }
        }
    }

    /// A volunteer's expected (state, waitlist position).
    fn of(&self, v: usize) -> Option<(SignupState, i32)> {
        if self.confirmed.contains(&v) {
            Some((SignupState::Confirmed, 0))
        } else {
            self.waitlist
                .iter()
                .position(|x| *x == v)
                .map(|i| (SignupState::Waitlisted, i as i32 + 1))
        }
    }
}

fn fail(what: String) -> TestCaseError {
    TestCaseError::fail(what)
}

async fn run_case(
    env: &Env,
    w: &World,
    starts_in_hours: i64,
    (capacity, waitlist, ops): (usize, usize, Vec<Op>),
) -> Result<(), TestCaseError> {
    let activity = published(env, w, capacity as i32, waitlist as i32, starts_in_hours).await;
    let mut c = env.admin();
    let mut model = Model {
        capacity,
        waitlist_capacity: waitlist,
        ..Model::default()
    };
    let mut signups: HashMap<usize, String> = HashMap::new();
    for (i, &op) in ops.iter().enumerate() {
        let expected = model.apply(op);
        let reply = match op {
            Op::SignUp(v) => sign_up(&mut c, &activity.name, &w.volunteers_a[v]).await,
            Op::Cancel(v) => match signups.get(&v) {
                // Nothing to cancel: the model agrees, nothing is sent.
                None if expected == Outcome::NotActive => continue,
                None => {
                    return Err(fail(format!(
                        "step {i}: the model cancelled {v}'s unknown sign-up"
                    )));
                }
                Some(name) => c
                    .cancel_signup(CancelSignupRequest {
                        name: name.clone(),
                        ..Default::default()
                    })
                    .await
                    .map(tonic::Response::into_inner),
            },
        };
        match (&expected, reply) {
            (Outcome::Done, Ok(signup)) => {
                let v = match op {
                    Op::SignUp(v) | Op::Cancel(v) => v,
                };
                signups.insert(v, signup.name);
            }
            (Outcome::Full | Outcome::NotActive, Err(status))
                if status.code() == Code::FailedPrecondition => {}
            (expected, reply) => {
                return Err(fail(format!(
                    "step {i} {op:?}: the model says {expected:?}, the service {:?}",
                    reply.map(|s| (s.state, s.waitlist_position))
                )));
            }
        }

        let listed = c
            .list_signups(ListSignupsRequest {
                parent: activity.name.clone(),
                page_size: 100,
                ..Default::default()
            })
            .await
            .map_err(|s| fail(s.to_string()))?
            .into_inner()
            .signups;
        for v in 0..VOLUNTEERS {
            let found = listed
                .iter()
                .find(|s| s.volunteer == w.volunteers_a[v])
                .filter(|s| s.state != SignupState::Cancelled as i32)
                .map(|s| (SignupState::try_from(s.state).unwrap(), s.waitlist_position));
            if found != model.of(v) {
                return Err(fail(format!(
                    "after step {i} {op:?}: volunteer {v} is {found:?}, the model says {:?} ({model:?})",
                    model.of(v)
                )));
            }
        }
        let counts = c
            .get_activity(GetActivityRequest {
                name: activity.name.clone(),
            })
            .await
            .map_err(|s| fail(s.to_string()))?
            .into_inner();
        if (
            counts.confirmed_count as usize,
            counts.waitlist_count as usize,
        ) != (model.confirmed.len(), model.waitlist.len())
        {
            return Err(fail(format!(
                "after step {i}: counts {} + {}, the model says {model:?}",
                counts.confirmed_count, counts.waitlist_count
            )));
        }
    }
    Ok(())
}

#[test]
fn sign_ups_follow_the_capacity_model() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (env, w) = rt.block_on(async {
        let env = Env::start(TestDb::sqlite(), TestDb::sqlite()).await;
        let w = World::build(&env, VOLUNTEERS).await;
        (env, w)
    });
    let op = prop_oneof![
        3 => (0..VOLUNTEERS).prop_map(Op::SignUp),
        2 => (0..VOLUNTEERS).prop_map(Op::Cancel),
    ];
    let case = (1..=3usize, 0..=2usize, proptest::collection::vec(op, 1..20));
    let mut runner = TestRunner::new(Config {
        cases: 32,
        failure_persistence: None,
        ..Config::default()
    });
    // Each case gets an activity of its own, later than the last, so that
    // no volunteer's earlier commitments overlap it.
    let hours = AtomicI64::new(24);
    let result = runner.run(&case, |case| {
        let starts = hours.fetch_add(3, Ordering::Relaxed);
        rt.block_on(run_case(&env, &w, starts, case))
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
