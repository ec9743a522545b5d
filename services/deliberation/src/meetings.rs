//! Meetings (议事会议): GetMeeting, ListMeetings, CreateMeeting,
//! UpdateMeeting, StartMeeting, EndMeeting, CancelMeeting. SCHEDULED →
//! IN_PROGRESS → ENDED, or SCHEDULED → CANCELLED. Sign-in and the quorum
//! are in [`crate::attendance`].

use chrono::{DateTime, Utc};
use cogov_kit::auth::Principal;
use cogov_kit::fieldmask::{Fields, Input, UpdateMask};
use cogov_kit::filter::{Field, Kind};
use cogov_kit::idempotency::{self, Key};
use cogov_kit::json::{from_json, to_json};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::store::Versioned;
use cogov_kit::validate::{Check, read_id, required};
use cogov_kit::{Error, Result, convert, etag, names};
use cogov_proto::deliberation::*;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::access::Caller;
use crate::entity::meetings::{self as rows, Column, Entity, Model};
use crate::entity::topics;
use crate::{Deliberation, councils};

pub(crate) const COLLECTION: &str = "meetings";
pub(crate) const VERSIONED: Versioned<Column> = Versioned {
    id: Column::Id,
    revision: Column::Revision,
    update_time: Some(Column::UpdateTime),
};
const SCHEDULE_FIELDS: &[&str] = &[
    "title",
    "mode",
    "location",
    "online_url",
    "start_time",
    "end_time",
    "agenda",
    "quorum",
];

/// `meetings/{id}`.
pub fn name(id: Uuid) -> String {
    names::format(COLLECTION, id)
}

/// A meeting's state.
pub fn state_of(m: &Model) -> MeetingState {
    MeetingState::try_from(m.state).unwrap_or_default()
}

/// A quorum as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredQuorum {
    /// Share of voting seats.
    pub share: f64,
    /// SeatKind numbers that must be present.
    pub kinds: Vec<i32>,
}

/// The quorum a meeting needs: its own, or the council's default.
pub fn quorum_of(m: &Model, council: &councils::Model) -> (f64, Vec<SeatKind>) {
    match serde_json::from_str::<StoredQuorum>(&m.quorum) {
        Ok(q) => (
            q.share,
            q.kinds
                .into_iter()
                .filter_map(|k| SeatKind::try_from(k).ok())
                .collect(),
        ),
        Err(_) => (council.quorum_share, councils::required_kinds(council)),
    }
}

fn to_proto(m: &Model, council: &councils::Model) -> Meeting {
    let (share, kinds) = quorum_of(m, council);
    Meeting {
        name: name(m.id),
        council: councils::name(m.council_id),
        title: m.title.clone(),
        mode: m.mode,
        location: m.location.clone(),
        online_url: m.online_url.clone(),
        start_time: Some(convert::timestamp(m.start_time)),
        end_time: convert::opt_timestamp(m.end_time),
        agenda: from_json::<Uuid>(&m.agenda)
            .into_iter()
            .map(crate::topics::name)
            .collect(),
        quorum: Some(QuorumPolicy {
            share,
            required_kinds: kinds.into_iter().map(|k| k as i32).collect(),
        }),
        state: m.state,
        minutes: m.minutes.clone(),
        attendance_count: m.attendance_count,
        create_time: Some(convert::timestamp(m.create_time)),
        update_time: Some(convert::timestamp(m.update_time)),
        etag: etag::format(m.revision),
    }
}

/// Loads a meeting of a council the caller sees.
pub async fn visible<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    field: &str,
    value: &str,
) -> Result<(councils::Model, Model)> {
    let id = read_id(field, value, COLLECTION)?;
    if let Some(m) = Entity::find_by_id(id).one(conn).await?
        && let Ok(council) = councils::visible(conn, caller, m.council_id).await
    {
        return Ok((council, m));
    }
    Err(caller.scope.missing("Meeting", &name(id)))
}

struct Checked {
    council: Uuid,
    mode: MeetingMode,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    agenda: Vec<Uuid>,
    quorum: String,
}

