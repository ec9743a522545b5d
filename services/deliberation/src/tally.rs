//! The deterministic tally of a poll, pure: the same ballots always give
//! the same result, whatever order they were stored in.

use std::collections::{BTreeMap, HashMap};

use cogov_proto::deliberation::{OptionResult, PollMethod, PollResult, RunoffRound};

use crate::methods::Rules;

/// Show-of-hands counts entered after an offline vote.
#[derive(Debug, Clone, Default)]
pub struct Hands {
    /// Hands per option.
    pub counts: BTreeMap<String, i32>,
    /// People who voted by hand.
    pub voters: i32,
}

/// Tallies `ballots` (each a list of (option, value)) and offline `hands`
/// under `rules`, with `eligible` voters and a quorum in percent. The
/// result's `poll` and `final` are left for the caller.
pub fn tally(
    rules: &Rules,
    ballots: &[Vec<(String, i32)>],
    hands: &[Hands],
    eligible: i32,
    quorum_percent: i32,
) -> PollResult {
    let offline_voters: i32 = hands.iter().map(|h| h.voters).sum();
    let participants = ballots.len() as i32 + offline_voters;
    let quorum_met = if eligible > 0 {
        i64::from(participants) * 100 >= i64::from(quorum_percent) * i64::from(eligible)
    } else {
        quorum_percent == 0
    };
    let index: HashMap<&str, usize> = rules
        .keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    // voters and total per option, online then offline.
    let mut voters = vec![0i32; rules.keys.len()];
    let mut total = vec![0i64; rules.keys.len()];
    for ballot in ballots {
        for (option, value) in ballot {
            let Some(&i) = index.get(option.as_str()) else {
                continue;
            };
            let counts_as_voter = match rules.method {
                PollMethod::RankedChoice => *value == 1,
                PollMethod::TimePoll => *value > 0,
                _ => true,
            };
            if counts_as_voter {
                voters[i] += 1;
            }
            total[i] += match rules.method {
                PollMethod::RankedChoice => i64::from(*value == 1),
                _ => i64::from(*value),
            };
        }
    }
    for h in hands {
        for (option, n) in &h.counts {
            if let Some(&i) = index.get(option.as_str()) {
                voters[i] += n;
                total[i] += i64::from(*n);
            }
        }
    }
    let share = |v: i32| {
        if participants > 0 {
            f64::from(v) / f64::from(participants)
        } else {
            0.0
        }
    };
    let options: Vec<OptionResult> = rules
        .keys
        .iter()
        .enumerate()
        .map(|(i, key)| OptionResult {
            option: key.clone(),
            voters: voters[i],
            total: total[i],
            mean: if rules.method == PollMethod::Score && voters[i] > 0 {
                total[i] as f64 / f64::from(voters[i])
            } else {
                0.0
            },
            share: share(voters[i]),
        })
        .collect();
    let get = |key: &str| index.get(key).map_or(0, |&i| voters[i]);
    let top = |values: &[i64]| -> Vec<String> {
        let best = values.iter().copied().max().unwrap_or(0);
        if best <= 0 {
            return Vec::new();
        }
        rules
            .keys
            .iter()
            .zip(values)
            .filter(|(_, v)| **v == best)
            .map(|(k, _)| k.clone())
            .collect()
    };
    let voters64: Vec<i64> = voters.iter().map(|v| i64::from(*v)).collect();
    let mut rounds = Vec::new();
    let (passed, winners) = match rules.method {
        PollMethod::Proposal => {
            let passed = get("block") == 0 && get("agree") > get("disagree");
            (passed, if passed { vec!["agree".into()] } else { vec![] })
        }
        PollMethod::Consent => {
            let passed = get("object") == 0 && get("consent") > 0;
            (
                passed,
                if passed {
                    vec!["consent".into()]
                } else {
                    vec![]
                },
            )
        }
        PollMethod::Count => {
            let passed = get("count_me_in") >= rules.count_target;
            (
                passed,
                if passed {
                    vec!["count_me_in".into()]
                } else {
                    vec![]
                },
            )
        }
        PollMethod::Choose => {
            let w = top(&voters64);
            (w.len() == 1, w)
        }
        PollMethod::Score | PollMethod::DotVote | PollMethod::TimePoll => {
            let w = top(&total);
            (w.len() == 1, w)
        }
        PollMethod::RankedChoice => {
            let (w, r) = runoff(&rules.keys, ballots, &voters);
            rounds = r;
            let passed = w.is_some();
            (passed, w.into_iter().collect())
        }
        PollMethod::Unspecified => (false, vec![]),
    };
    PollResult {
        poll: String::new(),
        options,
        winners: if quorum_met { winners } else { vec![] },
        passed: quorum_met && passed,
        rounds,
        participants,
        eligible,
        quorum_met,
        r#final: false,
    }
}

