//! The lifecycle RPCs: AcknowledgeIssue, DispatchIssue, JointDispatchIssue,
//! CheckInIssue, ReturnIssue, StartIssue, ResolveIssue, ConfirmIssue,
//! ReopenIssue, RejectIssue, MarkDuplicateIssue, EscalateIssue, and the
//! automatic closing of resolved issues nobody confirms.
//!
//! Each step runs in one transaction: load and check, apply, save guarded
//! by the revision, record the timeline entry, refresh the courtyard's
//! two-nos status when it depends on the issue, commit.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use cogov_kit::ErrorReason;
use cogov_kit::auth::Principal;
use cogov_kit::error::Precondition;
use cogov_kit::validate::Check;
use cogov_kit::write::Defers;
use cogov_kit::write::Write;
use cogov_kit::{Error, Result, convert, names};
use cogov_proto::issues::*;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::entity::issues::{self as rows, Column, Entity, Model};
use crate::entity::{parties, sub_items};
use crate::issues::{self as store, COLLECTION, name};
use crate::lifecycle::{self, Action};
use crate::timeline::{self, Entry};
use crate::{Issues, events, media, two_nos};
use cogov_kit::scope::Scope;

pub(crate) fn state_of(m: &Model) -> IssueState {
    IssueState::try_from(m.state).unwrap_or_default()
}

fn state_name(s: IssueState) -> &'static str {
    s.as_str_name().trim_start_matches("ISSUE_STATE_")
}

/// The next state, or FAILED_PRECONDITION with a PreconditionFailure.
fn next_state(m: &Model, action: Action) -> Result<IssueState> {
    let from = state_of(m);
    lifecycle::next(from, action).ok_or_else(|| {
        Error::illegal_transition(name(m.id), state_name(from), action.past_participle())
    })
}

/// Who is acting: staff covering the issue, or the partner it concerns.
fn require_assignee(scope: &Scope, m: &Model) -> Result<()> {
    match scope {
        Scope::Partner { organization, .. } if m.assignee_id == Some(*organization) => Ok(()),
        Scope::Partner { .. } => Err(Error::forbidden(format!(
            "act on {}: it is not dispatched to the caller",
            name(m.id)
        ))),
        other => other.require_staff(m.community_id, &name(m.id)),
    }
}

struct Step<'a> {
    db: &'a cogov_kit::db::Db,
    scope: &'a Scope,
    author: String,
    now: DateTime<Utc>,
    txn: Write,
    /// The issue as read.
    row: Model,
    /// The issue at its next revision (etag checked, revision and update
    /// time moved on).
    next: rows::ActiveModel,
    /// The turn at the courtyard's two-nos status, taken before the step
    /// locks anything when its sub-item counts toward the goal (a step
    /// never changes the sub-item).
    two_nos: Option<two_nos::Turn>,
    /// Whether parties are summoned to it once the step commits: read
    /// with the issue, kept by [`Step::summon`] and [`Step::dismiss_parties`],
    /// so that an answer about an issue without parties does not look.
    has_parties: bool,
}

