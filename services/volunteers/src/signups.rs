//! Sign-ups: CreateSignup, GetSignup, ListSignups, CancelSignup,
//! CheckInSignup, CheckOutSignup.
//!
//! Places are taken with one conditional UPDATE on the activity row
//! (`confirmed_count < capacity`, else `waitlist_count < waitlist_capacity`),
//! so concurrent sign-ups never overbook: on PostgreSQL the row lock orders
//! them, on SQLite the single writer does. The volunteer's row is touched
//! first, so one volunteer's concurrent sign-ups cannot both pass the
//! overlap check. Cancelling a confirmed place promotes the first of the
//! waitlist in the same transaction.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use cogov_kit::ErrorReason;
use cogov_kit::auth::Principal;
use cogov_kit::error::Precondition;
use cogov_kit::filter::{Field, Kind};
use cogov_kit::idempotency::{self, Key};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::scope::Scope;
use cogov_kit::store::Versioned;
use cogov_kit::validate::Check;
use cogov_kit::write::Defers;
use cogov_kit::{Error, Result, convert, etag, names};
use cogov_proto::volunteers::*;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use crate::activities::{self, COLLECTION as ACTIVITIES, state_of};
use crate::entity::signups::{self as rows, Column, Entity, Model};
use crate::entity::{activities as acts, volunteers as vols};
use crate::{Volunteers, access, hours, lists, read_id, required, training, volunteers};

const VERSIONED: Versioned<Column> = Versioned {
    id: Column::Id,
    revision: Column::Revision,
    update_time: Some(Column::UpdateTime),
};

/// The list order: confirmed first, then the waitlist in order, then the
/// cancelled.
pub fn rank(state: SignupState, position: i32) -> i64 {
    (state as i64) * 1_000_000_000 + i64::from(position)
}

fn name(m: &Model) -> String {
    names::format_child(ACTIVITIES, m.activity_id, "signups", m.id)
}

fn parse(field: &str, value: &str) -> Result<(Uuid, Uuid)> {
    cogov_kit::validate::read_child_id(field, value, ACTIVITIES, "signups")
}

/// Renders sign-ups with their places on the waiting lists, read in one
/// query for the whole page.
async fn render_many<C: ConnectionTrait>(conn: &C, rows: &[Model]) -> Result<Vec<Signup>> {
    let waiting = SignupState::Waitlisted as i32;
    let activities: Vec<Uuid> = rows
        .iter()
        .filter(|m| m.state == waiting)
        .map(|m| m.activity_id)
        .collect();
    // Each activity's waiting list in order; short (bounded by the
    // activity's waitlist limit).
    let mut queues: HashMap<Uuid, Vec<i32>> = HashMap::new();
    if !activities.is_empty() {
        let waiting_rows: Vec<(Uuid, i32)> = Entity::find()
            .select_only()
            .column(Column::ActivityId)
            .column(Column::Position)
            .filter(Column::ActivityId.is_in(activities))
            .filter(Column::State.eq(waiting))
            .order_by_asc(Column::Position)
            .into_tuple()
            .all(conn)
            .await?;
        for (activity, position) in waiting_rows {
            queues.entry(activity).or_default().push(position);
        }
    }
    Ok(rows
        .iter()
        .map(|m| {
            // 1-based place among those still waiting.
            let place = match queues.get(&m.activity_id) {
                Some(queue) if m.state == waiting => {
                    queue.partition_point(|p| *p <= m.position) as i32
                }
                _ => 0,
            };
            to_proto(m, place)
        })
        .collect())
}

async fn render<C: ConnectionTrait>(conn: &C, m: &Model) -> Result<Signup> {
    let mut one = render_many(conn, std::slice::from_ref(m)).await?;
    Ok(one.pop().expect("one row rendered"))
}

fn to_proto(m: &Model, waitlist_position: i32) -> Signup {
    Signup {
        name: name(m),
        volunteer: volunteers::name(m.volunteer_id),
        state: m.state,
        waitlist_position,
        check_in_time: convert::opt_timestamp(m.check_in_time),
        check_out_time: convert::opt_timestamp(m.check_out_time),
        create_time: Some(convert::timestamp(m.create_time)),
        update_time: Some(convert::timestamp(m.update_time)),
        etag: etag::format(m.revision),
    }
}

/// Whether the caller acts for this volunteer: the volunteer themselves,
/// staff of the activity, or its organiser.
async fn acts_for<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    activity: &acts::Model,
    volunteer: &vols::Model,
) -> Result<bool> {
    Ok(match scope {
        Scope::Resident { person, .. } => {
            volunteer.person_id == *person
                || match activity.organizing_team_id {
                    Some(team) => access::leads_team(conn, *person, team).await?,
                    None => false,
                }
        }
        other => access::manages_activity(other, activity),
    })
}

