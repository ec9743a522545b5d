//! Service records and hours: CreateServiceRecord, GetServiceRecord,
//! ListServiceRecords, ApproveServiceRecord, RejectServiceRecord,
//! ComputeVolunteerHours.
//!
//! Records stay PENDING until a team leader, the organiser or staff
//! approves them; approval earns points in the same transaction.

use chrono::{DateTime, Duration, Utc};
use cogov_kit::auth::Principal;
use cogov_kit::filter::{self, Field, Kind};
use cogov_kit::idempotency::{self, Key};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::scope::Scope;
use cogov_kit::store::Versioned;
use cogov_kit::validate::Check;
use cogov_kit::{Error, Result, convert, etag, names};
use cogov_proto::common::Interval;
use cogov_proto::volunteers::*;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Condition, Expr, Func, IntoCondition, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait,
};
use uuid::Uuid;

use crate::entity::service_records::{self as rows, Column, Entity, Model};
use crate::entity::{activities as acts, teams, volunteers as vols};
use crate::{Volunteers, access, activities, read_id, required, timebank, volunteers};

const COLLECTION: &str = "serviceRecords";
const VERSIONED: Versioned<Column> = Versioned {
    id: Column::Id,
    revision: Column::Revision,
    update_time: Some(Column::UpdateTime),
};

fn name(id: Uuid) -> String {
    names::format(COLLECTION, id)
}

/// Whole minutes from `since` to `until`, at least 1, at most a day.
pub fn minutes_between(since: DateTime<Utc>, until: DateTime<Utc>) -> i32 {
    let secs = (until - since).num_seconds().max(0);
    ((secs + 59) / 60).clamp(1, 1440) as i32
}

/// A record to create.
#[derive(Debug)]
pub struct NewRecord {
    pub volunteer: Uuid,
    pub activity: Option<Uuid>,
    pub team: Option<Uuid>,
    pub community: Uuid,
    pub start_time: DateTime<Utc>,
    pub minutes: i32,
    pub description: String,
    pub source: RecordSource,
    pub now: DateTime<Utc>,
}

/// Creates a PENDING record.
pub async fn record<C: ConnectionTrait>(conn: &C, r: NewRecord) -> Result<Model> {
    Ok(rows::ActiveModel {
        id: Set(names::new_id()),
        volunteer_id: Set(r.volunteer),
        activity_id: Set(r.activity),
        team_id: Set(r.team),
        community_id: Set(r.community),
        start_time: Set(r.start_time),
        minutes: Set(r.minutes),
        description: Set(r.description),
        source: Set(r.source as i32),
        state: Set(RecordState::Pending as i32),
        reviewer: Set(String::new()),
        reject_reason: Set(String::new()),
        review_time: Set(None),
        points: Set(0),
        revision: Set(1),
        create_time: Set(r.now),
        update_time: Set(r.now),
    }
    .insert(conn)
    .await?)
}

fn to_proto(m: &Model) -> ServiceRecord {
    ServiceRecord {
        name: name(m.id),
        volunteer: volunteers::name(m.volunteer_id),
        activity: m.activity_id.map(activities::name).unwrap_or_default(),
        team: m
            .team_id
            .map(|t| names::format("teams", t))
            .unwrap_or_default(),
        community: names::format("communities", m.community_id),
        start_time: Some(convert::timestamp(m.start_time)),
        minutes: m.minutes,
        description: m.description.clone(),
        source: m.source,
        state: m.state,
        reviewer: m.reviewer.clone(),
        reject_reason: m.reject_reason.clone(),
        review_time: convert::opt_timestamp(m.review_time),
        points: m.points,
        create_time: Some(convert::timestamp(m.create_time)),
        etag: etag::format(m.revision),
    }
}

