//! Poll methods (Loomio's poll types): which options each takes and which
//! ballots are valid. Pure; the tally is in [`crate::tally`].

use chrono::{DateTime, Utc};
use cogov_kit::validate::Check;
use cogov_kit::{Error, Result, convert};
use cogov_proto::common::Interval;
use cogov_proto::deliberation::{Choice, PollMethod, PollOption};
use serde::{Deserialize, Serialize};

/// PROPOSAL's options.
pub const PROPOSAL: [(&str, &str); 4] = [
    ("agree", "Agree 同意"),
    ("abstain", "Abstain 弃权"),
    ("disagree", "Disagree 反对"),
    ("block", "Block 否决"),
];
/// CONSENT's options.
pub const CONSENT: [(&str, &str); 2] = [("consent", "Consent 同意"), ("object", "Object 异议")];
/// COUNT's option.
pub const COUNT: [(&str, &str); 1] = [("count_me_in", "Count me in 算我一个")];

/// The fixed options of a method, if it has them.
pub fn fixed(method: PollMethod) -> Option<&'static [(&'static str, &'static str)]> {
    match method {
        PollMethod::Proposal => Some(&PROPOSAL),
        PollMethod::Consent => Some(&CONSENT),
        PollMethod::Count => Some(&COUNT),
        _ => None,
    }
}

/// An option as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredOption {
    /// Stable key.
    pub key: String,
    /// Title.
    pub title: String,
    /// TIME_POLL: the proposed time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

impl StoredOption {
    /// As in the API.
    pub fn to_proto(&self) -> PollOption {
        PollOption {
            key: self.key.clone(),
            title: self.title.clone(),
            time: self.time.map(|(s, e)| Interval {
                start_time: Some(convert::timestamp(s)),
                end_time: Some(convert::timestamp(e)),
            }),
        }
    }
}

/// What a method needs to judge a ballot.
#[derive(Debug, Clone)]
pub struct Rules {
    /// The method.
    pub method: PollMethod,
    /// Option keys, in order.
    pub keys: Vec<String>,
    /// CHOOSE: fewest choices.
    pub min_choices: i32,
    /// CHOOSE: most choices.
    pub max_choices: i32,
    /// DOT_VOTE: dots each.
    pub dots: i32,
    /// COUNT: the opt-ins hoped for.
    pub count_target: i32,
}

