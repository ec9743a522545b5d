//! A poll in each of the eight methods, as tests of the council's ballots
//! need them: options `a`, `b`, `c` where a method takes choices, `t1` and
//! `t2` (an hour each, a day ahead) for the time poll, open a week, results
//! shown after voting.

use chrono::{DateTime, Duration, Utc};
use cogov_proto::common::Interval;
use cogov_proto::deliberation::{Eligibility, Poll, PollMethod, PollOption, ResultsVisibility};

use crate::convert::timestamp;

/// The eight methods, each with its options, ready for CreatePoll under
/// `topic`; `now` places the times.
pub fn one_of_each_method(topic: &str, now: DateTime<Utc>) -> Vec<Poll> {
    let at = |hours: i64| Some(timestamp(now + Duration::hours(hours)));
    let options = |keys: &[&str]| -> Vec<PollOption> {
        keys.iter()
            .enumerate()
            .map(|(i, k)| PollOption {
                key: k.to_string(),
                title: format!("选项 {}", k.to_uppercase()),
                time: k.starts_with('t').then(|| Interval {
                    start_time: at(24 + i as i64),
                    end_time: at(25 + i as i64),
                }),
            })
            .collect()
    };
    [
        (PollMethod::Proposal, vec![]),
        (PollMethod::Consent, vec![]),
        (PollMethod::Choose, options(&["a", "b", "c"])),
        (PollMethod::Score, options(&["a", "b"])),
        (PollMethod::RankedChoice, options(&["a", "b", "c"])),
        (PollMethod::DotVote, options(&["a", "b"])),
        (PollMethod::Count, vec![]),
        (PollMethod::TimePoll, options(&["t1", "t2"])),
    ]
    .into_iter()
    .map(|(method, options)| Poll {
        topic: topic.to_owned(),
        title: format!("poll {}", method.as_str_name()),
        method: method as i32,
        options,
        min_choices: 1,
        max_choices: 2,
        dots_per_voter: 5,
        count_target: 3,
        close_time: at(24 * 7),
        eligibility: Eligibility::Residents as i32,
        results_visibility: ResultsVisibility::AfterVoting as i32,
        ..Default::default()
    })
    .collect()
}
