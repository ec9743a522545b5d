//! Activities (主题活动): GetActivity, ListActivities, CreateActivity,
//! UpdateActivity, DeleteActivity, PublishActivity, StartActivity,
//! CompleteActivity, CancelActivity.
//!
//! DRAFT → PUBLISHED → ONGOING → COMPLETED; DRAFT | PUBLISHED | ONGOING →
//! CANCELLED. Completing creates pending service records for attendees who
//! checked in and did not check out; cancelling cancels every sign-up.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use cogov_kit::auth::Principal;
use cogov_kit::events::{NewEvent, outbox};
use cogov_kit::fieldmask::{Fields, Input, UpdateMask};
use cogov_kit::filter::{Field, Kind, Op};
use cogov_kit::idempotency::{self, Key};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::scope::Scope;
use cogov_kit::store::Versioned;
use cogov_kit::validate::Check;
use cogov_kit::write::Write;
use cogov_kit::{Error, Result, convert, etag, names};
use cogov_proto::volunteers::*;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::entity::activities::{self as rows, Column, Entity, Model};
use crate::entity::{co_organizers, service_records, signups, teams};
use crate::{Volunteers, access, hours, lists, read_id, required, training};

pub(crate) const COLLECTION: &str = "activities";
pub(crate) const VERSIONED: Versioned<Column> = Versioned {
    id: Column::Id,
    revision: Column::Revision,
    update_time: Some(Column::UpdateTime),
};
const FIELDS: Fields<Input<Activity, Checked>, rows::ActiveModel> = Fields::new(&[
    ("title", |am, i| am.title = Set(i.sent.title.clone())),
    ("theme", |am, i| am.theme = Set(i.sent.theme.clone())),
    ("description", |am, i| {
        am.description = Set(i.sent.description.clone())
    }),
    ("courtyard", |am, i| {
        am.courtyard_id = Set(i.checked.courtyard)
    }),
    // Co-organisers are rows of their own, written by `write_co`.
    ("co_organizers", |_, _| {}),
    ("shared_resource", |am, i| {
        am.shared_resource = Set(i.sent.shared_resource.clone())
    }),
    ("start_time", |am, i| {
        am.start_time = Set(i.checked.start.expect("checked"))
    }),
    ("end_time", |am, i| {
        am.end_time = Set(i.checked.end.expect("checked"))
    }),
    ("capacity", |am, i| am.capacity = Set(i.sent.capacity)),
    ("waitlist_capacity", |am, i| {
        am.waitlist_capacity = Set(i.sent.waitlist_capacity)
    }),
    ("required_skills", |am, i| {
        am.required_skills = Set(lists::to_json(&i.checked.skills))
    }),
    ("required_certifications", |am, i| {
        am.required_certifications = Set(lists::ids_json(&i.checked.certifications))
    }),
]);

pub(crate) fn name(id: Uuid) -> String {
    names::format(COLLECTION, id)
}

pub(crate) fn state_of(m: &Model) -> ActivityState {
    ActivityState::try_from(m.state).unwrap_or_default()
}

fn to_proto(m: &Model, co: &[Uuid]) -> Activity {
    Activity {
        name: name(m.id),
        title: m.title.clone(),
        theme: m.theme.clone(),
        description: m.description.clone(),
        community: names::format("communities", m.community_id),
        courtyard: m
            .courtyard_id
            .map(|c| names::format("courtyards", c))
            .unwrap_or_default(),
        organizing_team: m
            .organizing_team_id
            .map(|t| names::format("teams", t))
            .unwrap_or_default(),
        organizing_organization: m
            .organizing_organization_id
            .map(|o| names::format("organizations", o))
            .unwrap_or_default(),
        co_organizers: co
            .iter()
            .map(|o| names::format("organizations", *o))
            .collect(),
        shared_resource: m.shared_resource.clone(),
        start_time: Some(convert::timestamp(m.start_time)),
        end_time: Some(convert::timestamp(m.end_time)),
        capacity: m.capacity,
        waitlist_capacity: m.waitlist_capacity,
        required_skills: lists::from_json(&m.required_skills),
        required_certifications: lists::ids(&m.required_certifications)
            .into_iter()
            .map(|c| names::format("courses", c))
            .collect(),
        state: m.state,
        confirmed_count: m.confirmed_count,
        waitlist_count: m.waitlist_count,
        cancel_reason: m.cancel_reason.clone(),
        create_time: Some(convert::timestamp(m.create_time)),
        update_time: Some(convert::timestamp(m.update_time)),
        etag: etag::format(m.revision),
    }
}

