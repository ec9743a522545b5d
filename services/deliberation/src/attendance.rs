//! Sign-in and quorum: CreateAttendance, ListAttendances, CheckQuorum.

use std::collections::BTreeSet;

use cogov_kit::auth::Principal;
use cogov_kit::idempotency::{self, Key};
use cogov_kit::json::{from_json, to_json};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::validate::{Check, required};
use cogov_kit::{Error, Result, convert, names};
use cogov_proto::deliberation::*;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::access::Caller;
use crate::composition::{self, Present};
use crate::entity::attendances::{self as rows, Column, Entity, Model};
use crate::entity::{meetings as meeting_rows, seats};
use crate::{Deliberation, councils, meetings};

fn to_proto(m: &Model, council: Uuid) -> Attendance {
    Attendance {
        name: format!(
            "{}/attendances/{}",
            meetings::name(m.meeting_id),
            m.id.as_hyphenated()
        ),
        person: names::format("persons", m.person_id),
        seat: m
            .seat_id
            .map(|s| names::format_child(councils::COLLECTION, council, "seats", s))
            .unwrap_or_default(),
        mode: m.mode,
        sign_in_time: Some(convert::timestamp(m.sign_in_time)),
    }
}

/// CreateAttendance: a meeting in progress; residents sign themselves in,
/// the secretary or staff anyone, a partner the people seated for it.
pub async fn create(
    svc: &Deliberation,
    caller: &Caller,
    principal: &Principal,
    req: CreateAttendanceRequest,
) -> Result<Attendance> {
    let key = Key::new("CreateAttendance", &req.request_id, principal, &req);
    let conn = svc.ctx.db.read();
    let (council, meeting) = meetings::visible(conn, caller, "parent", &req.parent).await?;
    let a = required("attendance", req.attendance)?;
    let mut c = Check::new();
    let person = c.name("attendance.person", &a.person, "persons");
    let mode: AttendanceMode = c.enumeration("attendance.mode", a.mode, false);
    c.request_id(&req.request_id);
    c.finish()?;
    let held: Vec<seats::Model> = seats::Entity::find()
        .filter(seats::Column::CouncilId.eq(council.id))
        .filter(seats::Column::PersonId.eq(person))
        .all(conn)
        .await?
        .into_iter()
        .filter(|s| {
            let today = svc.ctx.clock.today();
            s.start_date <= today && s.end_date.is_none_or(|e| e >= today)
        })
        .collect();
    let allowed = caller.manages(&council)
        || caller.person() == Some(person)
        || caller
            .partner()
            .is_some_and(|org| held.iter().any(|s| s.organization_id == Some(org)));
    if !allowed {
        return Err(Error::forbidden(format!("sign {} in", a.person)));
    }
    if caller.person() != Some(person) && svc.directory.person(person).await?.is_none() {
        return Err(Error::invalid("attendance.person", "no such person"));
    }
    if meetings::state_of(&meeting) != MeetingState::InProgress {
        return Err(Error::illegal_transition(
            meetings::name(meeting.id),
            meetings::state_of(&meeting)
                .as_str_name()
                .trim_start_matches("MEETING_STATE_"),
            "signed into",
        ));
    }
    let kinds: Vec<SeatKind> = held
        .iter()
        .map(|s| SeatKind::try_from(s.kind).unwrap_or_default())
        .collect();
    let voting = kinds.iter().any(|k| composition::votes(*k));
    let seat = held
        .iter()
        .find(|s| composition::votes(SeatKind::try_from(s.kind).unwrap_or_default()))
        .or(held.first())
        .map(|s| s.id);
    let mode = match mode {
        AttendanceMode::Unspecified if meeting.mode == MeetingMode::Online as i32 => {
            AttendanceMode::Online
        }
        AttendanceMode::Unspecified => AttendanceMode::InPerson,
        m => m,
    };
    let now = svc.ctx.clock.now();
    let (meeting_id, council_id) = (meeting.id, council.id);
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        // The meeting's row first: concurrent sign-ins of one person queue.
        meeting_rows::Entity::update_many()
            .col_expr(
                meeting_rows::Column::AttendanceCount,
                Expr::col(meeting_rows::Column::AttendanceCount).add(1),
            )
            .filter(meeting_rows::Column::Id.eq(meeting_id))
            .exec(txn)
            .await?;
        if let Some(existing) = Entity::find()
            .filter(Column::MeetingId.eq(meeting_id))
            .filter(Column::PersonId.eq(person))
            .one(txn)
            .await?
        {
            return Err(Error::AlreadyExists {
                resource_type: "Attendance",
                name: to_proto(&existing, council_id).name,
            });
        }
        let row = rows::ActiveModel {
            id: Set(names::new_id()),
            meeting_id: Set(meeting_id),
            person_id: Set(person),
            seat_id: Set(seat),
            seat_kinds: Set(to_json(
                &kinds.iter().map(|k| *k as i32).collect::<Vec<_>>(),
            )),
            voting: Set(voting),
            mode: Set(mode as i32),
            sign_in_time: Set(now),
        }
        .insert(txn)
        .await?;
        Ok(to_proto(&row, council_id))
    })
    .await
}

/// ListAttendances: in sign-in order.
pub async fn list(
    svc: &Deliberation,
    caller: &Caller,
    req: ListAttendancesRequest,
) -> Result<ListAttendancesResponse> {
    let conn = svc.ctx.db.read();
    let (_, meeting) = meetings::visible(conn, caller, "parent", &req.parent).await?;
    let mut query = ListQuery::new("ListAttendances", req.page_size, &req.page_token, "", "");
    query.parent = &req.parent;
    let spec = Spec::new(&[], &[], Column::Id);
    let base = Entity::find().filter(Column::MeetingId.eq(meeting.id));
    let (rows, next_page_token) =
        listing::list(&svc.ctx.tokens, &svc.ctx.db, query, spec, base, |m| {
            (SortKey::None, m.id)
        })
        .await?;
    Ok(ListAttendancesResponse {
        attendances: rows
            .iter()
            .map(|a| to_proto(a, meeting.council_id))
            .collect(),
        next_page_token,
    })
}

/// CheckQuorum: the share of voting members present and the required
/// kinds, against the seats in force today.
pub async fn check_quorum(
    svc: &Deliberation,
    caller: &Caller,
    req: CheckQuorumRequest,
) -> Result<QuorumReport> {
    let conn = svc.ctx.db.read();
    let (council, meeting) = meetings::visible(conn, caller, "name", &req.name).await?;
    let (share, required) = meetings::quorum_of(&meeting, &council);
    let in_force = councils::kinds_in_force(conn, council.id, svc.ctx.clock.today()).await?;
    let voting_total = in_force
        .iter()
        .filter(|(_, k)| composition::votes(*k))
        .map(|(p, _)| *p)
        .collect::<BTreeSet<Uuid>>()
        .len() as i32;
    let present: Vec<Present> = Entity::find()
        .filter(Column::MeetingId.eq(meeting.id))
        .all(conn)
        .await?
        .into_iter()
        .map(|a| Present {
            person: a.person_id,
            voting: a.voting,
            kinds: from_json::<i32>(&a.seat_kinds)
                .into_iter()
                .filter_map(|k| SeatKind::try_from(k).ok())
                .collect(),
        })
        .collect();
    let q = composition::quorum(voting_total, &present, share, &required);
    Ok(QuorumReport {
        meeting: meetings::name(meeting.id),
        met: q.met,
        voting_present: q.voting_present,
        voting_total,
        required_share: share,
        missing_kinds: q.missing.into_iter().map(|k| k as i32).collect(),
    })
}
