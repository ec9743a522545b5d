//! Properties of the tally over random ballots: the hand-computed cases in
//! `tests` pin the figures; these say what must hold for any ballots.

use proptest::prelude::*;

use super::*;

fn key(i: usize) -> String {
    format!("o{i}")
}

fn rules(method: PollMethod, options: usize) -> Rules {
    Rules {
        method,
        keys: (0..options).map(key).collect(),
        min_choices: 1,
        max_choices: options as i32,
        dots: 10,
        count_target: 3,
    }
}

type Ballot = Vec<(String, i32)>;

/// A ranking of some of the options: ranks 1, 2, … in preference order.
fn ranked(options: usize) -> impl Strategy<Value = Ballot> {
    (
        Just((0..options).collect::<Vec<_>>()).prop_shuffle(),
        1..=options,
    )
        .prop_map(|(order, length)| {
            order[..length]
                .iter()
                .enumerate()
                .map(|(rank, &i)| (key(i), rank as i32 + 1))
                .collect()
        })
}

/// One or more options chosen.
fn chosen(options: usize) -> impl Strategy<Value = Ballot> {
    proptest::sample::subsequence((0..options).collect::<Vec<_>>(), 1..=options)
        .prop_map(|picked| picked.into_iter().map(|i| (key(i), 1)).collect())
}

/// A score of 0 to 5 for every option.
fn scored(options: usize) -> impl Strategy<Value = Ballot> {
    proptest::collection::vec(0..=5i32, options).prop_map(|scores| {
        scores
            .into_iter()
            .enumerate()
            .map(|(i, s)| (key(i), s))
            .collect()
    })
}

/// At most 10 dots spread over the options.
fn dots(options: usize) -> impl Strategy<Value = Ballot> {
    proptest::collection::vec(0..=10i32, options).prop_map(|wanted| {
        let mut left = 10;
        wanted
            .into_iter()
            .enumerate()
            .map(|(i, w)| {
                let d = w.min(left);
                left -= d;
                (key(i), d)
            })
            .filter(|(_, d)| *d > 0)
            .collect()
    })
}

fn ballot(method: PollMethod, options: usize) -> BoxedStrategy<Ballot> {
    match method {
        PollMethod::RankedChoice => ranked(options).boxed(),
        PollMethod::Choose => chosen(options).boxed(),
        PollMethod::Score => scored(options).boxed(),
        _ => dots(options).boxed(),
    }
}

/// A method, its option count, ballots, and the same ballots reordered.
fn poll() -> impl Strategy<Value = (PollMethod, usize, Vec<Ballot>, Vec<Ballot>)> {
    (
        prop_oneof![
            Just(PollMethod::RankedChoice),
            Just(PollMethod::Choose),
            Just(PollMethod::Score),
            Just(PollMethod::DotVote),
        ],
        2..=6usize,
    )
        .prop_flat_map(|(method, options)| {
            proptest::collection::vec(ballot(method, options), 0..40).prop_flat_map(
                move |ballots| {
                    let shuffled = Just(ballots.clone()).prop_shuffle();
                    (Just(method), Just(options), Just(ballots), shuffled)
                },
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The order ballots were stored in never changes the result.
    #[test]
    fn order_does_not_matter((method, options, ballots, shuffled) in poll()) {
        let r = rules(method, options);
        prop_assert_eq!(tally(&r, &ballots, &[], 50, 0), tally(&r, &shuffled, &[], 50, 0));
    }

    /// Every participant is counted once, every choice once.
    #[test]
    fn votes_are_conserved((method, options, ballots, _) in poll()) {
        let r = rules(method, options);
        let result = tally(&r, &ballots, &[], 50, 0);
        prop_assert_eq!(result.participants, ballots.len() as i32);
        let cast: i64 = ballots.iter().flatten().map(|(_, v)| i64::from(*v)).sum();
        match method {
            PollMethod::Choose | PollMethod::Score | PollMethod::DotVote => {
                prop_assert_eq!(result.options.iter().map(|o| o.total).sum::<i64>(), cast);
            }
            _ => {
                // First preferences: one per ballot.
                let firsts: i32 = result.options.iter().map(|o| o.voters).sum();
                prop_assert_eq!(firsts, ballots.len() as i32);
            }
        }
    }

    /// A winner has the best count, a sole winner passes, and a tie passes
    /// nobody.
    #[test]
    fn winners_have_the_best_count((method, options, ballots, _) in poll()) {
        prop_assume!(method != PollMethod::RankedChoice);
        let result = tally(&rules(method, options), &ballots, &[], 50, 0);
        let value = |o: &OptionResult| if method == PollMethod::Choose { i64::from(o.voters) } else { o.total };
        let best = result.options.iter().map(value).max().unwrap_or(0);
        for o in &result.options {
            let won = result.winners.contains(&o.option);
            prop_assert_eq!(won, best > 0 && value(o) == best, "{:?}", o);
        }
        prop_assert_eq!(result.passed, result.winners.len() == 1);
    }

    /// Instant runoff: a majority of first preferences wins at once; each
    /// round eliminates one option that never wins; the winner holds a
    /// majority of the ballots still counting in the last round.
    #[test]
    fn runoff_rounds_are_sound(
        (_, options, ballots, _) in (2..=6usize).prop_flat_map(|n| {
            proptest::collection::vec(ranked(n), 0..40)
                .prop_map(move |b| (PollMethod::RankedChoice, n, b.clone(), b))
        })
    ) {
        let result = tally(&rules(PollMethod::RankedChoice, options), &ballots, &[], 50, 0);
        let first = |k: &str| ballots.iter().filter(|b| b.iter().any(|(o, r)| o == k && *r == 1)).count();
        if let Some(majority) = (0..options).map(key).find(|k| first(k) * 2 > ballots.len()) {
            prop_assert_eq!(&result.winners, &vec![majority]);
            prop_assert_eq!(result.rounds.len(), 1);
        }
        prop_assert!(result.rounds.len() <= options);
        let eliminated: Vec<&String> = result.rounds.iter().map(|r| &r.eliminated).filter(|e| !e.is_empty()).collect();
        let distinct: std::collections::HashSet<_> = eliminated.iter().collect();
        prop_assert_eq!(distinct.len(), eliminated.len());
        for w in &result.winners {
            prop_assert!(!eliminated.contains(&w));
        }
        for round in &result.rounds {
            prop_assert!(round.counts.values().sum::<i32>() as usize <= ballots.len());
        }
        if let (Some(w), Some(last)) = (result.winners.first(), result.rounds.last()) {
            let active: i32 = last.counts.values().sum();
            prop_assert!(last.counts[w] * 2 > active);
        }
        prop_assert_eq!(result.passed, !result.winners.is_empty());
    }

    /// Below the quorum nothing passes and nobody wins.
    #[test]
    fn no_quorum_no_decision(
        (method, options, ballots, _) in poll(),
        eligible in 1..100i32,
        quorum in 0..=100i32,
    ) {
        let result = tally(&rules(method, options), &ballots, &[], eligible, quorum);
        let met = ballots.len() as i64 * 100 >= i64::from(quorum) * i64::from(eligible);
        prop_assert_eq!(result.quorum_met, met);
        if !met {
            prop_assert!(!result.passed);
            prop_assert!(result.winners.is_empty());
        }
    }
}