/// Whether the caller may review a record: staff of its community, the
/// organiser of its activity, or a leader of its team (or the activity's).
async fn reviews<C: ConnectionTrait>(conn: &C, scope: &Scope, m: &Model) -> Result<bool> {
    let activity = match m.activity_id {
        Some(a) => acts::Entity::find_by_id(a).one(conn).await?,
        None => None,
    };
    Ok(match scope {
        Scope::Partner { organization, .. } => {
            activity.is_some_and(|a| a.organizing_organization_id == Some(*organization))
        }
        Scope::Resident { person, .. } => {
            let team = m.team_id.or(activity.and_then(|a| a.organizing_team_id));
            match team {
                Some(t) => access::leads_team(conn, *person, t).await?,
                None => false,
            }
        }
        staff => staff.staff_covers(m.community_id),
    })
}

async fn sees<C: ConnectionTrait>(conn: &C, scope: &Scope, m: &Model) -> Result<bool> {
    if let Scope::Resident { person, .. } = scope
        && access::volunteer_of(conn, *person)
            .await?
            .is_some_and(|v| v.id == m.volunteer_id)
    {
        return Ok(true);
    }
    reviews(conn, scope, m).await
}

async fn get_visible<C: ConnectionTrait>(conn: &C, scope: &Scope, id: Uuid) -> Result<Model> {
    match Entity::find_by_id(id).one(conn).await? {
        Some(m) if sees(conn, scope, &m).await? => Ok(m),
        _ => Err(scope.missing("ServiceRecord", &name(id))),
    }
}

/// CreateServiceRecord: a volunteer reports hours (or staff for them).
pub async fn create(
    svc: &Volunteers,
    scope: &Scope,
    principal: &Principal,
    req: CreateServiceRecordRequest,
) -> Result<ServiceRecord> {
    let key = Key::new("CreateServiceRecord", &req.request_id, principal, &req);
    let r = required("service_record", req.service_record)?;
    let now = svc.ctx.clock.now();
    let mut c = Check::new();
    let volunteer = c.name("service_record.volunteer", &r.volunteer, "volunteers");
    let activity = c.optional_name("service_record.activity", &r.activity, "activities");
    let team = c.optional_name("service_record.team", &r.team, "teams");
    c.range("service_record.minutes", r.minutes.into(), 1, 1440);
    c.text("service_record.description", &r.description, 0, 2000);
    let start = match r.start_time.as_ref().map(convert::from_timestamp) {
        Some(Some(t)) if t <= now => t,
        Some(Some(_)) => {
            c.add("service_record.start_time", "must not be in the future");
            now
        }
        Some(None) => {
            c.add("service_record.start_time", "out of range");
            now
        }
        None => {
            c.add("service_record.start_time", "is required");
            now
        }
    };
    c.request_id(&req.request_id);
    c.finish()?;
    scope.require_verified("reporting service hours")?;
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        let v = volunteers::reference(txn, "service_record.volunteer", volunteer).await?;
        match scope {
            Scope::Resident { person, .. } if v.person_id == *person => {}
            Scope::Resident { .. } | Scope::Partner { .. } => {
                return Err(Error::forbidden("report another volunteer's hours"));
            }
            staff => staff.require_staff(v.community_id, &r.volunteer)?,
        }
        let mut community = v.community_id;
        if let Some(a) = activity {
            let act = acts::Entity::find_by_id(a).one(txn).await?.ok_or_else(|| {
                Error::invalid(
                    "service_record.activity",
                    format!("{} does not exist", r.activity),
                )
            })?;
            community = act.community_id;
        }
        if let Some(t) = team
            && teams::Entity::find_by_id(t).one(txn).await?.is_none()
        {
            return Err(Error::invalid(
                "service_record.team",
                format!("{} does not exist", r.team),
            ));
        }
        let row = record(
            txn,
            NewRecord {
                volunteer,
                activity,
                team,
                community,
                start_time: start,
                minutes: r.minutes,
                description: r.description,
                source: RecordSource::SelfReported,
                now,
            },
        )
        .await?;
        Ok(to_proto(&row))
    })
    .await
}