async fn co_of<C: ConnectionTrait>(conn: &C, ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<Uuid>>> {
    let mut out: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    for row in co_organizers::Entity::find()
        .filter(co_organizers::Column::ActivityId.is_in(ids.iter().copied()))
        .order_by_asc(co_organizers::Column::Position)
        .all(conn)
        .await?
    {
        out.entry(row.activity_id)
            .or_default()
            .push(row.organization_id);
    }
    Ok(out)
}

/// Renders one activity.
pub async fn render<C: ConnectionTrait>(conn: &C, m: &Model) -> Result<Activity> {
    let co = co_of(conn, &[m.id]).await?;
    Ok(to_proto(m, co.get(&m.id).map_or(&[][..], Vec::as_slice)))
}

/// Loads an activity the caller may see.
pub async fn get_visible<C: ConnectionTrait>(conn: &C, scope: &Scope, id: Uuid) -> Result<Model> {
    if let Some(m) = Entity::find_by_id(id).one(conn).await? {
        let co = match scope.partner() {
            Some(org) => co_organizers::Entity::find_by_id((id, org))
                .one(conn)
                .await?
                .is_some(),
            None => false,
        };
        if access::sees_activity(scope, &m, co) {
            return Ok(m);
        }
    }
    Err(scope.missing("Activity", &name(id)))
}

/// Loads an activity the caller manages.
async fn get_managed<C: ConnectionTrait>(conn: &C, scope: &Scope, id: Uuid) -> Result<Model> {
    let m = get_visible(conn, scope, id).await?;
    if !access::manages_activity(scope, &m) {
        return Err(Error::forbidden(format!("manage {}", name(id))));
    }
    Ok(m)
}

struct Checked {
    community: Uuid,
    courtyard: Option<Uuid>,
    team: Option<Uuid>,
    organization: Option<Uuid>,
    co: Vec<Uuid>,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    skills: Vec<String>,
    certifications: Vec<Uuid>,
}

fn check(c: &mut Check, a: &Activity, mask: Option<&UpdateMask>) -> Checked {
    let want = |f: &str| mask.is_none_or(|m| m.has(f));
    if want("title") {
        c.line("activity.title", &a.title, 1, 200);
    }
    if want("theme") {
        c.line("activity.theme", &a.theme, 0, 100);
    }
    if want("description") {
        c.text("activity.description", &a.description, 0, 4000);
    }
    if want("capacity") {
        c.range("activity.capacity", a.capacity.into(), 1, 10_000);
    }
    if want("waitlist_capacity") {
        c.range(
            "activity.waitlist_capacity",
            a.waitlist_capacity.into(),
            0,
            10_000,
        );
    }
    if want("shared_resource") {
        c.optional_name(
            "activity.shared_resource",
            &a.shared_resource,
            "sharedResources",
        );
    }
    let mut co = Vec::new();
    if want("co_organizers") {
        if a.co_organizers.len() > 20 {
            c.add("activity.co_organizers", "at most 20 co-organisers");
        }
        for (i, o) in a.co_organizers.iter().enumerate() {
            let id = c.name(&format!("activity.co_organizers[{i}]"), o, "organizations");
            if co.contains(&id) {
                c.add(format!("activity.co_organizers[{i}]"), "is listed twice");
            }
            co.push(id);
        }
    }
    let time = |c: &mut Check, field: &str, t: Option<&prost_types::Timestamp>| match t
        .map(convert::from_timestamp)
    {
        Some(Some(t)) => Some(t),
        Some(None) => {
            c.add(field, "out of range");
            None
        }
        None => {
            c.add(field, "is required");
            None
        }
    };
    let start = if want("start_time") {
        time(c, "activity.start_time", a.start_time.as_ref())
    } else {
        None
    };
    let end = if want("end_time") {
        time(c, "activity.end_time", a.end_time.as_ref())
    } else {
        None
    };
    let mut certifications = Vec::new();
    if want("required_certifications") {
        for (i, course) in a.required_certifications.iter().enumerate() {
            certifications.push(c.name(
                &format!("activity.required_certifications[{i}]"),
                course,
                "courses",
            ));
        }
    }
    Checked {
        community: if mask.is_none() {
            c.name("activity.community", &a.community, "communities")
        } else {
            Uuid::nil()
        },
        courtyard: if want("courtyard") {
            c.optional_name("activity.courtyard", &a.courtyard, "courtyards")
        } else {
            None
        },
        team: if mask.is_none() {
            c.optional_name("activity.organizing_team", &a.organizing_team, "teams")
        } else {
            None
        },
        organization: if mask.is_none() {
            c.optional_name(
                "activity.organizing_organization",
                &a.organizing_organization,
                "organizations",
            )
        } else {
            None
        },
        co,
        start,
        end,
        skills: if want("required_skills") {
            lists::check_skills(c, "activity.required_skills", &a.required_skills)
        } else {
            Vec::new()
        },
        certifications,
    }
}

fn check_window(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<()> {
    if end <= start {
        return Err(Error::invalid(
            "activity.end_time",
            "must be after start_time",
        ));
    }
    if end - start > Duration::days(7) {
        return Err(Error::invalid(
            "activity.end_time",
            "an activity lasts at most 7 days",
        ));
    }
    Ok(())
}

/// Checks references that live in other places (courtyard, organisations,
/// teams, courses).
async fn check_references<C: ConnectionTrait>(
    svc: &Volunteers,
    conn: &C,
    checked: &Checked,
    community: Uuid,
) -> Result<()> {
    if let Some(courtyard) = checked.courtyard {
        match svc.directory.courtyard(courtyard).await? {
            Some(y) if y.community == community => {}
            Some(_) => {
                return Err(Error::invalid(
                    "activity.courtyard",
                    "is not in activity.community",
                ));
            }
            None => {
                return Err(Error::invalid(
                    "activity.courtyard",
                    format!("courtyards/{courtyard} does not exist"),
                ));
            }
        }
    }
    if let Some(team) = checked.team
        && teams::Entity::find_by_id(team).one(conn).await?.is_none()
    {
        return Err(Error::invalid(
            "activity.organizing_team",
            format!("teams/{team} does not exist"),
        ));
    }
    for (field, org) in checked
        .organization
        .iter()
        .map(|o| ("activity.organizing_organization".to_owned(), *o))
        .chain(
            checked
                .co
                .iter()
                .enumerate()
                .map(|(i, o)| (format!("activity.co_organizers[{i}]"), *o)),
        )
    {
        if svc.directory.organization(org).await?.is_none() {
            return Err(Error::invalid(
                &field,
                format!("organizations/{org} does not exist"),
            ));
        }
    }
    for (i, course) in checked.certifications.iter().enumerate() {
        training::reference(
            conn,
            &format!("activity.required_certifications[{i}]"),
            *course,
        )
        .await?;
    }
    Ok(())
}

async fn write_co<C: ConnectionTrait>(conn: &C, activity: Uuid, co: &[Uuid]) -> Result<()> {
    co_organizers::Entity::delete_many()
        .filter(co_organizers::Column::ActivityId.eq(activity))
        .exec(conn)
        .await?;
    if !co.is_empty() {
        let rows: Vec<co_organizers::ActiveModel> = co
            .iter()
            .enumerate()
            .map(|(i, o)| co_organizers::ActiveModel {
                activity_id: Set(activity),
                organization_id: Set(*o),
                position: Set(i as i32),
            })
            .collect();
        co_organizers::Entity::insert_many(rows)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// GetActivity.
pub async fn get(svc: &Volunteers, scope: &Scope, req: GetActivityRequest) -> Result<Activity> {
    let id = read_id("name", &req.name, COLLECTION)?;
    let conn = svc.ctx.db.read();
    render(conn, &get_visible(conn, scope, id).await?).await
}

/// ListActivities: by start time (soonest first by default).
pub async fn list(
    svc: &Volunteers,
    scope: &Scope,
    req: ListActivitiesRequest,
) -> Result<ListActivitiesResponse> {
    let fields = [
        Field::column("community", Column::CommunityId, Kind::Name("communities")),
        Field::column("courtyard", Column::CourtyardId, Kind::Name("courtyards")),
        Field::column(
            "state",
            Column::State,
            Kind::Enum(
                |s| ActivityState::from_str_name(s).map(|v| v as i32),
                "ACTIVITY_STATE_",
            ),
        ),
        Field::column(
            "organizing_team",
            Column::OrganizingTeamId,
            Kind::Name("teams"),
        ),
        Field::custom("co_organizer", |op, value| {
            let org = names::parse("organizations", value)
                .ok_or("expected an `organizations/{id}` name")?;
            let sub = Query::select()
                .column(co_organizers::Column::ActivityId)
                .from(co_organizers::Entity)
                .and_where(co_organizers::Column::OrganizationId.eq(org))
                .to_owned();
            match op {
                Op::Eq | Op::Has => Ok(Column::Id.in_subquery(sub)),
                Op::Ne => Ok(Column::Id.not_in_subquery(sub)),
                _ => Err("only `=`, `!=` and `:` apply".into()),
            }
        }),
        Field::column("theme", Column::Theme, Kind::Text),
        Field::column("start_time", Column::StartTime, Kind::Timestamp),
    ];
    let order_by = if req.order_by.trim().is_empty() {
        "start_time"
    } else {
        req.order_by.as_str()
    };
    let query = ListQuery::new(
        "ListActivities",
        req.page_size,
        &req.page_token,
        &req.filter,
        order_by,
    );
    let spec = Spec::new(&fields, &[("start_time", Column::StartTime)], Column::Id);
    let conn = svc.ctx.db.read();
    let base = Entity::find().filter(access::activity_condition(scope));
    let (rows, next_page_token) =
        listing::list(&svc.ctx.tokens, &svc.ctx.db, query, spec, base, |m| {
            (SortKey::Time(m.start_time), m.id)
        })
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|m| m.id).collect();
    let co = co_of(conn, &ids).await?;
    Ok(ListActivitiesResponse {
        activities: rows
            .iter()
            .map(|m| to_proto(m, co.get(&m.id).map_or(&[][..], Vec::as_slice)))
            .collect(),
        next_page_token,
    })
}

/// CreateActivity, as a DRAFT.
pub async fn create(
    svc: &Volunteers,
    scope: &Scope,
    principal: &Principal,
    req: CreateActivityRequest,
) -> Result<Activity> {
    let key = Key::new("CreateActivity", &req.request_id, principal, &req);
    let a = required("activity", req.activity)?;
    let mut c = Check::new();
    let checked = check(&mut c, &a, None);
    c.request_id(&req.request_id);
    c.finish()?;
    let (start, end) = (
        checked.start.expect("checked"),
        checked.end.expect("checked"),
    );
    check_window(start, end)?;
    match scope {
        Scope::Partner {
            organization,
            reach,
        } => {
            if checked.organization != Some(*organization) {
                return Err(Error::forbidden(
                    "organise activities for another organisation",
                ));
            }
            if !reach.covers(Some(checked.community), checked.courtyard) {
                return Err(Error::out_of_reach(&a.community));
            }
        }
        Scope::Resident { .. } => return Err(Error::forbidden("organise activities")),
        staff => staff.require_staff(checked.community, &a.community)?,
    }
    check_references(svc, svc.ctx.db.read(), &checked, checked.community).await?;
    let now = svc.ctx.clock.now();
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        let id = names::new_id();
        let row = rows::ActiveModel {
            id: Set(id),
            title: Set(a.title),
            theme: Set(a.theme),
            description: Set(a.description),
            community_id: Set(checked.community),
            courtyard_id: Set(checked.courtyard),
            organizing_team_id: Set(checked.team),
            organizing_organization_id: Set(checked.organization),
            shared_resource: Set(a.shared_resource),
            start_time: Set(start),
            end_time: Set(end),
            capacity: Set(a.capacity),
            waitlist_capacity: Set(a.waitlist_capacity),
            required_skills: Set(lists::to_json(&checked.skills)),
            required_certifications: Set(lists::ids_json(&checked.certifications)),
            state: Set(ActivityState::Draft as i32),
            confirmed_count: Set(0),
            waitlist_count: Set(0),
            waitlist_seq: Set(0),
            cancel_reason: Set(String::new()),
            revision: Set(1),
            create_time: Set(now),
            update_time: Set(now),
        }
        .insert(txn)
        .await?;
        write_co(txn, id, &checked.co).await?;
        render(txn, &row).await
    })
    .await
}

/// UpdateActivity. Capacity never drops below the confirmed sign-ups.
pub async fn update(
    svc: &Volunteers,
    scope: &Scope,
    req: UpdateActivityRequest,
) -> Result<Activity> {
    let a = required("activity", req.activity)?;
    let id = read_id("activity.name", &a.name, COLLECTION)?;
    let mask = FIELDS.mask(req.update_mask.as_ref())?;
    let mut c = Check::new();
    let checked = check(&mut c, &a, Some(&mask));
    c.finish()?;
    let txn = svc.ctx.db.begin_write().await?;
    let row = get_managed(&txn, scope, id).await?;
    let mut edit = VERSIONED.edit(row, &a.etag, &name(id), svc.ctx.clock.now())?;
    let row = edit.before.clone();
    if matches!(
        state_of(&row),
        ActivityState::Completed | ActivityState::Cancelled
    ) {
        return Err(Error::illegal_transition(
            name(id),
            state_of(&row)
                .as_str_name()
                .trim_start_matches("ACTIVITY_STATE_"),
            "changed",
        ));
    }
    check_references(svc, &txn, &checked, row.community_id).await?;
    if mask.has("capacity") && a.capacity < row.confirmed_count {
        return Err(Error::invalid(
            "activity.capacity",
            format!(
                "{} volunteers are confirmed; cancel sign-ups first",
                row.confirmed_count
            ),
        ));
    }
    if mask.has("waitlist_capacity") && a.waitlist_capacity < row.waitlist_count {
        return Err(Error::invalid(
            "activity.waitlist_capacity",
            format!("{} volunteers are waiting", row.waitlist_count),
        ));
    }
    if mask.has("co_organizers") {
        write_co(&txn, id, &checked.co).await?;
    }
    edit.apply(&FIELDS, &mask, &Input { sent: a, checked });
    let (start, end) = (
        *edit.changes.start_time.as_ref(),
        *edit.changes.end_time.as_ref(),
    );
    check_window(start, end)?;
    if start != row.start_time || end != row.end_time {
        // Sign-ups carry the window for the overlap check.
        signups::Entity::update_many()
            .col_expr(signups::Column::StartTime, Expr::value(start))
            .col_expr(signups::Column::EndTime, Expr::value(end))
            .filter(signups::Column::ActivityId.eq(id))
            .exec(&txn)
            .await?;
    }
    let saved = edit.save(&txn).await?;
    let out = render(&txn, &saved).await?;
    txn.commit().await?;
    Ok(out)
}

/// DeleteActivity: drafts only.
pub async fn delete(svc: &Volunteers, scope: &Scope, req: DeleteActivityRequest) -> Result<()> {
    let id = read_id("name", &req.name, COLLECTION)?;
    let txn = svc.ctx.db.begin_write().await?;
    let row = get_managed(&txn, scope, id).await?;
    etag::check(&req.etag, row.revision, &name(id))?;
    if state_of(&row) != ActivityState::Draft {
        return Err(Error::illegal_transition(
            name(id),
            state_of(&row)
                .as_str_name()
                .trim_start_matches("ACTIVITY_STATE_"),
            "deleted; cancel it",
        ));
    }
    VERSIONED
        .delete::<Entity, _>(&txn, id, row.revision, &name(id))
        .await?;
    txn.commit().await?;
    Ok(())
}

/// Loads the activity for a lifecycle step from one of `from`.
async fn step(
    svc: &Volunteers,
    scope: &Scope,
    id: Uuid,
    etag_in: &str,
    from: &[ActivityState],
    verb: &str,
) -> Result<(Write, Model)> {
    let txn = svc.ctx.db.begin_write().await?;
    let row = get_managed(&txn, scope, id).await?;
    etag::check(etag_in, row.revision, &name(id))?;
    if !from.contains(&state_of(&row)) {
        return Err(Error::illegal_transition(
            name(id),
            state_of(&row)
                .as_str_name()
                .trim_start_matches("ACTIVITY_STATE_"),
            verb,
        ));
    }
    Ok((txn, row))
}

async fn finish(
    svc: &Volunteers,
    txn: Write,
    row: Model,
    to: ActivityState,
    reason: Option<String>,
) -> Result<Activity> {
    let mut edit = VERSIONED.edit(row.clone(), "", &name(row.id), svc.ctx.clock.now())?;
    let am = &mut edit.changes;
    am.state = Set(to as i32);
    if let Some(reason) = reason {
        am.cancel_reason = Set(reason);
    }
    let saved = edit.save(&txn).await?;
    let out = render(&txn, &saved).await?;
    txn.commit().await?;
    Ok(out)
}

/// PublishActivity.
pub async fn publish(
    svc: &Volunteers,
    scope: &Scope,
    req: PublishActivityRequest,
) -> Result<Activity> {
    let (txn, row) = step(
        svc,
        scope,
        read_id("name", &req.name, COLLECTION)?,
        &req.etag,
        &[ActivityState::Draft],
        "published",
    )
    .await?;
    finish(svc, txn, row, ActivityState::Published, None).await
}

/// StartActivity.
pub async fn start(svc: &Volunteers, scope: &Scope, req: StartActivityRequest) -> Result<Activity> {
    let (txn, row) = step(
        svc,
        scope,
        read_id("name", &req.name, COLLECTION)?,
        &req.etag,
        &[ActivityState::Published],
        "started",
    )
    .await?;
    finish(svc, txn, row, ActivityState::Ongoing, None).await
}

/// CompleteActivity: pending service records for checked-in attendees
/// who did not check out.
pub async fn complete(
    svc: &Volunteers,
    scope: &Scope,
    req: CompleteActivityRequest,
) -> Result<Activity> {
    let (txn, row) = step(
        svc,
        scope,
        read_id("name", &req.name, COLLECTION)?,
        &req.etag,
        &[ActivityState::Ongoing],
        "completed",
    )
    .await?;
    let now = svc.ctx.clock.now();
    let present = signups::Entity::find()
        .filter(signups::Column::ActivityId.eq(row.id))
        .filter(signups::Column::State.eq(SignupState::Confirmed as i32))
        .filter(signups::Column::CheckInTime.is_not_null())
        .filter(signups::Column::CheckOutTime.is_null())
        .all(&txn)
        .await?;
    let already: BTreeSet<Uuid> = service_records::Entity::find()
        .filter(service_records::Column::ActivityId.eq(row.id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|r| r.volunteer_id)
        .collect();
    let until = now.min(row.end_time);
    let mut records = Vec::new();
    for s in present
        .iter()
        .filter(|s| !already.contains(&s.volunteer_id))
    {
        let since = s.check_in_time.expect("filtered");
        let record = hours::record(
            &txn,
            hours::NewRecord {
                volunteer: s.volunteer_id,
                activity: Some(row.id),
                team: row.organizing_team_id,
                community: row.community_id,
                start_time: since,
                minutes: hours::minutes_between(since, until),
                description: format!("{}（活动结束 activity completed）", row.title),
                source: RecordSource::ActivityCompleted,
                now,
            },
        )
        .await?;
        records.push(names::format("serviceRecords", record.id));
    }
    let event = ActivityCompleted {
        activity: name(row.id),
        title: row.title.clone(),
        community: names::format("communities", row.community_id),
        service_records: records,
    };
    let event = NewEvent::of(&event, name(row.id)).concerning(
        String::new(),
        names::format("communities", row.community_id),
    );
    outbox::append(&txn, crate::ROLE, event, now).await?;
    finish(svc, txn, row, ActivityState::Completed, None).await
}

/// CancelActivity: every sign-up is cancelled.
pub async fn cancel(
    svc: &Volunteers,
    scope: &Scope,
    req: CancelActivityRequest,
) -> Result<Activity> {
    let mut c = Check::new();
    let id = c.name("name", &req.name, COLLECTION);
    c.text("reason", &req.reason, 1, 500);
    c.finish()?;
    let (txn, row) = step(
        svc,
        scope,
        id,
        &req.etag,
        &[
            ActivityState::Draft,
            ActivityState::Published,
            ActivityState::Ongoing,
        ],
        "cancelled",
    )
    .await?;
    signups::Entity::update_many()
        .col_expr(
            signups::Column::State,
            Expr::value(SignupState::Cancelled as i32),
        )
        .col_expr(
            signups::Column::Rank,
            Expr::value(crate::signups::rank(SignupState::Cancelled, 0)),
        )
        .filter(signups::Column::ActivityId.eq(row.id))
        .filter(signups::Column::State.ne(SignupState::Cancelled as i32))
        .exec(&txn)
        .await?;
    Entity::update_many()
        .col_expr(Column::ConfirmedCount, Expr::value(0))
        .col_expr(Column::WaitlistCount, Expr::value(0))
        .filter(Column::Id.eq(row.id))
        .exec(&txn)
        .await?;
    let row = Model {
        confirmed_count: 0,
        waitlist_count: 0,
        ..row
    };
    finish(svc, txn, row, ActivityState::Cancelled, Some(req.reason)).await
}