/// The schedule (`SCHEDULE_FIELDS`) and the minutes.
const FIELDS: Fields<Input<Meeting, Checked>, rows::ActiveModel> = Fields::new(&[
    ("title", |am, i| am.title = Set(i.sent.title.clone())),
    ("mode", |am, i| am.mode = Set(i.checked.mode as i32)),
    ("location", |am, i| {
        am.location = Set(i.sent.location.clone())
    }),
    ("online_url", |am, i| {
        am.online_url = Set(i.sent.online_url.clone())
    }),
    ("start_time", |am, i| {
        am.start_time = Set(i.checked.start.expect("checked"))
    }),
    ("end_time", |am, i| am.end_time = Set(i.checked.end)),
    ("agenda", |am, i| {
        am.agenda = Set(to_json(&i.checked.agenda))
    }),
    ("quorum", |am, i| am.quorum = Set(i.checked.quorum.clone())),
    ("minutes", |am, i| am.minutes = Set(i.sent.minutes.clone())),
]);

fn check(c: &mut Check, m: &Meeting, mask: Option<&UpdateMask>) -> Checked {
    let want = |f: &str| mask.is_none_or(|k| k.has(f));
    if want("title") {
        c.line("meeting.title", &m.title, 1, 200);
    }
    let mode = if want("mode") {
        c.enumeration("meeting.mode", m.mode, true)
    } else {
        MeetingMode::Unspecified
    };
    if want("location") {
        c.line("meeting.location", &m.location, 0, 200);
    }
    if want("online_url") && !m.online_url.is_empty() {
        let ok = (m.online_url.starts_with("https://") || m.online_url.starts_with("http://"))
            && m.online_url.len() <= 2000
            && !m.online_url.chars().any(char::is_whitespace);
        if !ok {
            c.add("meeting.online_url", "must be an http(s) URL");
        }
    }
    if want("minutes") {
        c.text("meeting.minutes", &m.minutes, 0, 20_000);
    }
    let start = if want("start_time") {
        match m.start_time.as_ref().and_then(convert::from_timestamp) {
            Some(t) => Some(t),
            None => {
                c.add("meeting.start_time", "is required");
                None
            }
        }
    } else {
        None
    };
    let end = if want("end_time") {
        m.end_time.as_ref().and_then(convert::from_timestamp)
    } else {
        None
    };
    let mut agenda = Vec::new();
    if want("agenda") {
        if m.agenda.len() > 50 {
            c.add("meeting.agenda", "at most 50 topics");
        }
        for (i, t) in m.agenda.iter().enumerate() {
            let id = c.name(
                &format!("meeting.agenda[{i}]"),
                t,
                crate::topics::COLLECTION,
            );
            if agenda.contains(&id) {
                c.add(format!("meeting.agenda[{i}]"), "listed twice");
            }
            agenda.push(id);
        }
    }
    let quorum = match (&m.quorum, want("quorum")) {
        (Some(q), true) => {
            if !(0.0..=1.0).contains(&q.share) {
                c.add("meeting.quorum.share", "must be between 0 and 1");
            }
            let kinds =
                councils::check_kinds(c, "meeting.quorum.required_kinds", &q.required_kinds);
            serde_json::to_string(&StoredQuorum {
                share: q.share,
                kinds,
            })
            .expect("quorum serialises")
        }
        _ => String::new(),
    };
    Checked {
        council: if mask.is_none() {
            c.name("meeting.council", &m.council, councils::COLLECTION)
        } else {
            Uuid::nil()
        },
        mode,
        start,
        end,
        agenda,
        quorum,
    }
}

/// Mode-dependent requirements, on the meeting as it will be.
fn check_mode(
    mode: MeetingMode,
    location: &str,
    online_url: &str,
    start: DateTime<Utc>,
    end: Option<DateTime<Utc>>,
) -> Result<()> {
    let mut c = Check::new();
    if matches!(mode, MeetingMode::Offline | MeetingMode::Hybrid) && location.trim().is_empty() {
        c.add(
            "meeting.location",
            "an offline or hybrid meeting needs a place",
        );
    }
    if matches!(mode, MeetingMode::Online | MeetingMode::Hybrid) && online_url.is_empty() {
        c.add(
            "meeting.online_url",
            "an online or hybrid meeting needs a link",
        );
    }
    if end.is_some_and(|e| e <= start) {
        c.add("meeting.end_time", "must be after start_time");
    }
    c.finish()
}

/// Agenda topics must be the council's.
async fn check_agenda<C: ConnectionTrait>(conn: &C, council: Uuid, agenda: &[Uuid]) -> Result<()> {
    if agenda.is_empty() {
        return Ok(());
    }
    let found: Vec<Uuid> = topics::Entity::find()
        .filter(topics::Column::Id.is_in(agenda.iter().copied()))
        .filter(topics::Column::CouncilId.eq(council))
        .all(conn)
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    match agenda.iter().position(|t| !found.contains(t)) {
        Some(i) => Err(Error::invalid(
            format!("meeting.agenda[{i}]"),
            "no such topic in this council",
        )),
        None => Ok(()),
    }
}