impl<'a> Step<'a> {
    async fn begin(
        svc: &'a Issues,
        scope: &'a Scope,
        principal: &Principal,
        id: Uuid,
        etag_in: &str,
    ) -> Result<Step<'a>> {
        let txn = svc.ctx.db.begin_write().await?;
        let read = store::get_for_step(&txn, scope, id).await?;
        let now = svc.ctx.clock.now();
        let (row, next) = store::VERSIONED
            .edit(read.row, etag_in, &name(id), now)?
            .into_parts();
        let two_nos = if read.counts {
            Some(two_nos::take_turn(&txn, row.courtyard_id).await?)
        } else {
            None
        };
        Ok(Step {
            db: &svc.ctx.db,
            scope,
            author: principal.describe(),
            now,
            txn,
            row,
            next,
            two_nos,
            has_parties: read.has_parties,
        })
    }

    /// Summons `parties` (organisation, check in by), in order, in place
    /// of any summoned before.
    async fn summon(&mut self, parties: &[(Uuid, DateTime<Utc>)]) -> Result<()> {
        self.dismiss_parties().await?;
        for (position, (org, by)) in parties.iter().enumerate() {
            parties::ActiveModel {
                issue_id: Set(self.row.id),
                organization_id: Set(*org),
                check_in_by: Set(*by),
                state: Set(PartyState::Summoned as i32),
                action_note: Set(String::new()),
                check_in_time: Set(None),
                position: Set(position as i32),
            }
            .insert(&self.txn)
            .await?;
        }
        self.has_parties = !parties.is_empty();
        Ok(())
    }

    /// The summoned parties that have not checked in yet.
    async fn parties_not_checked_in(&self) -> Result<Vec<parties::Model>> {
        if !self.has_parties {
            return Ok(Vec::new());
        }
        Ok(parties::Entity::find()
            .filter(parties::Column::IssueId.eq(self.row.id))
            .filter(parties::Column::State.eq(PartyState::Summoned as i32))
            .all(&self.txn)
            .await?)
    }

    /// Dismisses the parties summoned before (a plain dispatch or a
    /// return ends a joint one).
    async fn dismiss_parties(&mut self) -> Result<()> {
        if self.has_parties {
            parties::Entity::delete_many()
                .filter(parties::Column::IssueId.eq(self.row.id))
                .exec(&self.txn)
                .await?;
            self.has_parties = false;
        }
        Ok(())
    }

    /// The issue at its next revision, for the step to change further.
    fn changes(&self) -> rows::ActiveModel {
        self.next.clone()
    }

    /// Saves `am`, records `entries`, recounts two-nos if the issue
    /// counts, commits, renders.
    async fn finish(self, am: rows::ActiveModel, entries: Vec<Entry>) -> Result<Issue> {
        let id = self.row.id;
        // The two-nos recount reads the issue back.
        let saved = if self.two_nos.is_some() {
            store::save(&self.txn, &self.row, am).await?
        } else {
            store::save_held(&self.txn, &self.row, am).await?
        };
        for entry in entries {
            timeline::record(&self.txn, id, entry).await?;
        }
        if let Some(turn) = &self.two_nos {
            two_nos::recompute(&self.txn, turn, saved.community_id, self.now).await?;
        }
        events::state_changed(&self.txn, &self.row, &saved, self.now).await?;
        // Read once, for the notices and for the answer's `followed`.
        let followers = if saved.state != self.row.state {
            Some(crate::follows::followers_of(&self.txn, id).await?)
        } else {
            None
        };
        events::tell_of_state_change(
            &self.txn,
            &self.row,
            &saved,
            self.scope.resident(),
            followers.clone().unwrap_or_default(),
            self.now,
        )
        .await?;
        self.txn.commit().await?;
        // Rendered from a reader once committed, so that the write holds
        // the database's one writer no longer than it writes.
        store::render_after_step(
            self.db.read(),
            self.scope,
            &saved,
            self.has_parties,
            followers.as_deref(),
            self.now,
        )
        .await
    }

    fn transition(&self, to: IssueState) -> Entry {
        Entry::transition(state_of(&self.row), to, &self.author, self.now)
    }
}

/// The turn at the courtyard's two-nos status if the issue's sub-item
/// counts toward the goal ([`two_nos::take_turn`]: before the issue is
/// saved).
async fn two_nos_turn<C: Defers>(conn: &C, m: &Model) -> Result<Option<two_nos::Turn>> {
    let counts = sub_items::Entity::find_by_id(m.sub_item_id.clone())
        .one(conn)
        .await?
        .is_some_and(|s| s.two_nos);
    if !counts {
        return Ok(None);
    }
    Ok(Some(two_nos::take_turn(conn, m.courtyard_id).await?))
}

fn check_note(c: &mut Check, field: &str, note: &str, required: bool) {
    c.text(field, note, usize::from(required), 4000);
}

/// The organisation a dispatch names, which must exist.
async fn organization(svc: &Issues, field: &str, name: &str) -> Result<Uuid> {
    let mut c = Check::new();
    let id = c.name(field, name, "organizations");
    c.finish()?;
    if svc.directory.organization(id).await?.is_none() {
        return Err(Error::invalid(field, format!("{name} does not exist")));
    }
    Ok(id)
}