async fn load<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    field: &str,
    value: &str,
) -> Result<(acts::Model, Model)> {
    let (activity, signup) = parse(field, value)?;
    let a = activities::get_visible(conn, scope, activity).await?;
    let s = Entity::find_by_id(signup)
        .filter(Column::ActivityId.eq(activity))
        .one(conn)
        .await?
        .ok_or_else(|| scope.missing("Signup", value))?;
    Ok((a, s))
}

/// Takes a confirmed place, else a waitlist place; `None` when full.
async fn take_place<C: ConnectionTrait>(
    conn: &C,
    activity: Uuid,
) -> Result<Option<(SignupState, i32)>> {
    let confirmed = acts::Entity::update_many()
        .col_expr(
            acts::Column::ConfirmedCount,
            Expr::col(acts::Column::ConfirmedCount).add(1),
        )
        .filter(acts::Column::Id.eq(activity))
        .filter(Expr::col(acts::Column::ConfirmedCount).lt(Expr::col(acts::Column::Capacity)))
        .exec(conn)
        .await?;
    if confirmed.rows_affected == 1 {
        return Ok(Some((SignupState::Confirmed, 0)));
    }
    let waiting = acts::Entity::update_many()
        .col_expr(
            acts::Column::WaitlistCount,
            Expr::col(acts::Column::WaitlistCount).add(1),
        )
        .col_expr(
            acts::Column::WaitlistSeq,
            Expr::col(acts::Column::WaitlistSeq).add(1),
        )
        .filter(acts::Column::Id.eq(activity))
        .filter(
            Expr::col(acts::Column::WaitlistCount).lt(Expr::col(acts::Column::WaitlistCapacity)),
        )
        .exec(conn)
        .await?;
    if waiting.rows_affected == 1 {
        let seq = acts::Entity::find_by_id(activity)
            .one(conn)
            .await?
            .map(|a| a.waitlist_seq)
            .unwrap_or_default();
        return Ok(Some((SignupState::Waitlisted, seq)));
    }
    Ok(None)
}

/// Tells the volunteer's person their waitlisted place is confirmed.
async fn tell_promoted<C: Defers>(
    conn: &C,
    activity: Uuid,
    volunteer: Uuid,
    now: DateTime<Utc>,
) -> Result<()> {
    let (Some(v), Some(a)) = (
        vols::Entity::find_by_id(volunteer).one(conn).await?,
        acts::Entity::find_by_id(activity).one(conn).await?,
    ) else {
        return Ok(());
    };
    cogov_kit::events::notices::tell(
        conn,
        crate::ROLE,
        [v.person_id],
        cogov_kit::events::notices::Notice {
            kind: cogov_proto::common::NoticeKind::SignupPromoted,
            subject: &activities::name(activity),
            title: &a.title,
            detail: "",
        },
        now,
    )
    .await
}

