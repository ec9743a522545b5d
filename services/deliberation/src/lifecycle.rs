//! The topic state machine, pure.
//!
//! PROPOSED → ON_AGENDA → IN_DISCUSSION → VOTING → DECIDED → IMPLEMENTING →
//! COMPLETED; PROPOSED | ON_AGENDA | IN_DISCUSSION | VOTING → REJECTED;
//! PROPOSED | ON_AGENDA | IN_DISCUSSION → WITHDRAWN.

use cogov_proto::deliberation::TopicState;

/// Something that moves a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The threshold is reached, or the secretary schedules it.
    Schedule,
    /// Discussion opens.
    OpenDiscussion,
    /// A poll opens.
    StartVoting,
    /// A resolution is adopted.
    Decide,
    /// An action item gets under way.
    Implement,
    /// Every action item is done or cancelled.
    Complete,
    /// The council refuses it.
    Reject,
    /// The proposer takes it back.
    Withdraw,
}

impl Action {
    /// The verb, for error messages.
    pub fn verb(self) -> &'static str {
        match self {
            Action::Schedule => "scheduled",
            Action::OpenDiscussion => "opened for discussion",
            Action::StartVoting => "put to a vote",
            Action::Decide => "decided",
            Action::Implement => "implemented",
            Action::Complete => "completed",
            Action::Reject => "rejected",
            Action::Withdraw => "withdrawn",
        }
    }
}

/// Where `action` takes a topic in `from`, if it may.
pub fn next(from: TopicState, action: Action) -> Option<TopicState> {
    use TopicState::*;
    match (action, from) {
        (Action::Schedule, Proposed) => Some(OnAgenda),
        (Action::OpenDiscussion, OnAgenda) => Some(InDiscussion),
        (Action::StartVoting, OnAgenda | InDiscussion | Voting) => Some(Voting),
        (Action::Decide, InDiscussion | Voting | Decided) => Some(Decided),
        (Action::Decide, Implementing) => Some(Implementing),
        (Action::Implement, Decided | Implementing) => Some(Implementing),
        (Action::Complete, Implementing) => Some(Completed),
        (Action::Reject, Proposed | OnAgenda | InDiscussion | Voting) => Some(Rejected),
        (Action::Withdraw, Proposed | OnAgenda | InDiscussion) => Some(Withdrawn),
        _ => None,
    }
}

/// A state's short name, e.g. `ON_AGENDA`.
pub fn state_name(state: TopicState) -> &'static str {
    state
        .as_str_name()
        .strip_prefix("TOPIC_STATE_")
        .unwrap_or("UNSPECIFIED")
}

#[cfg(test)]
mod tests {
    use super::*;
    use TopicState::*;

    const STATES: [TopicState; 9] = [
        Proposed,
        OnAgenda,
        InDiscussion,
        Voting,
        Decided,
        Implementing,
        Completed,
        Rejected,
        Withdrawn,
    ];
    const ACTIONS: [Action; 8] = [
        Action::Schedule,
        Action::OpenDiscussion,
        Action::StartVoting,
        Action::Decide,
        Action::Implement,
        Action::Complete,
        Action::Reject,
        Action::Withdraw,
    ];

    /// The whole table, written out by hand: (action, from, to).
    const ALLOWED: [(Action, TopicState, TopicState); 19] = [
        (Action::Schedule, Proposed, OnAgenda),
        (Action::OpenDiscussion, OnAgenda, InDiscussion),
        (Action::StartVoting, OnAgenda, Voting),
        (Action::StartVoting, InDiscussion, Voting),
        (Action::StartVoting, Voting, Voting),
        (Action::Decide, InDiscussion, Decided),
        (Action::Decide, Voting, Decided),
        (Action::Decide, Decided, Decided),
        (Action::Decide, Implementing, Implementing),
        (Action::Implement, Decided, Implementing),
        (Action::Implement, Implementing, Implementing),
        (Action::Complete, Implementing, Completed),
        (Action::Reject, Proposed, Rejected),
        (Action::Reject, OnAgenda, Rejected),
        (Action::Reject, InDiscussion, Rejected),
        (Action::Reject, Voting, Rejected),
        (Action::Withdraw, Proposed, Withdrawn),
        (Action::Withdraw, OnAgenda, Withdrawn),
        (Action::Withdraw, InDiscussion, Withdrawn),
    ];

    #[test]
    fn every_state_and_action() {
        for from in STATES {
            for action in ACTIONS {
                let expected = ALLOWED
                    .iter()
                    .find(|(a, f, _)| *a == action && *f == from)
                    .map(|(_, _, to)| *to);
                assert_eq!(next(from, action), expected, "{action:?} from {from:?}");
            }
        }
    }

    #[test]
    fn terminal_states_stay() {
        for from in [Completed, Rejected, Withdrawn] {
            assert!(ACTIONS.iter().all(|a| next(from, *a).is_none()));
        }
        assert_eq!(state_name(OnAgenda), "ON_AGENDA");
    }
}