/// GetServiceRecord.
pub async fn get(
    svc: &Volunteers,
    scope: &Scope,
    req: GetServiceRecordRequest,
) -> Result<ServiceRecord> {
    let id = read_id("name", &req.name, COLLECTION)?;
    Ok(to_proto(&get_visible(svc.ctx.db.read(), scope, id).await?))
}

/// ListServiceRecords, newest first.
pub async fn list(
    svc: &Volunteers,
    scope: &Scope,
    req: ListServiceRecordsRequest,
) -> Result<ListServiceRecordsResponse> {
    let fields = [
        Field::column("volunteer", Column::VolunteerId, Kind::Name("volunteers")),
        Field::column("activity", Column::ActivityId, Kind::Name("activities")),
        Field::column("team", Column::TeamId, Kind::Name("teams")),
        Field::column("community", Column::CommunityId, Kind::Name("communities")),
        Field::column(
            "state",
            Column::State,
            Kind::Enum(
                |s| RecordState::from_str_name(s).map(|v| v as i32),
                "RECORD_STATE_",
            ),
        ),
        Field::column(
            "source",
            Column::Source,
            Kind::Enum(
                |s| RecordSource::from_str_name(s).map(|v| v as i32),
                "RECORD_SOURCE_",
            ),
        ),
        Field::column("start_time", Column::StartTime, Kind::Timestamp),
    ];
    let query = ListQuery::new(
        "ListServiceRecords",
        req.page_size,
        &req.page_token,
        &req.filter,
        "",
    );
    let mut spec = Spec::new(&fields, &[], Column::Id);
    spec.newest_first = true;
    let conn = svc.ctx.db.read();
    let visible = match scope {
        Scope::Resident { person, .. } => {
            let mine = access::volunteer_of(conn, *person)
                .await?
                .map(|v| v.id)
                .unwrap_or_default();
            let mut any = Condition::any().add(Column::VolunteerId.eq(mine));
            // A team leader sees the team's records.
            for t in led_teams(conn, *person).await? {
                any = any.add(Column::TeamId.eq(t));
            }
            any
        }
        Scope::Partner { organization, .. } => Column::ActivityId
            .in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(acts::Column::Id)
                    .from(acts::Entity)
                    .and_where(acts::Column::OrganizingOrganizationId.eq(*organization))
                    .to_owned(),
            )
            .into_condition(),
        staff => staff.place_condition(Column::CommunityId, None),
    };
    let base = Entity::find().filter(visible);
    let (rows, next_page_token) =
        listing::list(&svc.ctx.tokens, &svc.ctx.db, query, spec, base, |m| {
            (SortKey::None, m.id)
        })
        .await?;
    Ok(ListServiceRecordsResponse {
        service_records: rows.iter().map(to_proto).collect(),
        next_page_token,
    })
}

async fn led_teams<C: ConnectionTrait>(conn: &C, person: Uuid) -> Result<Vec<Uuid>> {
    let Some(v) = access::volunteer_of(conn, person).await? else {
        return Ok(Vec::new());
    };
    let mut out: Vec<Uuid> = teams::Entity::find()
        .filter(teams::Column::LeaderId.eq(v.id))
        .all(conn)
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    for m in crate::entity::team_members::Entity::find()
        .filter(crate::entity::team_members::Column::VolunteerId.eq(v.id))
        .filter(
            crate::entity::team_members::Column::Role
                .is_in([TeamRole::Leader as i32, TeamRole::Deputy as i32]),
        )
        .all(conn)
        .await?
    {
        if !out.contains(&m.team_id) {
            out.push(m.team_id);
        }
    }
    Ok(out)
}