/// AcknowledgeIssue.
pub async fn acknowledge(
    svc: &Issues,
    scope: &Scope,
    principal: &Principal,
    req: AcknowledgeIssueRequest,
) -> Result<Issue> {
    let mut c = Check::new();
    let id = c.name("name", &req.name, COLLECTION);
    check_note(&mut c, "note", &req.note, false);
    c.finish()?;
    let step = Step::begin(svc, scope, principal, id, &req.etag).await?;
    scope.require_staff(step.row.community_id, &req.name)?;
    let to = next_state(&step.row, Action::Acknowledge)?;
    let mut am = step.changes();
    am.state = Set(to as i32);
    am.acknowledge_time = Set(Some(step.now));
    let entry = step.transition(to).with_text(req.note);
    step.finish(am, vec![entry]).await
}

/// DispatchIssue.
pub async fn dispatch(
    svc: &Issues,
    scope: &Scope,
    principal: &Principal,
    req: DispatchIssueRequest,
) -> Result<Issue> {
    let mut c = Check::new();
    let id = c.name("name", &req.name, COLLECTION);
    check_note(&mut c, "note", &req.note, false);
    c.finish()?;
    let assignee = organization(svc, "assignee", &req.assignee).await?;
    let mut step = Step::begin(svc, scope, principal, id, &req.etag).await?;
    scope.require_staff(step.row.community_id, &req.name)?;
    let to = next_state(&step.row, Action::Dispatch)?;
    step.dismiss_parties().await?;
    let mut am = step.changes();
    am.state = Set(to as i32);
    am.assignee_id = Set(Some(assignee));
    am.dispatch_count = Set(step.row.dispatch_count + 1);
    let entries = vec![
        step.transition(to),
        Entry::new(IssueUpdateKind::Assignment, &step.author, step.now)
            .with_organization(assignee)
            .with_text(req.note),
    ];
    step.finish(am, entries).await
}

/// JointDispatchIssue (吹哨报到).
pub async fn joint_dispatch(
    svc: &Issues,
    scope: &Scope,
    principal: &Principal,
    req: JointDispatchIssueRequest,
) -> Result<Issue> {
    let now = svc.ctx.clock.now();
    let mut c = Check::new();
    let id = c.name("name", &req.name, COLLECTION);
    check_note(&mut c, "note", &req.note, false);
    let lead = c.name("lead", &req.lead, "organizations");
    if req.parties.is_empty() || req.parties.len() > 20 {
        c.add("parties", "summon 1 to 20 parties");
    }
    let mut seen = BTreeSet::from([lead]);
    let mut summoned = Vec::new();
    for (i, p) in req.parties.iter().enumerate() {
        let org = c.name(
            &format!("parties[{i}].organization"),
            &p.organization,
            "organizations",
        );
        if !seen.insert(org) && !org.is_nil() {
            c.add(
                format!("parties[{i}].organization"),
                "is the lead or listed twice",
            );
        }
        match p.check_in_by.as_ref().map(convert::from_timestamp) {
            Some(Some(t)) if t > now => summoned.push((org, t)),
            Some(Some(_)) => c.add(format!("parties[{i}].check_in_by"), "must be in the future"),
            Some(None) => c.add(format!("parties[{i}].check_in_by"), "out of range"),
            None => c.add(format!("parties[{i}].check_in_by"), "is required"),
        }
    }
    c.finish()?;
    organization(svc, "lead", &req.lead).await?;
    for (i, p) in req.parties.iter().enumerate() {
        organization(svc, &format!("parties[{i}].organization"), &p.organization).await?;
    }
    let mut step = Step::begin(svc, scope, principal, id, &req.etag).await?;
    scope.require_staff(step.row.community_id, &req.name)?;
    let to = next_state(&step.row, Action::Dispatch)?;
    step.summon(&summoned).await?;
    let mut am = step.changes();
    am.state = Set(to as i32);
    am.assignee_id = Set(Some(lead));
    am.dispatch_count = Set(step.row.dispatch_count + 1);
    let mut entries = vec![
        step.transition(to),
        Entry::new(IssueUpdateKind::Assignment, &step.author, step.now)
            .with_organization(lead)
            .with_text(req.note),
    ];
    for (org, _) in &summoned {
        entries.push(
            Entry::new(IssueUpdateKind::Assignment, &step.author, step.now)
                .with_organization(*org)
                .with_text("summoned"),
        );
    }
    step.finish(am, entries).await
}

