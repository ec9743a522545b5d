//! The issue state machine. Pure: it knows states and actions, nothing of
//! storage, so every step, legal and illegal, is tested here.
//!
//! ```text
//! REPORTED → ACKNOWLEDGED → DISPATCHED → IN_PROGRESS → RESOLVED → CLOSED
//!                           DISPATCHED → RETURNED → DISPATCHED
//!                RESOLVED | CLOSED → REOPENED → DISPATCHED
//! open → REJECTED | DUPLICATE
//! ```

use cogov_proto::issues::IssueState;

/// Something that changes an issue's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Staff saw it; the response clock stops.
    Acknowledge,
    /// To one assignee, or jointly to several.
    Dispatch,
    /// The assignee sends it back.
    Return,
    /// The assignee starts work.
    Start,
    /// The assignee finished.
    Resolve,
    /// The reporter or a building head confirmed.
    Confirm,
    /// Nobody confirmed in time.
    AutoClose,
    /// It came back.
    Reopen,
    /// Refused.
    Reject,
    /// Another issue covers it.
    MarkDuplicate,
    /// An assignee arrives on site: the issue keeps its state.
    CheckIn,
    /// Taken to a council: the issue keeps its state.
    Escalate,
}

impl Action {
    /// The verb for error messages: "cannot be <verb>".
    pub fn past_participle(self) -> &'static str {
        match self {
            Action::Acknowledge => "acknowledged",
            Action::Dispatch => "dispatched",
            Action::Return => "returned",
            Action::Start => "started",
            Action::Resolve => "resolved",
            Action::Confirm => "confirmed",
            Action::AutoClose => "closed automatically",
            Action::Reopen => "reopened",
            Action::Reject => "rejected",
            Action::MarkDuplicate => "marked a duplicate",
            Action::CheckIn => "checked in to",
            Action::Escalate => "escalated",
        }
    }
}

/// States in which work is outstanding.
pub const OPEN: [IssueState; 6] = [
    IssueState::Reported,
    IssueState::Acknowledged,
    IssueState::Dispatched,
    IssueState::Returned,
    IssueState::InProgress,
    IssueState::Reopened,
];

/// Whether work is outstanding (RESOLVED waits for confirmation only).
pub fn is_open(state: IssueState) -> bool {
    OPEN.contains(&state)
}

/// The state after `action`, or `None` if the step is illegal. Every step
/// an issue takes is here, also those that keep its state.
pub fn next(state: IssueState, action: Action) -> Option<IssueState> {
    use IssueState as S;
    Some(match (action, state) {
        (Action::Acknowledge, S::Reported) => S::Acknowledged,
        (Action::Dispatch, S::Acknowledged | S::Returned | S::Reopened) => S::Dispatched,
        (Action::Return, S::Dispatched) => S::Returned,
        (Action::Start, S::Dispatched) => S::InProgress,
        (Action::Resolve, S::InProgress) => S::Resolved,
        (Action::Confirm | Action::AutoClose, S::Resolved) => S::Closed,
        (Action::Reopen, S::Resolved | S::Closed) => S::Reopened,
        (Action::CheckIn, s @ (S::Dispatched | S::InProgress)) => s,
        (Action::Escalate, s) if !matches!(s, S::Rejected | S::Duplicate) => s,
        (Action::Reject | Action::MarkDuplicate, s) if is_open(s) => {
            if action == Action::Reject {
                S::Rejected
            } else {
                S::Duplicate
            }
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use IssueState as S;

    const ALL_STATES: [IssueState; 10] = [
        S::Reported,
        S::Acknowledged,
        S::Dispatched,
        S::Returned,
        S::InProgress,
        S::Resolved,
        S::Closed,
        S::Reopened,
        S::Rejected,
        S::Duplicate,
    ];
    const ALL_ACTIONS: [Action; 12] = [
        Action::Acknowledge,
        Action::Dispatch,
        Action::Return,
        Action::Start,
        Action::Resolve,
        Action::Confirm,
        Action::AutoClose,
        Action::Reopen,
        Action::Reject,
        Action::MarkDuplicate,
        Action::CheckIn,
        Action::Escalate,
    ];

    /// Every legal step, written out by hand; everything else is illegal.
    const LEGAL: &[(IssueState, Action, IssueState)] = &[
        (S::Reported, Action::Acknowledge, S::Acknowledged),
        (S::Acknowledged, Action::Dispatch, S::Dispatched),
        (S::Returned, Action::Dispatch, S::Dispatched),
        (S::Reopened, Action::Dispatch, S::Dispatched),
        (S::Dispatched, Action::Return, S::Returned),
        (S::Dispatched, Action::Start, S::InProgress),
        (S::InProgress, Action::Resolve, S::Resolved),
        (S::Resolved, Action::Confirm, S::Closed),
        (S::Resolved, Action::AutoClose, S::Closed),
        (S::Resolved, Action::Reopen, S::Reopened),
        (S::Closed, Action::Reopen, S::Reopened),
        (S::Reported, Action::Reject, S::Rejected),
        (S::Acknowledged, Action::Reject, S::Rejected),
        (S::Dispatched, Action::Reject, S::Rejected),
        (S::Returned, Action::Reject, S::Rejected),
        (S::InProgress, Action::Reject, S::Rejected),
        (S::Reopened, Action::Reject, S::Rejected),
        (S::Reported, Action::MarkDuplicate, S::Duplicate),
        (S::Acknowledged, Action::MarkDuplicate, S::Duplicate),
        (S::Dispatched, Action::MarkDuplicate, S::Duplicate),
        (S::Returned, Action::MarkDuplicate, S::Duplicate),
        (S::InProgress, Action::MarkDuplicate, S::Duplicate),
        (S::Reopened, Action::MarkDuplicate, S::Duplicate),
        (S::Dispatched, Action::CheckIn, S::Dispatched),
        (S::InProgress, Action::CheckIn, S::InProgress),
        (S::Reported, Action::Escalate, S::Reported),
        (S::Acknowledged, Action::Escalate, S::Acknowledged),
        (S::Dispatched, Action::Escalate, S::Dispatched),
        (S::Returned, Action::Escalate, S::Returned),
        (S::InProgress, Action::Escalate, S::InProgress),
        (S::Resolved, Action::Escalate, S::Resolved),
        (S::Closed, Action::Escalate, S::Closed),
        (S::Reopened, Action::Escalate, S::Reopened),
    ];

    #[test]
    fn every_step_legal_and_illegal() {
        for state in ALL_STATES {
            for action in ALL_ACTIONS {
                let expected = LEGAL
                    .iter()
                    .find(|(s, a, _)| *s == state && *a == action)
                    .map(|(_, _, to)| *to);
                assert_eq!(next(state, action), expected, "{state:?} + {action:?}");
            }
        }
    }

    #[test]
    fn terminal_states_take_no_action_but_reopen() {
        for state in [S::Rejected, S::Duplicate] {
            assert!(ALL_ACTIONS.iter().all(|a| next(state, *a).is_none()));
        }
        assert_eq!(
            ALL_ACTIONS
                .iter()
                .filter(|a| next(S::Closed, **a).is_some_and(|to| to != S::Closed))
                .count(),
            1
        );
    }
}