async fn review(
    svc: &Volunteers,
    scope: &Scope,
    principal: &Principal,
    id: Uuid,
    etag_in: &str,
    approve: Option<String>,
) -> Result<ServiceRecord> {
    let name_in = &name(id);
    let txn = svc.ctx.db.begin_write().await?;
    let row = get_visible(&txn, scope, id).await?;
    if !reviews(&txn, scope, &row).await? {
        return Err(Error::forbidden(format!("review {name_in}")));
    }
    let now = svc.ctx.clock.now();
    let mut edit = VERSIONED.edit(row.clone(), etag_in, name_in, now)?;
    if row.state != RecordState::Pending as i32 {
        let from = RecordState::try_from(row.state)
            .unwrap_or_default()
            .as_str_name()
            .trim_start_matches("RECORD_STATE_");
        return Err(Error::illegal_transition(
            name_in,
            from,
            if approve.is_none() {
                "approved"
            } else {
                "rejected"
            },
        ));
    }
    let am = &mut edit.changes;
    am.reviewer = Set(principal.describe());
    am.review_time = Set(Some(now));
    match approve {
        None => {
            let points = timebank::earn(&txn, row.volunteer_id, row.id, row.minutes, now).await?;
            am.state = Set(RecordState::Approved as i32);
            am.points = Set(points);
        }
        Some(reason) => {
            am.state = Set(RecordState::Rejected as i32);
            am.reject_reason = Set(reason);
        }
    }
    let saved = edit.save(&txn).await?;
    txn.commit().await?;
    Ok(to_proto(&saved))
}

/// ApproveServiceRecord: earns points.
pub async fn approve(
    svc: &Volunteers,
    scope: &Scope,
    principal: &Principal,
    req: ApproveServiceRecordRequest,
) -> Result<ServiceRecord> {
    review(
        svc,
        scope,
        principal,
        read_id("name", &req.name, COLLECTION)?,
        &req.etag,
        None,
    )
    .await
}

/// RejectServiceRecord.
pub async fn reject(
    svc: &Volunteers,
    scope: &Scope,
    principal: &Principal,
    req: RejectServiceRecordRequest,
) -> Result<ServiceRecord> {
    let mut c = Check::new();
    let id = c.name("name", &req.name, COLLECTION);
    c.text("reason", &req.reason, 1, 500);
    c.finish()?;
    review(svc, scope, principal, id, &req.etag, Some(req.reason)).await
}

fn window(req: Option<&Interval>, now: DateTime<Utc>) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    // This month (UTC+8) by default.
    let local = now + Duration::hours(8);
    let month_start = chrono::NaiveDate::from_ymd_opt(
        chrono::Datelike::year(&local),
        chrono::Datelike::month(&local),
        1,
    )
    .and_then(|d| d.and_hms_opt(0, 0, 0))
    .map(|d| d.and_utc() - Duration::hours(8))
    .unwrap_or(now);
    let Some(i) = req else {
        return Ok((month_start, now));
    };
    let start = i.start_time.as_ref().map(convert::from_timestamp);
    let end = i.end_time.as_ref().map(convert::from_timestamp);
    let start = match start {
        Some(Some(t)) => t,
        Some(None) => return Err(Error::invalid("interval.start_time", "out of range")),
        None => month_start,
    };
    let end = match end {
        Some(Some(t)) => t,
        Some(None) => return Err(Error::invalid("interval.end_time", "out of range")),
        None => now,
    };
    if end <= start {
        return Err(Error::invalid(
            "interval.end_time",
            "must be after start_time",
        ));
    }
    Ok((start, end))
}