fn valid_key(key: &str) -> bool {
    (1..=40).contains(&key.len())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Checks a poll's options and method settings; returns the options to
/// store (the fixed ones filled in) and the normalised rules.
#[allow(clippy::too_many_arguments)]
pub fn check_poll(
    c: &mut Check,
    method: PollMethod,
    options: &[PollOption],
    min_choices: i32,
    max_choices: i32,
    dots: i32,
    count_target: i32,
) -> (Vec<StoredOption>, Rules) {
    let stored: Vec<StoredOption> = match fixed(method) {
        Some(fixed) => {
            if !options.is_empty() {
                let keys: Vec<&str> = options.iter().map(|o| o.key.as_str()).collect();
                let want: Vec<&str> = fixed.iter().map(|(k, _)| *k).collect();
                if keys != want {
                    c.add(
                        "poll.options",
                        format!("this method's options are fixed: {}", want.join(", ")),
                    );
                }
            }
            fixed
                .iter()
                .enumerate()
                .map(|(i, (key, title))| {
                    let title = match options.get(i) {
                        Some(o) if !o.title.is_empty() => {
                            c.line(&format!("poll.options[{i}].title"), &o.title, 1, 200);
                            o.title.clone()
                        }
                        _ => (*title).to_owned(),
                    };
                    StoredOption {
                        key: (*key).to_owned(),
                        title,
                        time: None,
                    }
                })
                .collect()
        }
        None => {
            if !(2..=50).contains(&options.len()) {
                c.add("poll.options", "between 2 and 50 options");
            }
            let mut out: Vec<StoredOption> = Vec::new();
            for (i, o) in options.iter().enumerate() {
                let field = format!("poll.options[{i}]");
                if !valid_key(&o.key) {
                    c.add(
                        format!("{field}.key"),
                        "1 to 40 characters of a-z, 0-9 and _",
                    );
                } else if out.iter().any(|s| s.key == o.key) {
                    c.add(format!("{field}.key"), "repeats another option's key");
                }
                c.line(&format!("{field}.title"), &o.title, 1, 200);
                let time = if method == PollMethod::TimePoll {
                    let t = o.time.as_ref().and_then(|t| {
                        Some((
                            convert::from_timestamp(t.start_time.as_ref()?)?,
                            convert::from_timestamp(t.end_time.as_ref()?)?,
                        ))
                    });
                    match t {
                        Some((s, e)) if s < e => Some((s, e)),
                        _ => {
                            c.add(
                                format!("{field}.time"),
                                "a time poll's option needs a start_time before its end_time",
                            );
                            None
                        }
                    }
                } else {
                    None
                };
                out.push(StoredOption {
                    key: o.key.clone(),
                    title: o.title.clone(),
                    time,
                });
            }
            out
        }
    };
    let n = stored.len() as i32;
    let (mut min, mut max) = (0, 0);
    if method == PollMethod::Choose {
        min = if min_choices == 0 { 1 } else { min_choices };
        max = if max_choices == 0 {
            min.max(1)
        } else {
            max_choices
        };
        if min < 1 || min > n.max(1) {
            c.add("poll.min_choices", format!("must be between 1 and {n}"));
        }
        if max < min || max > n.max(1) {
            c.add(
                "poll.max_choices",
                format!("must be between min_choices and {n}"),
            );
        }
    }
    if method == PollMethod::DotVote {
        c.range("poll.dots_per_voter", dots.into(), 1, 1000);
    }
    if method == PollMethod::Count {
        c.range("poll.count_target", count_target.into(), 1, 100_000);
    }
    let rules = Rules {
        method,
        keys: stored.iter().map(|o| o.key.clone()).collect(),
        min_choices: min,
        max_choices: max,
        dots: if method == PollMethod::DotVote {
            dots
        } else {
            0
        },
        count_target: if method == PollMethod::Count {
            count_target
        } else {
            0
        },
    };
    (stored, rules)
}

/// Checks a ballot's choices against the method; returns them as
/// (option, value) in the poll's option order.
pub fn check_choices(rules: &Rules, choices: &[Choice]) -> Result<Vec<(String, i32)>> {
    let mut c = Check::new();
    let mut seen: Vec<(usize, i32)> = Vec::new();
    for (i, ch) in choices.iter().enumerate() {
        match rules.keys.iter().position(|k| *k == ch.option) {
            None => c.add(
                format!("choices[{i}].option"),
                format!("not an option of this poll: {:?}", ch.option),
            ),
            Some(p) if seen.iter().any(|(q, _)| *q == p) => {
                c.add(format!("choices[{i}].option"), "chosen twice")
            }
            Some(p) => seen.push((p, ch.value)),
        }
    }
    c.finish()?;
    let bad = |d: String| Err(Error::invalid("choices", d));
    let values = |range: std::ops::RangeInclusive<i32>, what: &str| -> Result<()> {
        match seen.iter().find(|(_, v)| !range.contains(v)) {
            Some((p, v)) => Err(Error::invalid(
                "choices",
                format!("{what}; {v} given for {}", rules.keys[*p]),
            )),
            None => Ok(()),
        }
    };
    match rules.method {
        PollMethod::Proposal | PollMethod::Consent | PollMethod::Count => {
            if seen.len() != 1 {
                return bad("choose exactly one option".into());
            }
            values(1..=1, "a chosen option has value 1")?;
        }
        PollMethod::Choose => {
            let n = seen.len() as i32;
            if n < rules.min_choices || n > rules.max_choices {
                return bad(format!(
                    "choose between {} and {} options",
                    rules.min_choices, rules.max_choices
                ));
            }
            values(1..=1, "a chosen option has value 1")?;
        }
        PollMethod::Score => {
            if seen.is_empty() {
                return bad("score at least one option".into());
            }
            values(0..=5, "scores are 0 to 5")?;
        }
        PollMethod::RankedChoice => {
            if seen.is_empty() {
                return bad("rank at least one option".into());
            }
            let mut ranks: Vec<i32> = seen.iter().map(|(_, v)| *v).collect();
            ranks.sort_unstable();
            if ranks.iter().enumerate().any(|(i, r)| *r != i as i32 + 1) {
                return bad("ranks are 1, 2, 3, … with no gaps or repeats".into());
            }
        }
        PollMethod::DotVote => {
            if seen.is_empty() {
                return bad("place at least one dot".into());
            }
            values(1..=rules.dots, "each option gets at least 1 dot")?;
            let total: i32 = seen.iter().map(|(_, v)| v).sum();
            if total > rules.dots {
                return bad(format!("{total} dots placed; {} each", rules.dots));
            }
        }
        PollMethod::TimePoll => {
            if seen.is_empty() {
                return bad("answer at least one time".into());
            }
            values(0..=2, "2 for yes, 1 for maybe, 0 for no")?;
        }
        PollMethod::Unspecified => return bad("the poll has no method".into()),
    }
    seen.sort_by_key(|(p, _)| *p);
    Ok(seen
        .into_iter()
        .map(|(p, v)| (rules.keys[p].clone(), v))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(method: PollMethod, n: usize) -> Rules {
        Rules {
            method,
            keys: (0..n).map(|i| format!("o{i}")).collect(),
            min_choices: 1,
            max_choices: 2,
            dots: 5,
            count_target: 3,
        }
    }

    fn ch(option: &str, value: i32) -> Choice {
        Choice {
            option: option.into(),
            value,
        }
    }

    #[test]
    fn ballots_by_method() {
        let choose = rules(PollMethod::Choose, 3);
        assert_eq!(
            check_choices(&choose, &[ch("o2", 1), ch("o0", 1)]).unwrap(),
            [("o0".to_owned(), 1), ("o2".to_owned(), 1)]
        );
        assert!(check_choices(&choose, &[]).is_err());
        assert!(check_choices(&choose, &[ch("o0", 1), ch("o1", 1), ch("o2", 1)]).is_err());
        assert!(check_choices(&choose, &[ch("o0", 1), ch("o0", 1)]).is_err());
        assert!(check_choices(&choose, &[ch("x", 1)]).is_err());

        let ranked = rules(PollMethod::RankedChoice, 3);
        assert!(check_choices(&ranked, &[ch("o1", 1), ch("o0", 2)]).is_ok());
        assert!(check_choices(&ranked, &[ch("o1", 1), ch("o0", 3)]).is_err());
        assert!(check_choices(&ranked, &[ch("o1", 1), ch("o0", 1)]).is_err());

        let dots = rules(PollMethod::DotVote, 3);
        assert!(check_choices(&dots, &[ch("o0", 3), ch("o1", 2)]).is_ok());
        assert!(check_choices(&dots, &[ch("o0", 3), ch("o1", 3)]).is_err());
        assert!(check_choices(&dots, &[ch("o0", 0)]).is_err());

        let score = rules(PollMethod::Score, 2);
        assert!(check_choices(&score, &[ch("o0", 0), ch("o1", 5)]).is_ok());
        assert!(check_choices(&score, &[ch("o0", 6)]).is_err());

        let time = rules(PollMethod::TimePoll, 2);
        assert!(check_choices(&time, &[ch("o0", 2), ch("o1", 0)]).is_ok());
        assert!(check_choices(&time, &[ch("o0", 3)]).is_err());

        let proposal = Rules {
            keys: PROPOSAL.iter().map(|(k, _)| k.to_string()).collect(),
            ..rules(PollMethod::Proposal, 0)
        };
        assert!(check_choices(&proposal, &[ch("block", 1)]).is_ok());
        assert!(check_choices(&proposal, &[ch("agree", 1), ch("block", 1)]).is_err());
        assert!(check_choices(&proposal, &[ch("agree", 2)]).is_err());
    }

    #[test]
    fn fixed_options_are_filled_in() {
        let mut c = Check::new();
        let (options, rules) = check_poll(&mut c, PollMethod::Consent, &[], 0, 0, 0, 0);
        assert!(c.finish().is_ok());
        assert_eq!(rules.keys, ["consent", "object"]);
        assert_eq!(options[1].title, "Object 异议");

        let mut c = Check::new();
        let wrong = [PollOption {
            key: "yes".into(),
            title: "Yes".into(),
            time: None,
        }];
        check_poll(&mut c, PollMethod::Proposal, &wrong, 0, 0, 0, 0);
        assert!(c.finish().is_err());

        let mut c = Check::new();
        let one = [PollOption {
            key: "a".into(),
            title: "A".into(),
            time: None,
        }];
        check_poll(&mut c, PollMethod::Choose, &one, 0, 0, 0, 0);
        assert!(c.finish().is_err(), "two options at least");
    }
}