/// CheckInIssue: a summoned party reports what it did.
pub async fn check_in(
    svc: &Issues,
    scope: &Scope,
    principal: &Principal,
    req: CheckInIssueRequest,
) -> Result<Issue> {
    let mut c = Check::new();
    let id = c.name("name", &req.name, COLLECTION);
    let org = c.name("organization", &req.organization, "organizations");
    check_note(&mut c, "action_note", &req.action_note, true);
    media::check(&mut c, "media", &req.media);
    c.finish()?;
    let step = Step::begin(svc, scope, principal, id, "").await?;
    match scope {
        Scope::Partner { organization, .. } if *organization == org => {}
        Scope::Partner { .. } => return Err(Error::forbidden("check in for another organisation")),
        other => other.require_staff(step.row.community_id, &req.name)?,
    }
    next_state(&step.row, Action::CheckIn)?;
    let party = parties::Entity::find_by_id((step.row.id, org))
        .one(&step.txn)
        .await?
        .ok_or_else(|| {
            Error::precondition(
                ErrorReason::NotSummoned,
                "PARTY",
                &req.organization,
                "was not summoned to this issue",
            )
        })?;
    if party.state == PartyState::CheckedIn as i32 {
        return Err(Error::precondition(
            ErrorReason::AlreadyCheckedIn,
            "PARTY",
            &req.organization,
            "has already checked in",
        ));
    }
    let mut p: parties::ActiveModel = party.into();
    p.state = Set(PartyState::CheckedIn as i32);
    p.action_note = Set(req.action_note.clone());
    p.check_in_time = Set(Some(step.now));
    p.update(&step.txn).await?;
    let am = step.changes();
    let entry = Entry::new(IssueUpdateKind::CheckIn, &step.author, step.now)
        .with_organization(org)
        .with_text(req.action_note)
        .with_media(req.media);
    step.finish(am, vec![entry]).await
}

/// ReturnIssue: the assignee sends it back.
pub async fn return_issue(
    svc: &Issues,
    scope: &Scope,
    principal: &Principal,
    req: ReturnIssueRequest,
) -> Result<Issue> {
    let mut c = Check::new();
    let id = c.name("name", &req.name, COLLECTION);
    let reason: ReturnReason = c.enumeration("reason", req.reason, true);
    check_note(&mut c, "note", &req.note, false);
    c.finish()?;
    let mut step = Step::begin(svc, scope, principal, id, &req.etag).await?;
    require_assignee(scope, &step.row)?;
    let to = next_state(&step.row, Action::Return)?;
    step.dismiss_parties().await?;
    let mut am = step.changes();
    am.state = Set(to as i32);
    am.assignee_id = Set(None);
    am.return_count = Set(step.row.return_count + 1);
    let mut entry = step
        .transition(to)
        .with_text(req.note)
        .with_reason(reason.as_str_name());
    if let Some(org) = step.row.assignee_id {
        entry = entry.with_organization(org);
    }
    step.finish(am, vec![entry]).await
}

/// StartIssue.
pub async fn start(
    svc: &Issues,
    scope: &Scope,
    principal: &Principal,
    req: StartIssueRequest,
) -> Result<Issue> {
    let mut c = Check::new();
    let id = c.name("name", &req.name, COLLECTION);
    check_note(&mut c, "note", &req.note, false);
    c.finish()?;
    let step = Step::begin(svc, scope, principal, id, &req.etag).await?;
    require_assignee(scope, &step.row)?;
    let to = next_state(&step.row, Action::Start)?;
    let mut am = step.changes();
    am.state = Set(to as i32);
    let entry = step.transition(to).with_text(req.note);
    step.finish(am, vec![entry]).await
}