/// GetMeeting.
pub async fn get(svc: &Deliberation, caller: &Caller, req: GetMeetingRequest) -> Result<Meeting> {
    let (council, m) = visible(svc.ctx.db.read(), caller, "name", &req.name).await?;
    Ok(to_proto(&m, &council))
}

/// ListMeetings: latest first by default.
pub async fn list(
    svc: &Deliberation,
    caller: &Caller,
    req: ListMeetingsRequest,
) -> Result<ListMeetingsResponse> {
    let fields = [
        Field::column(
            "council",
            Column::CouncilId,
            Kind::Name(councils::COLLECTION),
        ),
        Field::column(
            "state",
            Column::State,
            Kind::Enum(
                |s| MeetingState::from_str_name(s).map(|v| v as i32),
                "MEETING_STATE_",
            ),
        ),
        Field::column("start_time", Column::StartTime, Kind::Timestamp),
    ];
    let order_by = if req.order_by.trim().is_empty() {
        "start_time desc"
    } else {
        req.order_by.as_str()
    };
    let query = ListQuery::new(
        "ListMeetings",
        req.page_size,
        &req.page_token,
        &req.filter,
        order_by,
    );
    let spec = Spec::new(&fields, &[("start_time", Column::StartTime)], Column::Id);
    let conn = svc.ctx.db.read();
    let mut base = Entity::find();
    if let Some(cond) = caller.council_condition(svc, Column::CouncilId).await? {
        base = base.filter(cond);
    }
    let (rows, next_page_token) =
        listing::list(&svc.ctx.tokens, &svc.ctx.db, query, spec, base, |m| {
            (SortKey::Time(m.start_time), m.id)
        })
        .await?;
    let mut meetings = Vec::with_capacity(rows.len());
    let mut cache: Vec<councils::Model> = Vec::new();
    for m in &rows {
        let council = match cache.iter().find(|c| c.id == m.council_id) {
            Some(c) => c.clone(),
            None => {
                let c = councils::Entity::find_by_id(m.council_id)
                    .one(conn)
                    .await?
                    .ok_or_else(|| Error::Internal("meeting without council".into()))?;
                cache.push(c.clone());
                c
            }
        };
        meetings.push(to_proto(m, &council));
    }
    Ok(ListMeetingsResponse {
        meetings,
        next_page_token,
    })
}

/// CreateMeeting: the council's secretary or staff.
pub async fn create(
    svc: &Deliberation,
    caller: &Caller,
    principal: &Principal,
    req: CreateMeetingRequest,
) -> Result<Meeting> {
    let key = Key::new("CreateMeeting", &req.request_id, principal, &req);
    let m = required("meeting", req.meeting)?;
    let mut c = Check::new();
    let checked = check(&mut c, &m, None);
    c.request_id(&req.request_id);
    c.finish()?;
    let start = checked.start.expect("checked");
    check_mode(checked.mode, &m.location, &m.online_url, start, checked.end)?;
    let conn = svc.ctx.db.read();
    let council = councils::visible(conn, caller, checked.council).await?;
    caller.require_manager(&council, "schedule meetings")?;
    check_agenda(conn, council.id, &checked.agenda).await?;
    let now = svc.ctx.clock.now();
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        let row = rows::ActiveModel {
            id: Set(names::new_id()),
            council_id: Set(council.id),
            title: Set(m.title),
            mode: Set(checked.mode as i32),
            location: Set(m.location),
            online_url: Set(m.online_url),
            start_time: Set(start),
            end_time: Set(checked.end),
            agenda: Set(to_json(&checked.agenda)),
            quorum: Set(checked.quorum),
            state: Set(MeetingState::Scheduled as i32),
            minutes: Set(m.minutes),
            attendance_count: Set(0),
            revision: Set(1),
            create_time: Set(now),
            update_time: Set(now),
        }
        .insert(txn)
        .await?;
        Ok(to_proto(&row, &council))
    })
    .await
}