/// Instant runoff. Each round counts every ballot for its highest-ranked
/// option still in the race; an option with more than half of those
/// ballots wins. Otherwise the option with the fewest is eliminated; ties
/// go to the one with fewer first-round votes, then to the later option in
/// `keys` order.
fn runoff(
    keys: &[String],
    ballots: &[Vec<(String, i32)>],
    first_round: &[i32],
) -> (Option<String>, Vec<RunoffRound>) {
    let preferences: Vec<Vec<usize>> = ballots
        .iter()
        .map(|b| {
            let mut ranked: Vec<(i32, usize)> = b
                .iter()
                .filter_map(|(k, rank)| keys.iter().position(|x| x == k).map(|i| (*rank, i)))
                .collect();
            ranked.sort_unstable();
            ranked.into_iter().map(|(_, i)| i).collect()
        })
        .collect();
    let mut remaining: Vec<usize> = (0..keys.len()).collect();
    let mut rounds = Vec::new();
    loop {
        let mut counts = vec![0i32; keys.len()];
        for p in &preferences {
            if let Some(&top) = p.iter().find(|i| remaining.contains(i)) {
                counts[top] += 1;
            }
        }
        let active: i32 = remaining.iter().map(|&i| counts[i]).sum();
        let round_counts = remaining
            .iter()
            .map(|&i| (keys[i].clone(), counts[i]))
            .collect();
        if active == 0 {
            rounds.push(RunoffRound {
                counts: round_counts,
                eliminated: String::new(),
            });
            return (None, rounds);
        }
        if let Some(&w) = remaining.iter().find(|&&i| counts[i] * 2 > active) {
            rounds.push(RunoffRound {
                counts: round_counts,
                eliminated: String::new(),
            });
            return (Some(keys[w].clone()), rounds);
        }
        // Fewest now, then fewest first-round, then latest in order.
        let loser = *remaining
            .iter()
            .min_by_key(|&&i| (counts[i], first_round[i], std::cmp::Reverse(i)))
            .expect("options remain");
        rounds.push(RunoffRound {
            counts: round_counts,
            eliminated: keys[loser].clone(),
        });
        remaining.retain(|&i| i != loser);
    }
}

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::methods::{CONSENT, COUNT, PROPOSAL};

    fn rules(method: PollMethod, keys: &[&str]) -> Rules {
        Rules {
            method,
            keys: keys.iter().map(|k| k.to_string()).collect(),
            min_choices: 1,
            max_choices: keys.len() as i32,
            dots: 10,
            count_target: 3,
        }
    }

    fn fixed(method: PollMethod, options: &[(&str, &str)]) -> Rules {
        let keys: Vec<&str> = options.iter().map(|(k, _)| *k).collect();
        rules(method, &keys)
    }

    fn b(choices: &[(&str, i32)]) -> Vec<(String, i32)> {
        choices.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    fn voters(r: &PollResult) -> Vec<i32> {
        r.options.iter().map(|o| o.voters).collect()
    }

    fn totals(r: &PollResult) -> Vec<i64> {
        r.options.iter().map(|o| o.total).collect()
    }

    #[test]
    fn proposal_passes_without_a_block() {
        let r = fixed(PollMethod::Proposal, &PROPOSAL);
        let ballots = [
            b(&[("agree", 1)]),
            b(&[("agree", 1)]),
            b(&[("disagree", 1)]),
            b(&[("abstain", 1)]),
        ];
        let res = tally(&r, &ballots, &[], 10, 30);
        assert_eq!(voters(&res), [2, 1, 1, 0]);
        assert!(res.passed && res.quorum_met);
        assert_eq!(res.winners, ["agree"]);
        assert_eq!(res.options[0].share, 0.5);
        // One block fails it.
        let mut blocked = ballots.to_vec();
        blocked.push(b(&[("block", 1)]));
        let res = tally(&r, &blocked, &[], 10, 30);
        assert!(!res.passed);
        assert!(res.winners.is_empty());
        // A tie of agree and disagree fails.
        let tie = [b(&[("agree", 1)]), b(&[("disagree", 1)])];
        assert!(!tally(&r, &tie, &[], 2, 0).passed);
        // Offline hands count: 3 agree by hand outweigh 1 online disagree...
        let hands = Hands {
            counts: [("agree".into(), 3), ("disagree".into(), 1)].into(),
            voters: 4,
        };
        let res = tally(&r, &[b(&[("disagree", 1)])], &[hands], 10, 50);
        assert_eq!(voters(&res), [3, 0, 2, 0]);
        assert_eq!(res.participants, 5);
        assert!(res.passed);
        // ...but 4 of 10 is below a 50% quorum.
        let res = tally(&r, &[b(&[("agree", 1)])], &[], 10, 50);
        assert!(!res.quorum_met && !res.passed && res.winners.is_empty());
    }

    #[test]
    fn consent_any_objection_blocks() {
        let r = fixed(PollMethod::Consent, &CONSENT);
        let ok = [b(&[("consent", 1)]), b(&[("consent", 1)])];
        assert!(tally(&r, &ok, &[], 5, 0).passed);
        let objected = [b(&[("consent", 1)]), b(&[("object", 1)])];
        assert!(!tally(&r, &objected, &[], 5, 0).passed);
    }

    #[test]
    fn choose_with_ties() {
        let r = rules(PollMethod::Choose, &["a", "b", "c"]);
        let ballots = [
            b(&[("a", 1), ("b", 1)]),
            b(&[("b", 1)]),
            b(&[("a", 1), ("c", 1)]),
        ];
        let res = tally(&r, &ballots, &[], 3, 0);
        assert_eq!(voters(&res), [2, 2, 1]);
        assert_eq!(res.winners, ["a", "b"]);
        assert!(!res.passed, "a tie decides nothing");
        let hands = Hands {
            counts: [("b".into(), 1)].into(),
            voters: 1,
        };
        let res = tally(&r, &ballots, &[hands], 4, 0);
        assert_eq!(res.winners, ["b"]);
        assert!(res.passed);
    }

    #[test]
    fn score_means_and_totals() {
        let r = rules(PollMethod::Score, &["a", "b"]);
        let ballots = [
            b(&[("a", 5), ("b", 2)]),
            b(&[("a", 1), ("b", 4)]),
            b(&[("b", 0)]),
        ];
        let res = tally(&r, &ballots, &[], 3, 0);
        assert_eq!(totals(&res), [6, 6]);
        assert_eq!(voters(&res), [2, 3]);
        assert_eq!(res.options[0].mean, 3.0);
        assert_eq!(res.options[1].mean, 2.0);
        assert_eq!(res.winners, ["a", "b"]);
    }

    #[test]
    fn dot_vote_and_time_poll() {
        let r = rules(PollMethod::DotVote, &["a", "b", "c"]);
        let ballots = [b(&[("a", 7), ("c", 3)]), b(&[("b", 5), ("c", 5)])];
        let res = tally(&r, &ballots, &[], 2, 0);
        assert_eq!(totals(&res), [7, 5, 8]);
        assert_eq!(res.winners, ["c"]);

        let r = rules(PollMethod::TimePoll, &["mon", "tue"]);
        let ballots = [b(&[("mon", 2), ("tue", 1)]), b(&[("mon", 0), ("tue", 2)])];
        let res = tally(&r, &ballots, &[], 2, 0);
        assert_eq!(totals(&res), [2, 3]);
        assert_eq!(voters(&res), [1, 2], "a no is not a voter for it");
        assert_eq!(res.winners, ["tue"]);
    }

    #[test]
    fn count_reaches_its_target() {
        let r = fixed(PollMethod::Count, &COUNT);
        let two = [b(&[("count_me_in", 1)]), b(&[("count_me_in", 1)])];
        assert!(!tally(&r, &two, &[], 0, 0).passed);
        let hands = Hands {
            counts: [("count_me_in".into(), 1)].into(),
            voters: 1,
        };
        let res = tally(&r, &two, &[hands], 0, 0);
        assert!(res.passed);
        assert_eq!(res.winners, ["count_me_in"]);
    }

    #[test]
    fn ranked_choice_runoff() {
        // a: 4 first, b: 3, c: 2 (c's voters prefer b next).
        let r = rules(PollMethod::RankedChoice, &["a", "b", "c"]);
        let mut ballots = Vec::new();
        for _ in 0..4 {
            ballots.push(b(&[("a", 1), ("b", 2)]));
        }
        for _ in 0..3 {
            ballots.push(b(&[("b", 1), ("a", 2)]));
        }
        for _ in 0..2 {
            ballots.push(b(&[("c", 1), ("b", 2)]));
        }
        let res = tally(&r, &ballots, &[], 9, 0);
        assert_eq!(res.rounds.len(), 2);
        assert_eq!(res.rounds[0].eliminated, "c");
        assert_eq!(res.rounds[1].counts["b"], 5);
        assert_eq!(res.rounds[1].eliminated, "");
        assert_eq!(res.winners, ["b"]);
        assert!(res.passed);
        assert_eq!(voters(&res), [4, 3, 2], "first preferences");
    }

    #[test]
    fn ranked_choice_tie_breaks() {
        let r = rules(PollMethod::RankedChoice, &["a", "b", "c"]);
        // Round 1: a 2, b 2, c 2. All tied on first-round votes too: the
        // later option, c, goes. c's voters rank nobody else: exhausted.
        // Round 2: a 2, b 2 → b (later) goes; round 3: a wins.
        let ballots = [
            b(&[("a", 1)]),
            b(&[("a", 1)]),
            b(&[("b", 1)]),
            b(&[("b", 1)]),
            b(&[("c", 1)]),
            b(&[("c", 1)]),
        ];
        let res = tally(&r, &ballots, &[], 6, 0);
        let eliminated: Vec<&str> = res.rounds.iter().map(|r| r.eliminated.as_str()).collect();
        assert_eq!(eliminated, ["c", "b", ""]);
        assert_eq!(res.winners, ["a"]);

        // Fewer first-round votes breaks a later tie: b and c meet at 3
        // in round 2, but c had fewer first preferences.
        let ballots = [
            b(&[("a", 1)]),
            b(&[("a", 1)]),
            b(&[("a", 1)]),
            b(&[("a", 1)]),
            b(&[("b", 1)]),
            b(&[("b", 1)]),
            b(&[("b", 1)]),
            b(&[("c", 1)]),
            b(&[("c", 1)]),
            b(&[("d", 1), ("c", 2)]),
        ];
        let r = rules(PollMethod::RankedChoice, &["a", "b", "c", "d"]);
        let res = tally(&r, &ballots, &[], 10, 0);
        let eliminated: Vec<&str> = res.rounds.iter().map(|r| r.eliminated.as_str()).collect();
        assert_eq!(eliminated, ["d", "c", ""]);
        assert_eq!(res.rounds[1].counts["c"], 3);
        assert_eq!(res.rounds[1].counts["b"], 3);
        assert_eq!(res.winners, ["a"], "a 4 of 7 after c's ballots exhaust");
    }

    #[test]
    fn empty_polls() {
        for method in [
            PollMethod::Choose,
            PollMethod::Score,
            PollMethod::RankedChoice,
            PollMethod::DotVote,
            PollMethod::TimePoll,
        ] {
            let r = rules(method, &["a", "b"]);
            let res = tally(&r, &[], &[], 5, 0);
            assert!(res.winners.is_empty(), "{method:?}");
            assert!(!res.passed, "{method:?}");
            assert_eq!(res.participants, 0);
            assert!(res.options.iter().all(|o| o.share == 0.0));
        }
        let r = fixed(PollMethod::Proposal, &PROPOSAL);
        assert!(!tally(&r, &[], &[], 5, 0).passed);
        // Nobody eligible and a quorum asked for: never met.
        assert!(!tally(&r, &[], &[], 0, 10).quorum_met);
    }
}