/// ResolveIssue. Refused while a summoned party has not checked in.
pub async fn resolve(
    svc: &Issues,
    scope: &Scope,
    principal: &Principal,
    req: ResolveIssueRequest,
) -> Result<Issue> {
    let mut c = Check::new();
    let id = c.name("name", &req.name, COLLECTION);
    check_note(&mut c, "note", &req.note, true);
    media::check(&mut c, "media", &req.media);
    c.finish()?;
    let step = Step::begin(svc, scope, principal, id, &req.etag).await?;
    require_assignee(scope, &step.row)?;
    let to = next_state(&step.row, Action::Resolve)?;
    let pending = step.parties_not_checked_in().await?;
    if !pending.is_empty() {
        return Err(Error::FailedPrecondition {
            reason: ErrorReason::PartiesPending,
            message: format!(
                "{}: {} summoned part(ies) have not checked in",
                req.name,
                pending.len()
            ),
            violations: pending
                .iter()
                .map(|p| Precondition {
                    kind: "PARTY".into(),
                    subject: names::format("organizations", p.organization_id),
                    description: "summoned but not checked in".into(),
                })
                .collect(),
        });
    }
    let mut am = step.changes();
    am.state = Set(to as i32);
    am.resolution_note = Set(req.note.clone());
    am.resolution_media = Set(media::to_json(&req.media));
    am.resolver_id = Set(scope.partner().or(step.row.assignee_id));
    am.resolve_time = Set(Some(step.now));
    let entry = step
        .transition(to)
        .with_text(req.note)
        .with_media(req.media);
    step.finish(am, vec![entry]).await
}

/// ConfirmIssue: the reporter or a building head of the courtyard rates it.
pub async fn confirm(
    svc: &Issues,
    scope: &Scope,
    principal: &Principal,
    req: ConfirmIssueRequest,
) -> Result<Issue> {
    let mut c = Check::new();
    let id = c.name("name", &req.name, COLLECTION);
    c.range("satisfaction", req.satisfaction.into(), 1, 5);
    c.text("comment", &req.comment, 0, 2000);
    let named = c.optional_name("confirmer", &req.confirmer, "persons");
    c.finish()?;
    let confirmer = match scope {
        Scope::Resident { person: me, .. } => {
            if named.is_some_and(|n| n != *me) {
                return Err(Error::invalid(
                    "confirmer",
                    "a resident confirms as themselves",
                ));
            }
            Some(*me)
        }
        Scope::Partner { .. } => {
            return Err(Error::forbidden("confirm issues; the reporter confirms"));
        }
        _ => named,
    };
    // Someone other than the reporter (who never changes) must be a
    // building head of the courtyard. A resident's scope says which
    // courtyard they head; a confirmer named by staff is asked of the
    // directory before the write begins.
    let named_head = match (scope, confirmer) {
        (Scope::Resident { .. }, _) | (_, None) => None,
        (_, Some(who)) => {
            let peek = store::get_visible(svc.ctx.db.read(), scope, id).await?;
            if peek.reporter_id == Some(who) {
                None
            } else {
                let person = svc.directory.person(who).await?;
                let here = person
                    .is_some_and(|p| p.building_head && p.courtyard == Some(peek.courtyard_id));
                Some((who, here))
            }
        }
    };
    let step = Step::begin(svc, scope, principal, id, &req.etag).await?;
    let refused = match scope {
        Scope::Resident {
            person, head_of, ..
        } => (step.row.reporter_id != Some(*person) && *head_of != Some(step.row.courtyard_id))
            .then_some(*person),
        _ => {
            scope.require_staff(step.row.community_id, &req.name)?;
            named_head.and_then(|(who, here)| (!here).then_some(who))
        }
    };
    if let Some(who) = refused {
        return Err(Error::precondition(
            ErrorReason::NotReporterOrBuildingHead,
            "CONFIRMER",
            names::format("persons", who),
            "only the reporter or a building head of the courtyard confirms",
        ));
    }
    let to = next_state(&step.row, Action::Confirm)?;
    let mut am = step.changes();
    am.state = Set(to as i32);
    am.satisfaction = Set(req.satisfaction);
    am.confirm_comment = Set(req.comment.clone());
    am.confirmer_id = Set(confirmer);
    am.confirm_time = Set(Some(step.now));
    am.close_time = Set(Some(step.now));
    let entry = step.transition(to).with_text(
        format!("satisfaction {}/5. {}", req.satisfaction, req.comment)
            .trim_end()
            .to_owned(),
    );
    step.finish(am, vec![entry]).await
}