/// UpdateMeeting: the schedule while SCHEDULED; the minutes until it is
/// cancelled.
pub async fn update(
    svc: &Deliberation,
    caller: &Caller,
    req: UpdateMeetingRequest,
) -> Result<Meeting> {
    let m = required("meeting", req.meeting)?;
    // The name before the mask, so a wrong name is what the caller hears of.
    read_id("meeting.name", &m.name, COLLECTION)?;
    let mask = FIELDS.mask(req.update_mask.as_ref())?;
    let mut c = Check::new();
    let checked = check(&mut c, &m, Some(&mask));
    c.finish()?;
    let txn = svc.ctx.db.begin_write().await?;
    let (council, row) = visible(&txn, caller, "meeting.name", &m.name).await?;
    caller.require_manager(&council, "change meetings")?;
    let mut edit = VERSIONED.edit(row, &m.etag, &m.name, svc.ctx.clock.now())?;
    let state = state_of(&edit.before);
    let reschedules = SCHEDULE_FIELDS.iter().any(|f| mask.has(f));
    if (reschedules && state != MeetingState::Scheduled) || state == MeetingState::Cancelled {
        return Err(Error::illegal_transition(
            name(edit.before.id),
            state.as_str_name().trim_start_matches("MEETING_STATE_"),
            "changed so",
        ));
    }
    if mask.has("agenda") {
        check_agenda(&txn, council.id, &checked.agenda).await?;
    }
    edit.apply(&FIELDS, &mask, &Input { sent: m, checked });
    if reschedules {
        // The schedule as it will be, whichever fields the mask moved.
        let after = &edit.changes;
        check_mode(
            MeetingMode::try_from(*after.mode.as_ref()).unwrap_or_default(),
            after.location.as_ref(),
            after.online_url.as_ref(),
            *after.start_time.as_ref(),
            *after.end_time.as_ref(),
        )?;
    }
    let saved = edit.save(&txn).await?;
    txn.commit().await?;
    Ok(to_proto(&saved, &council))
}

/// A step of the meeting state machine.
struct Move {
    from: MeetingState,
    to: MeetingState,
    verb: &'static str,
}

const START: Move = Move {
    from: MeetingState::Scheduled,
    to: MeetingState::InProgress,
    verb: "started",
};
const END: Move = Move {
    from: MeetingState::InProgress,
    to: MeetingState::Ended,
    verb: "ended",
};
const CANCEL: Move = Move {
    from: MeetingState::Scheduled,
    to: MeetingState::Cancelled,
    verb: "cancelled",
};

async fn step(
    svc: &Deliberation,
    caller: &Caller,
    meeting: &str,
    etag_in: &str,
    Move { from, to, verb }: Move,
    note: Option<String>,
) -> Result<Meeting> {
    let txn = svc.ctx.db.begin_write().await?;
    let (council, row) = visible(&txn, caller, "name", meeting).await?;
    caller.require_manager(&council, "run meetings")?;
    let now = svc.ctx.clock.now();
    let mut edit = VERSIONED.edit(row.clone(), etag_in, meeting, now)?;
    let state = state_of(&row);
    if state != from {
        return Err(Error::illegal_transition(
            name(row.id),
            state.as_str_name().trim_start_matches("MEETING_STATE_"),
            verb,
        ));
    }
    let am = &mut edit.changes;
    am.state = Set(to as i32);
    // The record keeps when it actually sat.
    match to {
        MeetingState::InProgress => {
            am.start_time = Set(now);
            am.end_time = Set(None);
        }
        MeetingState::Ended => am.end_time = Set(Some(now)),
        _ => {}
    }
    if let Some(note) = note.filter(|n| !n.is_empty()) {
        am.minutes = Set(format!("Cancelled: {note}"));
    }
    let saved = edit.save(&txn).await?;
    txn.commit().await?;
    Ok(to_proto(&saved, &council))
}

/// StartMeeting: sign-in opens.
pub async fn start(
    svc: &Deliberation,
    caller: &Caller,
    req: StartMeetingRequest,
) -> Result<Meeting> {
    step(svc, caller, &req.name, &req.etag, START, None).await
}

/// EndMeeting.
pub async fn end(svc: &Deliberation, caller: &Caller, req: EndMeetingRequest) -> Result<Meeting> {
    step(svc, caller, &req.name, &req.etag, END, None).await
}

/// CancelMeeting; the reason goes into the minutes.
pub async fn cancel(
    svc: &Deliberation,
    caller: &Caller,
    req: CancelMeetingRequest,
) -> Result<Meeting> {
    let mut c = Check::new();
    c.text("reason", &req.reason, 0, 500);
    c.finish()?;
    step(svc, caller, &req.name, &req.etag, CANCEL, Some(req.reason)).await
}