/// ComputeVolunteerHours: approved hours by volunteer (the leaderboard),
/// team, community or month, in SQL.
pub async fn compute(
    svc: &Volunteers,
    _scope: &Scope,
    req: ComputeVolunteerHoursRequest,
) -> Result<ComputeVolunteerHoursResponse> {
    let mut c = Check::new();
    let group: HoursGroup = c.enumeration("group_by", req.group_by, true);
    c.range("max_results", req.max_results.into(), 0, 1000);
    c.finish()?;
    let now = svc.ctx.clock.now();
    let (start, end) = window(req.interval.as_ref(), now)?;
    let fields = [
        Field::column("community", Column::CommunityId, Kind::Name("communities")),
        Field::column("team", Column::TeamId, Kind::Name("teams")),
    ];
    let condition = filter::condition(&req.filter, &fields)?;
    let conn = svc.ctx.db.search();
    let backend = conn.get_database_backend();
    let key: SimpleExpr = match group {
        HoursGroup::Volunteer => Expr::col(Column::VolunteerId),
        HoursGroup::Team => Expr::col(Column::TeamId),
        HoursGroup::Community => Expr::col(Column::CommunityId),
        _ => match backend {
            DbBackend::Postgres => {
                Expr::cust("to_char(start_time AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')")
            }
            _ => Expr::cust("strftime('%Y-%m', start_time, '+8 hours')"),
        },
    };
    let minutes = SimpleExpr::from(Func::sum(Expr::col(Column::Minutes)));
    let mut select = Entity::find()
        .select_only()
        .column_as(key.clone(), "key")
        .column_as(minutes.clone(), "minutes")
        .column_as(
            SimpleExpr::from(Func::count(Expr::col(Column::Id))),
            "records",
        )
        .column_as(
            SimpleExpr::from(Func::count_distinct(Expr::col(Column::VolunteerId))),
            "volunteers",
        )
        .filter(Column::State.eq(RecordState::Approved as i32))
        .filter(Column::StartTime.gte(start))
        .filter(Column::StartTime.lt(end))
        .filter(condition)
        .group_by(key)
        .order_by_desc(minutes)
        .limit(if req.max_results == 0 {
            50
        } else {
            req.max_results as u64
        });
    if group == HoursGroup::Team {
        select = select.filter(Column::TeamId.is_not_null());
    }
    let mut rows = Vec::new();
    for r in conn.query_all_raw(select.build(backend)).await? {
        let int = |col: &str| -> Result<i64> {
            r.try_get::<Option<i64>>("", col)
                .map(Option::unwrap_or_default)
                .map_err(|e| Error::Internal(format!("hours column {col}: {e}")))
        };
        let (key, display_name) = match group {
            HoursGroup::Month => (
                r.try_get::<Option<String>>("", "key")
                    .ok()
                    .flatten()
                    .unwrap_or_default(),
                String::new(),
            ),
            _ => {
                let id = r
                    .try_get::<Option<Uuid>>("", "key")
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                match group {
                    HoursGroup::Volunteer => (
                        volunteers::name(id),
                        vols::Entity::find_by_id(id)
                            .one(conn)
                            .await?
                            .map(|v| v.display_name)
                            .unwrap_or_default(),
                    ),
                    HoursGroup::Team => (
                        names::format("teams", id),
                        teams::Entity::find_by_id(id)
                            .one(conn)
                            .await?
                            .map(|t| t.display_name)
                            .unwrap_or_default(),
                    ),
                    _ => (names::format("communities", id), String::new()),
                }
            }
        };
        rows.push(HoursRow {
            key,
            display_name,
            minutes: int("minutes")?,
            records: int("records")?,
            volunteers: int("volunteers")?,
            rank: 0,
        });
    }
    let mut rank = 0;
    let mut last = -1;
    for (i, r) in rows.iter_mut().enumerate() {
        if r.minutes != last {
            rank = i as i32 + 1;
            last = r.minutes;
        }
        r.rank = rank;
    }
    Ok(ComputeVolunteerHoursResponse {
        rows,
        interval: Some(Interval {
            start_time: Some(convert::timestamp(start)),
            end_time: Some(convert::timestamp(end)),
        }),
        compute_time: Some(convert::timestamp(now)),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn minutes_round_up_and_stay_within_a_day() {
        let t = chrono::Utc::now();
        assert_eq!(super::minutes_between(t, t), 1);
        assert_eq!(
            super::minutes_between(t, t + chrono::Duration::seconds(61)),
            2
        );
        assert_eq!(
            super::minutes_between(t, t + chrono::Duration::hours(2)),
            120
        );
        assert_eq!(
            super::minutes_between(t, t + chrono::Duration::days(3)),
            1440
        );
        assert_eq!(super::minutes_between(t, t - chrono::Duration::hours(1)), 1);
    }
}