/// ReopenIssue.
pub async fn reopen(
    svc: &Issues,
    scope: &Scope,
    principal: &Principal,
    req: ReopenIssueRequest,
) -> Result<Issue> {
    let mut c = Check::new();
    let id = c.name("name", &req.name, COLLECTION);
    check_note(&mut c, "reason", &req.reason, true);
    c.finish()?;
    let step = Step::begin(svc, scope, principal, id, &req.etag).await?;
    match scope {
        Scope::Resident { person: me, .. } if step.row.reporter_id == Some(*me) => {}
        Scope::Resident { .. } | Scope::Partner { .. } => {
            return Err(Error::forbidden("reopen issues"));
        }
        staff => staff.require_staff(step.row.community_id, &req.name)?,
    }
    let to = next_state(&step.row, Action::Reopen)?;
    let mut am = step.changes();
    am.state = Set(to as i32);
    am.reopen_count = Set(step.row.reopen_count + 1);
    am.close_time = Set(None);
    am.satisfaction = Set(0);
    am.confirm_comment = Set(String::new());
    am.confirmer_id = Set(None);
    am.confirm_time = Set(None);
    let entry = step.transition(to).with_text(req.reason);
    step.finish(am, vec![entry]).await
}

/// RejectIssue.
pub async fn reject(
    svc: &Issues,
    scope: &Scope,
    principal: &Principal,
    req: RejectIssueRequest,
) -> Result<Issue> {
    let mut c = Check::new();
    let id = c.name("name", &req.name, COLLECTION);
    let reason: RejectReason = c.enumeration("reason", req.reason, true);
    check_note(&mut c, "note", &req.note, false);
    c.finish()?;
    let step = Step::begin(svc, scope, principal, id, &req.etag).await?;
    scope.require_staff(step.row.community_id, &req.name)?;
    let to = next_state(&step.row, Action::Reject)?;
    let mut am = step.changes();
    am.state = Set(to as i32);
    am.reject_reason = Set(req.reason);
    am.close_time = Set(Some(step.now));
    let entry = step
        .transition(to)
        .with_text(req.note)
        .with_reason(reason.as_str_name());
    step.finish(am, vec![entry]).await
}

/// MarkDuplicateIssue: closes this one; the original carries on.
pub async fn mark_duplicate(
    svc: &Issues,
    scope: &Scope,
    principal: &Principal,
    req: MarkDuplicateIssueRequest,
) -> Result<Issue> {
    let mut c = Check::new();
    let id = c.name("name", &req.name, COLLECTION);
    let original = c.name("original", &req.original, COLLECTION);
    c.finish()?;
    let step = Step::begin(svc, scope, principal, id, &req.etag).await?;
    scope.require_staff(step.row.community_id, &req.name)?;
    if original == step.row.id {
        return Err(Error::invalid(
            "original",
            "an issue is not a duplicate of itself",
        ));
    }
    let orig = match store::get_visible(&step.txn, scope, original).await {
        Ok(o) => o,
        Err(Error::NotFound { .. }) => {
            return Err(Error::invalid(
                "original",
                format!("{} does not exist", req.original),
            ));
        }
        Err(e) => return Err(e),
    };
    if orig.courtyard_id != step.row.courtyard_id {
        return Err(Error::invalid("original", "must be in the same courtyard"));
    }
    let orig_state = state_of(&orig);
    if !(lifecycle::is_open(orig_state) || orig_state == IssueState::Resolved) {
        return Err(Error::precondition(
            ErrorReason::OriginalClosed,
            "STATE",
            &req.original,
            format!(
                "is {}; mark duplicates of an issue still being handled",
                state_name(orig_state)
            ),
        ));
    }
    let to = next_state(&step.row, Action::MarkDuplicate)?;
    let (orig, mut o) = store::VERSIONED
        .edit(orig, "", &req.original, step.now)?
        .into_parts();
    o.duplicate_count = Set(orig.duplicate_count + 1);
    store::save(&step.txn, &orig, o).await?;
    timeline::record(
        &step.txn,
        orig.id,
        Entry::new(IssueUpdateKind::Comment, &step.author, step.now)
            .with_text(format!("{} marked a duplicate of this issue", req.name)),
    )
    .await?;
    let mut am = step.changes();
    am.state = Set(to as i32);
    am.duplicate_of = Set(Some(original));
    am.close_time = Set(Some(step.now));
    let entry = step
        .transition(to)
        .with_text(format!("duplicate of {}", req.original));
    step.finish(am, vec![entry]).await
}