/// Gives back a place, promoting the first of the waitlist into a freed
/// confirmed place.
async fn give_back<C: Defers>(
    conn: &C,
    activity: Uuid,
    was: SignupState,
    now: DateTime<Utc>,
) -> Result<()> {
    match was {
        SignupState::Waitlisted => {
            acts::Entity::update_many()
                .col_expr(
                    acts::Column::WaitlistCount,
                    Expr::col(acts::Column::WaitlistCount).sub(1),
                )
                .filter(acts::Column::Id.eq(activity))
                .exec(conn)
                .await?;
        }
        SignupState::Confirmed => {
            let next = Entity::find()
                .filter(Column::ActivityId.eq(activity))
                .filter(Column::State.eq(SignupState::Waitlisted as i32))
                .order_by_asc(Column::Position)
                .one(conn)
                .await?;
            match next {
                Some(n) => {
                    // The freed place goes straight to the first in line.
                    Entity::update_many()
                        .col_expr(Column::State, Expr::value(SignupState::Confirmed as i32))
                        .col_expr(
                            Column::Rank,
                            Expr::value(rank(SignupState::Confirmed, n.position)),
                        )
                        .col_expr(Column::Revision, Expr::value(n.revision + 1))
                        .col_expr(Column::UpdateTime, Expr::value(now))
                        .filter(Column::Id.eq(n.id))
                        .exec(conn)
                        .await?;
                    acts::Entity::update_many()
                        .col_expr(
                            acts::Column::WaitlistCount,
                            Expr::col(acts::Column::WaitlistCount).sub(1),
                        )
                        .filter(acts::Column::Id.eq(activity))
                        .exec(conn)
                        .await?;
                    tell_promoted(conn, activity, n.volunteer_id, now).await?;
                }
                None => {
                    acts::Entity::update_many()
                        .col_expr(
                            acts::Column::ConfirmedCount,
                            Expr::col(acts::Column::ConfirmedCount).sub(1),
                        )
                        .filter(acts::Column::Id.eq(activity))
                        .exec(conn)
                        .await?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// CreateSignup.
pub async fn create(
    svc: &Volunteers,
    scope: &Scope,
    principal: &Principal,
    req: CreateSignupRequest,
) -> Result<Signup> {
    let key = Key::new("CreateSignup", &req.request_id, principal, &req);
    let activity_id = read_id("parent", &req.parent, ACTIVITIES)?;
    let s = required("signup", req.signup)?;
    let mut c = Check::new();
    let volunteer_id = c.name("signup.volunteer", &s.volunteer, "volunteers");
    c.request_id(&req.request_id);
    c.finish()?;
    scope.require_verified("signing up")?;
    let now = svc.ctx.clock.now();
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        let activity = activities::get_visible(txn, scope, activity_id).await?;
        let volunteer = volunteers::reference(txn, "signup.volunteer", volunteer_id).await?;
        if !acts_for(txn, scope, &activity, &volunteer).await? {
            return Err(Error::forbidden("sign up someone else"));
        }
        if !matches!(
            state_of(&activity),
            ActivityState::Published | ActivityState::Ongoing
        ) {
            let state = state_of(&activity)
                .as_str_name()
                .trim_start_matches("ACTIVITY_STATE_");
            return Err(Error::precondition(
                ErrorReason::ActivityNotOpen,
                "STATE",
                activities::name(activity_id),
                format!("is {state}; sign-up is open while PUBLISHED or ONGOING"),
            ));
        }
        if volunteer.state != VolunteerState::Active as i32 {
            return Err(Error::precondition(
                ErrorReason::VolunteerNotActive,
                "STATE",
                volunteers::name(volunteer_id),
                "only active volunteers sign up",
            ));
        }
        // Serialise this volunteer's sign-ups (the overlap check below).
        vols::Entity::update_many()
            .col_expr(vols::Column::Revision, Expr::col(vols::Column::Revision))
            .filter(vols::Column::Id.eq(volunteer_id))
            .exec(txn)
            .await?;
        let existing = Entity::find()
            .filter(Column::ActivityId.eq(activity_id))
            .filter(Column::VolunteerId.eq(volunteer_id))
            .one(txn)
            .await?;
        if let Some(e) = &existing
            && e.state != SignupState::Cancelled as i32
        {
            // Signed up already: the same sign-up, nothing new.
            return render(txn, e).await;
        }
        let required: Vec<Uuid> = lists::ids(&activity.required_certifications);
        let missing =
            training::missing_certifications(txn, volunteer_id, &required, activity.start_time)
                .await?;
        if !missing.is_empty() {
            return Err(Error::FailedPrecondition {
                reason: ErrorReason::CertificationMissing,
                message: format!(
                    "{} lacks {} required certification(s)",
                    volunteers::name(volunteer_id),
                    missing.len()
                ),
                violations: missing
                    .iter()
                    .map(|course| Precondition {
                        kind: "CERTIFICATION".into(),
                        subject: names::format("courses", *course),
                        description: "no valid certification at the activity's start".into(),
                    })
                    .collect(),
            });
        }
        let clash = Entity::find()
            .filter(Column::VolunteerId.eq(volunteer_id))
            .filter(Column::ActivityId.ne(activity_id))
            .filter(Column::State.is_in([
                SignupState::Confirmed as i32,
                SignupState::Waitlisted as i32,
            ]))
            .filter(Column::StartTime.lt(activity.end_time))
            .filter(Column::EndTime.gt(activity.start_time))
            .one(txn)
            .await?;
        if let Some(other) = clash {
            return Err(Error::precondition(
                ErrorReason::OverlappingCommitment,
                "SCHEDULE",
                activities::name(other.activity_id),
                "the volunteer is already signed up for an activity at that time",
            ));
        }
        // Sign-ups to one activity take its places in turn; waiting here,
        // this write holds nothing another volunteer's could want.
        txn.keep_turn(svc.ctx.db.turn_at(activity_id).await);
        let (state, position) = take_place(txn, activity_id).await?.ok_or_else(|| {
            Error::precondition(
                ErrorReason::ActivityFull,
                "CAPACITY",
                activities::name(activity_id),
                "every place and waitlist place is taken",
            )
        })?;
        let row = match existing {
            Some(e) => {
                // Signing up again after cancelling: the same row, its place anew.
                let mut edit = VERSIONED.edit(e.clone(), "", &name(&e), now)?;
                let am = &mut edit.changes;
                am.state = Set(state as i32);
                am.position = Set(position);
                am.rank = Set(rank(state, position));
                am.check_in_time = Set(None);
                am.check_out_time = Set(None);
                edit.save(txn).await?
            }
            None => {
                rows::ActiveModel {
                    id: Set(names::new_id()),
                    activity_id: Set(activity_id),
                    volunteer_id: Set(volunteer_id),
                    state: Set(state as i32),
                    position: Set(position),
                    start_time: Set(activity.start_time),
                    end_time: Set(activity.end_time),
                    rank: Set(rank(state, position)),
                    check_in_time: Set(None),
                    check_out_time: Set(None),
                    revision: Set(1),
                    create_time: Set(now),
                    update_time: Set(now),
                }
                .insert(txn)
                .await?
            }
        };
        render(txn, &row).await
    })
    .await
}

/// GetSignup.
pub async fn get(svc: &Volunteers, scope: &Scope, req: GetSignupRequest) -> Result<Signup> {
    let conn = svc.ctx.db.read();
    let (a, s) = load(conn, scope, "name", &req.name).await?;
    let v = volunteers::reference(conn, "name", s.volunteer_id).await?;
    if !acts_for(conn, scope, &a, &v).await? {
        return Err(Error::out_of_reach(&req.name));
    }
    render(conn, &s).await
}

/// ListSignups: of an activity, or `activities/-` with a `volunteer` filter.
pub async fn list(
    svc: &Volunteers,
    scope: &Scope,
    req: ListSignupsRequest,
) -> Result<ListSignupsResponse> {
    let conn = svc.ctx.db.read();
    let activity = if req.parent == "activities/-" {
        None
    } else {
        Some(read_id("parent", &req.parent, ACTIVITIES)?)
    };
    let fields = [
        Field::column(
            "state",
            Column::State,
            Kind::Enum(
                |s| SignupState::from_str_name(s).map(|v| v as i32),
                "SIGNUP_STATE_",
            ),
        ),
        Field::column("volunteer", Column::VolunteerId, Kind::Name("volunteers")),
    ];
    let query = ListQuery {
        parent: &req.parent,
        ..ListQuery::new(
            "ListSignups",
            req.page_size,
            &req.page_token,
            &req.filter,
            "rank",
        )
    };
    let spec = Spec::new(&fields, &[("rank", Column::Rank)], Column::Id);
    let mut base = Entity::find();
    match (activity, scope) {
        (Some(id), Scope::Resident { person, .. }) => {
            let a = activities::get_visible(conn, scope, id).await?;
            let leads = match a.organizing_team_id {
                Some(team) => access::leads_team(conn, *person, team).await?,
                None => false,
            };
            base = base.filter(Column::ActivityId.eq(id));
            if !leads {
                let mine = access::volunteer_of(conn, *person)
                    .await?
                    .map(|v| v.id)
                    .unwrap_or_default();
                base = base.filter(Column::VolunteerId.eq(mine));
            }
        }
        (Some(id), other) => {
            let a = activities::get_visible(conn, other, id).await?;
            if !access::manages_activity(other, &a) {
                return Err(Error::forbidden(format!(
                    "list the sign-ups of {}",
                    req.parent
                )));
            }
            base = base.filter(Column::ActivityId.eq(id));
        }
        (None, Scope::Resident { person, .. }) => {
            let mine = access::volunteer_of(conn, *person)
                .await?
                .map(|v| v.id)
                .unwrap_or_default();
            base = base.filter(Column::VolunteerId.eq(mine));
        }
        (None, Scope::All) => {}
        (None, _) => return Err(Error::forbidden("list sign-ups across activities")),
    }
    let (rows, next_page_token) =
        listing::list(&svc.ctx.tokens, &svc.ctx.db, query, spec, base, |m| {
            (SortKey::Int(m.rank), m.id)
        })
        .await?;
    let signups = render_many(conn, &rows).await?;
    Ok(ListSignupsResponse {
        signups,
        next_page_token,
    })
}

/// CancelSignup; the first of the waitlist takes a freed place.
pub async fn cancel(svc: &Volunteers, scope: &Scope, req: CancelSignupRequest) -> Result<Signup> {
    let txn = svc.ctx.db.begin_write().await?;
    let (a, s) = load(&txn, scope, "name", &req.name).await?;
    let v = volunteers::reference(&txn, "name", s.volunteer_id).await?;
    if !acts_for(&txn, scope, &a, &v).await? {
        return Err(Error::forbidden(format!("cancel {}", req.name)));
    }
    let now = svc.ctx.clock.now();
    let mut edit = VERSIONED.edit(s.clone(), &req.etag, &req.name, now)?;
    let was = SignupState::try_from(s.state).unwrap_or_default();
    if was == SignupState::Cancelled {
        return Err(Error::illegal_transition(
            &req.name,
            "CANCELLED",
            "cancelled",
        ));
    }
    if s.check_in_time.is_some() {
        return Err(Error::precondition(
            ErrorReason::CheckedIn,
            "STATE",
            &req.name,
            "the volunteer has checked in",
        ));
    }
    let am = &mut edit.changes;
    am.state = Set(SignupState::Cancelled as i32);
    am.rank = Set(rank(SignupState::Cancelled, s.position));
    let saved = edit.save(&txn).await?;
    give_back(&txn, a.id, was, now).await?;
    let out = render(&txn, &saved).await?;
    txn.commit().await?;
    Ok(out)
}

/// CheckInSignup.
pub async fn check_in(
    svc: &Volunteers,
    scope: &Scope,
    req: CheckInSignupRequest,
) -> Result<Signup> {
    let txn = svc.ctx.db.begin_write().await?;
    let (a, s) = load(&txn, scope, "name", &req.name).await?;
    let v = volunteers::reference(&txn, "name", s.volunteer_id).await?;
    if !acts_for(&txn, scope, &a, &v).await? {
        return Err(Error::forbidden(format!("check in {}", req.name)));
    }
    if state_of(&a) != ActivityState::Ongoing {
        return Err(Error::precondition(
            ErrorReason::ActivityNotOngoing,
            "STATE",
            activities::name(a.id),
            "check-in opens when the activity starts",
        ));
    }
    if s.state != SignupState::Confirmed as i32 {
        return Err(Error::precondition(
            ErrorReason::NotConfirmed,
            "STATE",
            &req.name,
            "only a confirmed place checks in",
        ));
    }
    if s.check_in_time.is_some() {
        return Err(Error::precondition(
            ErrorReason::AlreadyCheckedIn,
            "STATE",
            &req.name,
            "has checked in already",
        ));
    }
    let now = svc.ctx.clock.now();
    let mut edit = VERSIONED.edit(s.clone(), "", &req.name, now)?;
    let am = &mut edit.changes;
    am.check_in_time = Set(Some(now));
    let saved = edit.save(&txn).await?;
    let out = render(&txn, &saved).await?;
    txn.commit().await?;
    Ok(out)
}

/// CheckOutSignup: a pending service record for the time between.
pub async fn check_out(
    svc: &Volunteers,
    scope: &Scope,
    req: CheckOutSignupRequest,
) -> Result<Signup> {
    let txn = svc.ctx.db.begin_write().await?;
    let (a, s) = load(&txn, scope, "name", &req.name).await?;
    let v = volunteers::reference(&txn, "name", s.volunteer_id).await?;
    if !acts_for(&txn, scope, &a, &v).await? {
        return Err(Error::forbidden(format!("check out {}", req.name)));
    }
    let Some(since) = s.check_in_time else {
        return Err(Error::precondition(
            ErrorReason::NotCheckedIn,
            "STATE",
            &req.name,
            "check in first",
        ));
    };
    if s.check_out_time.is_some() {
        return Err(Error::precondition(
            ErrorReason::AlreadyCheckedOut,
            "STATE",
            &req.name,
            "has checked out already",
        ));
    }
    let now = svc.ctx.clock.now();
    let mut edit = VERSIONED.edit(s.clone(), "", &req.name, now)?;
    let am = &mut edit.changes;
    am.check_out_time = Set(Some(now));
    let saved = edit.save(&txn).await?;
    hours::record(
        &txn,
        hours::NewRecord {
            volunteer: s.volunteer_id,
            activity: Some(a.id),
            team: a.organizing_team_id,
            community: a.community_id,
            start_time: since,
            minutes: hours::minutes_between(since, now),
            description: a.title.clone(),
            source: RecordSource::Attendance,
            now,
        },
    )
    .await?;
    let out = render(&txn, &saved).await?;
    txn.commit().await?;
    Ok(out)
}
