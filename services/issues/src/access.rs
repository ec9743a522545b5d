//! Who may see and do what in the issues service.
//!
//! - Street admins and internal services: everything.
//! - Community admins: the issues, inspections and clusters of their
//!   community.
//! - Partners: issues in their reach, issues dispatched to them and issues
//!   they are summoned to; they report in their reach, and as assignee or
//!   summoned party return, start, resolve and check in. Reporter contact
//!   details are masked for them, and staff-only notes hidden.
//! - Residents: they report in their community, see their own issues in
//!   full and their courtyard's in the public view (no reporter, no
//!   contact details, no staff-only notes), comment on, confirm and reopen
//!   their own; a building head confirms the issues of their courtyard.
//!
//! Out of scope is PERMISSION_DENIED whether or not the issue exists.

use cogov_kit::scope::Scope;
use sea_orm::ColumnTrait;
use sea_orm::sea_query::{Condition, Query};

use crate::entity::{issues, parties};

/// Whether the caller may see an issue (`summoned`: the caller's
/// organisation is a party to it).
pub fn sees(scope: &Scope, issue: &issues::Model, summoned: bool) -> bool {
    match scope {
        Scope::Partner {
            organization,
            reach,
        } => {
            reach.covers(Some(issue.community_id), Some(issue.courtyard_id))
                || issue.assignee_id == Some(*organization)
                || summoned
        }
        Scope::Resident {
            person,
            courtyard,
            head_of,
            ..
        } => {
            issue.reporter_id == Some(*person)
                || *head_of == Some(issue.courtyard_id)
                || *courtyard == Some(issue.courtyard_id)
        }
        staff => staff.staff_covers(issue.community_id),
    }
}

/// The SQL form of [`sees`].
pub fn issue_condition(scope: &Scope) -> Condition {
    match scope {
        Scope::Partner { organization, .. } => Condition::any()
            .add(scope.place_condition(
                issues::Column::CommunityId,
                Some(issues::Column::CourtyardId),
            ))
            .add(issues::Column::AssigneeId.eq(*organization))
            .add(
                issues::Column::Id.in_subquery(
                    Query::select()
                        .column(parties::Column::IssueId)
                        .from(parties::Entity)
                        .and_where(parties::Column::OrganizationId.eq(*organization))
                        .to_owned(),
                ),
            ),
        Scope::Resident {
            person,
            courtyard,
            head_of,
            ..
        } => {
            let courtyards: Vec<_> = courtyard.iter().chain(head_of.iter()).copied().collect();
            Condition::any()
                .add(issues::Column::ReporterId.eq(*person))
                .add(issues::Column::CourtyardId.is_in(courtyards))
        }
        staff => staff.place_condition(
            issues::Column::CommunityId,
            Some(issues::Column::CourtyardId),
        ),
    }
}