/// EscalateIssue: records the council a topic should be made in.
pub async fn escalate(
    svc: &Issues,
    scope: &Scope,
    principal: &Principal,
    req: EscalateIssueRequest,
) -> Result<Issue> {
    let mut c = Check::new();
    let id = c.name("name", &req.name, COLLECTION);
    let council = c.name("council", &req.council, "councils");
    check_note(&mut c, "note", &req.note, false);
    c.finish()?;
    let step = Step::begin(svc, scope, principal, id, &req.etag).await?;
    scope.require_staff(step.row.community_id, &req.name)?;
    next_state(&step.row, Action::Escalate)?;
    events::escalated(&step.txn, &step.row, &req.council, &req.note, step.now).await?;
    let mut am = step.changes();
    am.escalated_to = Set(Some(council));
    let entry = Entry::new(IssueUpdateKind::Comment, &step.author, step.now).with_text(
        format!("escalated to {}. {}", req.council, req.note)
            .trim_end()
            .to_owned(),
    );
    step.finish(am, vec![entry]).await
}

/// Closes resolved issues nobody confirmed within the configured days.
/// Returns how many it closed.
pub async fn close_unconfirmed(svc: &Issues) -> Result<u64> {
    let now = svc.ctx.clock.now();
    let cutoff = now - Duration::days(svc.settings.auto_close_days);
    let due = Entity::find()
        .filter(Column::State.eq(IssueState::Resolved as i32))
        .filter(Column::ResolveTime.lte(cutoff))
        .all(svc.ctx.db.read())
        .await?;
    let mut closed = 0;
    for row in due {
        let Ok(to) = next_state(&row, Action::AutoClose) else {
            continue;
        };
        let row_id = row.id;
        let txn = svc.ctx.db.begin_write().await?;
        let turn = two_nos_turn(&txn, &row).await?;
        let (row, mut am) = store::VERSIONED
            .edit(row, "", &name(row_id), now)?
            .into_parts();
        am.state = Set(to as i32);
        am.close_time = Set(Some(now));
        // A concurrent confirmation wins; skip this one.
        match store::save(&txn, &row, am).await {
            Ok(saved) => {
                timeline::record(
                    &txn,
                    row.id,
                    Entry::transition(state_of(&row), to, "service:issues", now).with_text(
                        format!(
                            "closed automatically: not confirmed within {} days",
                            svc.settings.auto_close_days
                        ),
                    ),
                )
                .await?;
                if let Some(turn) = &turn {
                    two_nos::recompute(&txn, turn, saved.community_id, now).await?;
                }
                events::state_changed(&txn, &row, &saved, now).await?;
                let followers = crate::follows::followers_of(&txn, row.id).await?;
                events::tell_of_state_change(&txn, &row, &saved, None, followers, now).await?;
                txn.commit().await?;
                svc.ctx.db.outbox_committed();
                closed += 1;
            }
            Err(Error::EtagMismatch { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(closed)
}

/// Runs [`close_unconfirmed`] every minute for as long as the process runs.
pub fn spawn_auto_close(svc: Issues) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            every.tick().await;
            match close_unconfirmed(&svc).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(closed = n, "closed unconfirmed resolved issues"),
                Err(e) => tracing::warn!(error = %e, "closing unconfirmed issues failed"),
            }
        }
    })
}
