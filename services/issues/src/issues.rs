//! Issues: ReportIssue, GetIssue, ListIssues, UpdateIssue, FindSimilarIssues.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use cogov_kit::auth::Principal;
use cogov_kit::fieldmask::{Fields, Input, UpdateMask};
use cogov_kit::filter::{Field, Kind, Op};
use cogov_kit::idempotency::{self, Key};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::privacy::mask_phone;
use cogov_kit::store::Versioned;
use cogov_kit::validate::Check;
use cogov_kit::write::{AtCommit, Defers, insert_whole};
use cogov_kit::{Error, Result, convert, etag, names};
use cogov_proto::common::{ContactDetails, GeoPoint};
use cogov_proto::issues::*;
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::{Condition, Expr, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};
use uuid::Uuid;

use crate::access;
use crate::entity::issues::{self as rows, Column, Entity, Model};
use crate::entity::{parties, sub_items};
use crate::lifecycle::{self, OPEN};
use crate::statistics::day_counts;
use crate::timeline::{self, Entry};
use crate::{Issues, clusters, events, media, read_code, read_id, required, two_nos};
use cogov_kit::scope::Scope;

pub(crate) const COLLECTION: &str = "issues";
pub(crate) const RESOURCE: &str = "Issue";
pub(crate) const VERSIONED: Versioned<Column> = Versioned {
    id: Column::Id,
    revision: Column::Revision,
    update_time: Some(Column::UpdateTime),
};
/// What an update resolved: the building named and the sub-item moved to.
struct Checked {
    building: Option<Uuid>,
    sub_item: Option<sub_items::Model>,
}

const FIELDS: Fields<Input<Issue, Checked>, rows::ActiveModel> = Fields::new(&[
    ("title", |am, i| am.title = Set(i.sent.title.clone())),
    ("description", |am, i| {
        am.description = Set(i.sent.description.clone())
    }),
    ("building", |am, i| am.building_id = Set(i.checked.building)),
    ("sub_item", |am, i| {
        if let Some(item) = &i.checked.sub_item {
            am.sub_item_id = Set(item.id.clone());
            am.category_id = Set(item.category_id.clone());
        }
    }),
    ("location", |am, i| {
        am.latitude = Set(i.sent.location.as_ref().map(|p| p.latitude));
        am.longitude = Set(i.sent.location.as_ref().map(|p| p.longitude));
    }),
    ("address_text", |am, i| {
        am.address_text = Set(i.sent.address_text.clone())
    }),
    ("media", |am, i| {
        am.media = Set(media::to_json(&i.sent.media))
    }),
    ("priority", |am, i| {
        am.priority = Set(if i.sent.priority == 0 {
            Priority::Normal as i32
        } else {
            i.sent.priority
        });
    }),
]);

pub(crate) fn name(id: Uuid) -> String {
    names::format(COLLECTION, id)
}

pub(crate) fn opt_name(collection: &str, id: Option<Uuid>) -> String {
    id.map(|i| names::format(collection, i)).unwrap_or_default()
}

/// When an issue in `state` with these deadlines falls overdue: the
/// earlier deadline while nobody has acknowledged it, the resolve-by time
/// while it is open, never once it is handled.
pub fn due_at(
    state: IssueState,
    respond_by: DateTime<Utc>,
    resolve_by: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if state == IssueState::Reported {
        Some(respond_by.min(resolve_by))
    } else if lifecycle::is_open(state) {
        Some(resolve_by)
    } else {
        None
    }
}

/// Whether an issue is overdue at `now`.
pub fn overdue(m: &Model, now: DateTime<Utc>) -> bool {
    let state = IssueState::try_from(m.state).unwrap_or_default();
    due_at(state, m.respond_by, m.resolve_by).is_some_and(|due| due < now)
}

/// The SQL form of [`overdue`], on the stored due time.
pub fn overdue_condition(now: DateTime<Utc>) -> Condition {
    Condition::all().add(Column::DueAt.lt(now))
}

/// Sets the columns derived from the others (the due time) on `am`,
/// which holds every column (a row loaded and changed, or a new one).
fn derive(am: &mut rows::ActiveModel) {
    let value = |v: &sea_orm::ActiveValue<DateTime<Utc>>| v.clone().unwrap();
    let state = IssueState::try_from(am.state.clone().unwrap()).unwrap_or_default();
    am.due_at = Set(due_at(state, value(&am.respond_by), value(&am.resolve_by)));
}

/// Stores a new issue, with its derived columns and its day counts. A
/// row given whole needs nothing back from the database, so its INSERT
/// waits for the commit with the write's other deferred statements (one
/// round trip less on SQLite's writer): what follows in the write must not
/// read it back. A row relying on column defaults is inserted at once.
///
/// The day counts go first: they read nothing of the issue's row, and on
/// PostgreSQL the plain INSERTs deferred after them (the row, its
/// timeline entry, its event, the request id's record) then join them in
/// one call (`cogov_kit::write`).
pub(crate) async fn insert<C: Defers>(conn: &C, mut am: rows::ActiveModel) -> Result<Model> {
    derive(&mut am);
    match sea_orm::TryIntoModel::try_into_model(am.clone()) {
        Ok(whole) => {
            day_counts::record(conn, None, &whole).await?;
            Ok(insert_whole(conn, am).await?)
        }
        Err(_) => {
            let row = insert_whole(conn, am).await?;
            day_counts::record(conn, None, &row).await?;
            Ok(row)
        }
    }
}

/// Saves `am`, the changed `before`, if its revision is unchanged; keeps
/// the derived columns and the day counts in step.
pub(crate) async fn save<C: Defers>(
    conn: &C,
    before: &Model,
    mut am: rows::ActiveModel,
) -> Result<Model> {
    derive(&mut am);
    let saved = VERSIONED
        .save::<Entity, _>(
            conn,
            before.id.into(),
            before.revision,
            am,
            &name(before.id),
        )
        .await?;
    day_counts::record(conn, Some(before), &saved).await?;
    Ok(saved)
}

/// [`save`], for a row read in this write on SQLite, where writes take
/// turns on one connection: its revision cannot have moved since, so the
/// UPDATE goes with the write's deferred statements (one round trip less
/// on the writer) and the row as saved is made from the changes. What
/// follows in the write must not read the issue back. Elsewhere (on
/// PostgreSQL a read takes no lock) it is [`save`].
pub(crate) async fn save_held<C: Defers>(
    conn: &C,
    before: &Model,
    mut am: rows::ActiveModel,
) -> Result<Model> {
    if conn.get_database_backend() != sea_orm::DbBackend::Sqlite {
        return save(conn, before, am).await;
    }
    derive(&mut am);
    let saved = VERSIONED
        .save_held::<Entity, _>(conn, before.id.into(), before.revision, am)
        .await?;
    day_counts::record(conn, Some(before), &saved).await?;
    Ok(saved)
}

/// The proto of an issue as `scope` may see it.
fn to_proto(m: &Model, parties: &[parties::Model], scope: &Scope, now: DateTime<Utc>) -> Issue {
    // A resident sees a neighbour's report in the public view: no
    // reporter and no contact at all (the courtyard's building head, who
    // answers for it, sees it in full).
    let neighbour = match scope {
        Scope::Resident {
            person, head_of, ..
        } => m.reporter_id != Some(*person) && *head_of != Some(m.courtyard_id),
        _ => false,
    };
    let masked = scope.masks() || neighbour;
    let hidden = neighbour;
    let contact = (!hidden
        && (!m.contact_name.is_empty()
            || !m.contact_phone.is_empty()
            || !m.contact_address.is_empty()))
    .then(|| {
        if masked {
            ContactDetails {
                display_name: m.contact_name.chars().take(1).chain("**".chars()).collect(),
                phone: mask_phone(&m.contact_phone),
                address: String::new(),
            }
        } else {
            ContactDetails {
                display_name: m.contact_name.clone(),
                phone: m.contact_phone.clone(),
                address: m.contact_address.clone(),
            }
        }
    });
    let resolved = m.resolve_time.map(|t| cogov_proto::issues::Resolution {
        note: m.resolution_note.clone(),
        media: media::from_json(&m.resolution_media),
        resolver: opt_name("organizations", m.resolver_id),
        resolve_time: Some(convert::timestamp(t)),
    });
    let confirmation = m.confirm_time.map(|t| Confirmation {
        satisfaction: m.satisfaction,
        comment: m.confirm_comment.clone(),
        confirmer: if masked && (scope.masks() || m.confirmer_id != scope.resident()) {
            String::new()
        } else {
            opt_name("persons", m.confirmer_id)
        },
        confirm_time: Some(convert::timestamp(t)),
    });
    Issue {
        // The caller's own: `render_many` sets it.
        followed: false,
        name: name(m.id),
        courtyard: names::format("courtyards", m.courtyard_id),
        community: names::format("communities", m.community_id),
        building: opt_name("buildings", m.building_id),
        sub_item: format!("subItems/{}", m.sub_item_id),
        category: format!("categories/{}", m.category_id),
        title: m.title.clone(),
        description: m.description.clone(),
        location: m
            .latitude
            .zip(m.longitude)
            .map(|(latitude, longitude)| GeoPoint {
                latitude,
                longitude,
            }),
        address_text: m.address_text.clone(),
        media: media::from_json(&m.media),
        channel: m.channel,
        priority: m.priority,
        reporter: if masked {
            String::new()
        } else {
            opt_name("persons", m.reporter_id)
        },
        reporter_contact: contact,
        masked,
        state: m.state,
        respond_by: Some(convert::timestamp(m.respond_by)),
        resolve_by: Some(convert::timestamp(m.resolve_by)),
        acknowledge_time: convert::opt_timestamp(m.acknowledge_time),
        assignee: opt_name("organizations", m.assignee_id),
        joint_parties: parties
            .iter()
            .map(|p| JointParty {
                organization: names::format("organizations", p.organization_id),
                check_in_by: Some(convert::timestamp(p.check_in_by)),
                state: p.state,
                action_note: p.action_note.clone(),
                check_in_time: convert::opt_timestamp(p.check_in_time),
            })
            .collect(),
        resolution: resolved,
        confirmation,
        close_time: convert::opt_timestamp(m.close_time),
        reject_reason: m.reject_reason,
        duplicate_of: opt_name(COLLECTION, m.duplicate_of),
        duplicate_count: m.duplicate_count,
        return_count: m.return_count,
        reopen_count: m.reopen_count,
        overdue: overdue(m, now),
        cluster: opt_name("clusters", m.cluster_id),
        escalated_to: opt_name("councils", m.escalated_to),
        topic: opt_name("topics", m.topic_id),
        action_item: m.action_item.clone(),
        create_time: Some(convert::timestamp(m.create_time)),
        update_time: Some(convert::timestamp(m.update_time)),
        etag: etag::format(m.revision),
    }
}

/// The parties of each issue in `ids`, in summons order.
pub async fn parties_of<C: ConnectionTrait>(
    conn: &C,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<parties::Model>>> {
    let mut out: HashMap<Uuid, Vec<parties::Model>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    for row in parties::Entity::find()
        .filter(parties::Column::IssueId.is_in(ids.iter().copied()))
        .order_by_asc(parties::Column::Position)
        .all(conn)
        .await?
    {
        out.entry(row.issue_id).or_default().push(row);
    }
    Ok(out)
}

/// Renders one issue for `scope`.
pub async fn render<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    m: &Model,
    now: DateTime<Utc>,
) -> Result<Issue> {
    let mut one = render_many(conn, scope, [m], now).await?;
    Ok(one.remove(0))
}

/// [`render`], for a lifecycle step, which knows from its own reads
/// whether the issue has summoned parties and, if it read them, who
/// follows it: the answer reads nothing it already knows.
pub(crate) async fn render_after_step<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    m: &Model,
    has_parties: bool,
    followers: Option<&[Uuid]>,
    now: DateTime<Utc>,
) -> Result<Issue> {
    let parties = if has_parties {
        parties_of(conn, &[m.id]).await?
    } else {
        HashMap::new()
    };
    let followed = match followers {
        Some(followers) => scope.resident().is_some_and(|me| followers.contains(&me)),
        None => crate::follows::followed(conn, scope, &[m.id])
            .await?
            .contains(&m.id),
    };
    Ok(view(m, &parties, followed, scope, now))
}

/// Renders issues for `scope`, with what they need from other tables
/// (summoned parties, whether the caller follows them) read once for all.
pub async fn render_many<'m, C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    rows: impl IntoIterator<Item = &'m Model>,
    now: DateTime<Utc>,
) -> Result<Vec<Issue>> {
    let rows: Vec<&Model> = rows.into_iter().collect();
    let ids: Vec<Uuid> = rows.iter().map(|m| m.id).collect();
    let parties = parties_of(conn, &ids).await?;
    let followed = crate::follows::followed(conn, scope, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|m| view(m, &parties, followed.contains(&m.id), scope, now))
        .collect())
}

/// An issue as `scope` sees it, its parties (of any issues) read.
fn view(
    m: &Model,
    parties: &HashMap<Uuid, Vec<parties::Model>>,
    followed: bool,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Issue {
    Issue {
        followed,
        ..to_proto(
            m,
            parties.get(&m.id).map_or(&[][..], Vec::as_slice),
            scope,
            now,
        )
    }
}

/// Loads an issue the caller may see.
pub async fn get_visible<C: ConnectionTrait>(conn: &C, scope: &Scope, id: Uuid) -> Result<Model> {
    let row = Entity::find_by_id(id).one(conn).await?;
    visible(conn, scope, id, row).await
}

/// An issue as a lifecycle step reads it, inside its write.
pub(crate) struct ForStep {
    /// The issue.
    pub row: Model,
    /// Whether its sub-item counts toward the two-nos goal.
    pub counts: bool,
    /// Whether any party is summoned to it.
    pub has_parties: bool,
}

/// [`get_visible`], with what a lifecycle step needs to know beside the
/// issue, read with it in one statement.
pub(crate) async fn get_for_step<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: Uuid,
) -> Result<ForStep> {
    use sea_orm::ExprTrait as _;
    let counts = Query::select()
        .column(sub_items::Column::TwoNos)
        .from(sub_items::Entity)
        .and_where(
            Expr::col((sub_items::Entity, sub_items::Column::Id))
                .equals((Entity, Column::SubItemId)),
        )
        .to_owned();
    let summoned = Query::select()
        .expr(Expr::val(1))
        .from(parties::Entity)
        .and_where(
            Expr::col((parties::Entity, parties::Column::IssueId)).equals((Entity, Column::Id)),
        )
        .to_owned();
    let statement = Entity::find_by_id(id)
        .expr_as(
            Expr::SubQuery(None, Box::new(counts.into())),
            "two_nos_counts",
        )
        .expr_as(Expr::exists(summoned), "has_parties")
        .build(conn.get_database_backend());
    let (row, counts, has_parties) = match conn.query_one_raw(statement).await? {
        Some(found) => (
            Some(Model::from_query_result(&found, "")?),
            found
                .try_get::<Option<bool>>("", "two_nos_counts")?
                .unwrap_or(false),
            found.try_get::<bool>("", "has_parties")?,
        ),
        None => (None, false, false),
    };
    Ok(ForStep {
        row: visible(conn, scope, id, row).await?,
        counts,
        has_parties,
    })
}

/// `row` (issue `id`, if found) when `scope` may see it.
async fn visible<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: Uuid,
    row: Option<Model>,
) -> Result<Model> {
    if let Some(m) = row {
        let summoned = match scope.partner() {
            Some(org) => parties::Entity::find_by_id((id, org))
                .one(conn)
                .await?
                .is_some(),
            None => false,
        };
        if access::sees(scope, &m, summoned) {
            return Ok(m);
        }
    }
    Err(scope.missing(RESOURCE, &name(id)))
}

fn check_contact(c: &mut Check, contact: &ContactDetails) {
    c.line(
        "issue.reporter_contact.display_name",
        &contact.display_name,
        0,
        100,
    );
    c.line("issue.reporter_contact.phone", &contact.phone, 0, 32);
    if !contact
        .phone
        .chars()
        .all(|ch| ch.is_ascii_digit() || matches!(ch, '+' | '-' | ' ' | '(' | ')'))
    {
        c.add(
            "issue.reporter_contact.phone",
            "may hold only digits, spaces and + - ( )",
        );
    }
    c.line("issue.reporter_contact.address", &contact.address, 0, 200);
}

/// Checks the descriptive fields in `mask` (all on a report).
fn check_fields(c: &mut Check, i: &Issue, mask: Option<&UpdateMask>) {
    let want = |f: &str| mask.is_none_or(|m| m.has(f));
    if want("title") {
        c.line("issue.title", &i.title, 0, 200);
    }
    if want("description") {
        c.text("issue.description", &i.description, 0, 4000);
    }
    if want("location")
        && let Some(p) = &i.location
    {
        c.location("issue.location", p);
    }
    if want("address_text") {
        c.line("issue.address_text", &i.address_text, 0, 200);
    }
    if want("media") {
        media::check(c, "issue.media", &i.media);
    }
    if want("priority") {
        let _: Priority = c.enumeration("issue.priority", i.priority, false);
    }
}

/// Resolves and checks a building against the issue's courtyard.
async fn check_building(svc: &Issues, building: Option<Uuid>, courtyard: Uuid) -> Result<()> {
    if let Some(b) = building {
        match svc.directory.building_courtyard(b).await? {
            Some(y) if y == courtyard => {}
            Some(_) => {
                return Err(Error::invalid(
                    "issue.building",
                    "is not in issue.courtyard",
                ));
            }
            None => {
                return Err(Error::invalid(
                    "issue.building",
                    format!("buildings/{b} does not exist"),
                ));
            }
        }
    }
    Ok(())
}

/// ReportIssue.
pub async fn report(
    svc: &Issues,
    scope: &Scope,
    principal: &Principal,
    req: ReportIssueRequest,
) -> Result<Issue> {
    let key = Key::new("ReportIssue", &req.request_id, principal, &req);
    let i = required("issue", req.issue)?;
    let mut c = Check::new();
    let courtyard = c.name("issue.courtyard", &i.courtyard, "courtyards");
    let sub_item = match read_code("issue.sub_item", &i.sub_item, "subItems") {
        Ok(code) => code,
        Err(_) => {
            c.add("issue.sub_item", "is required: a `subItems/{code}` name");
            String::new()
        }
    };
    let building = c.optional_name("issue.building", &i.building, "buildings");
    check_fields(&mut c, &i, None);
    let channel: Channel = c.enumeration("issue.channel", i.channel, false);
    let mut reporter = c.optional_name("issue.reporter", &i.reporter, "persons");
    if let Some(contact) = &i.reporter_contact {
        check_contact(&mut c, contact);
    }
    c.request_id(&req.request_id);
    c.finish()?;

    let place = svc.directory.courtyard(courtyard).await?.ok_or_else(|| {
        Error::invalid("issue.courtyard", format!("{} does not exist", i.courtyard))
    })?;
    let channel = match (scope, channel) {
        (
            Scope::Resident {
                person: me,
                community,
                ..
            },
            _,
        ) => {
            // Residents report as themselves, where they live.
            if *community != Some(place.community) {
                return Err(Error::out_of_reach(&i.courtyard));
            }
            reporter = Some(*me);
            match channel {
                // Staff at the service station typing it in for them.
                Channel::Unspecified if principal.assistant().is_some() => Channel::WalkIn,
                Channel::Unspecified => Channel::App,
                channel => channel,
            }
        }
        (Scope::Partner { reach, .. }, _) => {
            if !reach.covers(Some(place.community), Some(courtyard)) {
                return Err(Error::out_of_reach(&i.courtyard));
            }
            if matches!(channel, Channel::Unspecified) {
                Channel::Partner
            } else {
                channel
            }
        }
        (staff, _) => {
            staff.require_staff(place.community, &i.courtyard)?;
            if channel == Channel::Unspecified {
                Channel::Hotline
            } else {
                channel
            }
        }
    };
    check_building(svc, building, courtyard).await?;
    if let Some(r) = reporter
        && !matches!(scope, Scope::Resident { .. })
        && svc.directory.person(r).await?.is_none()
    {
        return Err(Error::invalid(
            "issue.reporter",
            format!("persons/{r} does not exist"),
        ));
    }

    let item = svc
        .sub_items
        .get(svc.ctx.db.read(), &sub_item)
        .await?
        .filter(|s| s.active)
        .ok_or_else(|| {
            Error::invalid(
                "issue.sub_item",
                format!("{} is not an active sub-item", i.sub_item),
            )
        })?;
    let now = svc.ctx.clock.now();
    let contact = i.reporter_contact.unwrap_or_default();
    let priority = if i.priority == 0 {
        Priority::Normal as i32
    } else {
        i.priority
    };
    let author = principal.describe();
    let settings = svc.settings.clone();
    // On SQLite the cluster is settled by the write's commit, and read
    // there ([`clusters::gather_at_commit`]).
    let at_commit = (svc.ctx.db.write().get_database_backend() == sea_orm::DbBackend::Sqlite)
        .then(AtCommit::default);
    let settled = at_commit.clone();
    let mut reported = idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        let id = names::new_id();
        let row = rows::ActiveModel {
            id: Set(id),
            courtyard_id: Set(courtyard),
            community_id: Set(place.community),
            building_id: Set(building),
            sub_item_id: Set(item.id.clone()),
            category_id: Set(item.category_id.clone()),
            title: Set(i.title),
            description: Set(i.description),
            latitude: Set(i.location.as_ref().map(|p| p.latitude)),
            longitude: Set(i.location.as_ref().map(|p| p.longitude)),
            address_text: Set(i.address_text),
            media: Set(media::to_json(&i.media)),
            channel: Set(channel as i32),
            priority: Set(priority),
            reporter_id: Set(reporter),
            contact_name: Set(contact.display_name),
            contact_phone: Set(contact.phone),
            contact_address: Set(contact.address),
            state: Set(IssueState::Reported as i32),
            respond_by: Set(now + Duration::hours(item.respond_within_hours.into())),
            resolve_by: Set(now + Duration::days(item.resolve_within_days.into())),
            // Derived by `insert`.
            due_at: NotSet,
            acknowledge_time: Set(None),
            assignee_id: Set(None),
            dispatch_count: Set(0),
            resolution_note: Set(String::new()),
            resolution_media: Set(String::new()),
            resolver_id: Set(None),
            resolve_time: Set(None),
            satisfaction: Set(0),
            confirm_comment: Set(String::new()),
            confirmer_id: Set(None),
            confirm_time: Set(None),
            close_time: Set(None),
            reject_reason: Set(0),
            duplicate_of: Set(None),
            duplicate_count: Set(0),
            return_count: Set(0),
            reopen_count: Set(0),
            cluster_id: Set(None),
            escalated_to: Set(None),
            topic_id: Set(None),
            action_item: Set(String::new()),
            revision: Set(1),
            create_time: Set(now),
            update_time: Set(now),
        };
        let row = insert(txn, row).await?;
        timeline::record(
            txn,
            id,
            Entry::transition(IssueState::Unspecified, IssueState::Reported, &author, now),
        )
        .await?;
        let cluster = match &settled {
            Some(at_commit) => {
                clusters::gather_at_commit(txn, &settings, &row, now, at_commit).await?;
                None
            }
            None => clusters::detect(txn, &settings, &row, now).await?,
        };
        events::reported(
            txn,
            &Model {
                cluster_id: cluster,
                ..row.clone()
            },
            now,
        )
        .await?;
        if item.two_nos {
            let turn = two_nos::take_turn(txn, row.courtyard_id).await?;
            two_nos::reported(txn, &turn, row.community_id, now).await?;
        }
        // A new issue has no parties, and the cluster is the only column
        // that may have changed since the insert.
        let row = Model {
            cluster_id: cluster,
            ..row
        };
        Ok(to_proto(&row, &[], scope, now))
    })
    .await?;
    if let Some(at_commit) = at_commit {
        let cluster = match at_commit.rows() {
            Some(rows) => clusters::cluster_in(rows)?,
            // A retry, answered with the first call's response: its
            // cluster as it is now.
            None => match names::parse(COLLECTION, &reported.name) {
                Some(id) => clusters::cluster_of(svc.ctx.db.read(), id).await?,
                None => None,
            },
        };
        reported.cluster = opt_name("clusters", cluster);
    }
    Ok(reported)
}

/// GetIssue.
pub async fn get(svc: &Issues, scope: &Scope, req: GetIssueRequest) -> Result<Issue> {
    let id = read_id("name", &req.name, COLLECTION)?;
    let conn = svc.ctx.db.read();
    let m = get_visible(conn, scope, id).await?;
    render(conn, scope, &m, svc.ctx.clock.now()).await
}

fn code_filter(
    column: Column,
    collection: &'static str,
) -> impl Fn(Op, &str) -> std::result::Result<SimpleExpr, String> {
    move |op, value| {
        let code = value
            .strip_prefix(collection)
            .and_then(|r| r.strip_prefix('/'))
            .filter(|c| crate::valid_code(c))
            .ok_or_else(|| format!("expected a `{collection}/{{code}}` name"))?;
        match op {
            Op::Eq | Op::Has => Ok(column.eq(code)),
            Op::Ne => Ok(column.ne(code)),
            _ => Err("only `=`, `!=` and `:` apply".into()),
        }
    }
}

fn bool_filter(op: Op, value: &str) -> std::result::Result<bool, String> {
    let b = match value {
        "true" => true,
        "false" => false,
        _ => return Err("expected true or false".into()),
    };
    match op {
        Op::Eq | Op::Has => Ok(b),
        Op::Ne => Ok(!b),
        _ => Err("only `=`, `!=` and `:` apply".into()),
    }
}

/// The filterable fields of ListIssues at `now`, for the resident `me`
/// if the caller is one (`followed`: the issues they follow).
pub fn fields(now: DateTime<Utc>, me: Option<Uuid>) -> Vec<Field> {
    vec![
        Field::column("courtyard", Column::CourtyardId, Kind::Name("courtyards")),
        Field::column("community", Column::CommunityId, Kind::Name("communities")),
        Field::column("building", Column::BuildingId, Kind::Name("buildings")),
        Field::column(
            "state",
            Column::State,
            Kind::Enum(
                |s| IssueState::from_str_name(s).map(|v| v as i32),
                "ISSUE_STATE_",
            ),
        ),
        Field::column("assignee", Column::AssigneeId, Kind::Name("organizations")),
        Field::custom("sub_item", code_filter(Column::SubItemId, "subItems")),
        Field::custom("category", code_filter(Column::CategoryId, "categories")),
        Field::column(
            "channel",
            Column::Channel,
            Kind::Enum(|s| Channel::from_str_name(s).map(|v| v as i32), "CHANNEL_"),
        ),
        Field::column(
            "priority",
            Column::Priority,
            Kind::Enum(
                |s| Priority::from_str_name(s).map(|v| v as i32),
                "PRIORITY_",
            ),
        ),
        Field::custom("overdue", move |op, value| {
            let cond = overdue_condition(now);
            Ok(if bool_filter(op, value)? {
                cond.into()
            } else {
                cond.not().into()
            })
        }),
        Field::column("reporter", Column::ReporterId, Kind::Name("persons")),
        Field::custom("followed", move |op, value| {
            let mine = match me {
                Some(me) => crate::follows::followed_by(me),
                // Only residents follow: for anyone else nothing is.
                None => Expr::value(false),
            };
            Ok(if bool_filter(op, value)? {
                mine
            } else {
                sea_orm::sea_query::ExprTrait::not(mine)
            })
        }),
        Field::column("cluster", Column::ClusterId, Kind::Name("clusters")),
        Field::column("create_time", Column::CreateTime, Kind::Timestamp),
    ]
}

/// ListIssues.
pub async fn list(
    svc: &Issues,
    scope: &Scope,
    req: ListIssuesRequest,
) -> Result<ListIssuesResponse> {
    let now = svc.ctx.clock.now();
    let fields = fields(now, scope.resident());
    let query = ListQuery::new(
        "ListIssues",
        req.page_size,
        &req.page_token,
        &req.filter,
        &req.order_by,
    );
    let mut spec = Spec::new(
        &fields,
        &[
            ("resolve_by", Column::ResolveBy),
            ("update_time", Column::UpdateTime),
        ],
        Column::Id,
    );
    spec.newest_first = true;
    let conn = svc.ctx.db.read();
    let base = Entity::find().filter(access::issue_condition(scope));
    let order_by = req.order_by.clone();
    let (rows, next_page_token) =
        listing::list(&svc.ctx.tokens, &svc.ctx.db, query, spec, base, move |m| {
            let key = if order_by.starts_with("resolve_by") {
                SortKey::Time(m.resolve_by)
            } else {
                SortKey::Time(m.update_time)
            };
            (key, m.id)
        })
        .await?;
    Ok(ListIssuesResponse {
        issues: render_many(conn, scope, &rows, now).await?,
        next_page_token,
    })
}

/// UpdateIssue: staff edit descriptive fields.
pub async fn update(
    svc: &Issues,
    scope: &Scope,
    principal: &Principal,
    req: UpdateIssueRequest,
) -> Result<Issue> {
    let i = required("issue", req.issue)?;
    let id = read_id("issue.name", &i.name, COLLECTION)?;
    let mask = FIELDS.mask(req.update_mask.as_ref())?;
    let mut c = Check::new();
    check_fields(&mut c, &i, Some(&mask));
    let building = if mask.has("building") {
        c.optional_name("issue.building", &i.building, "buildings")
    } else {
        None
    };
    c.finish()?;
    let new_item = if mask.has("sub_item") {
        let code = read_code("issue.sub_item", &i.sub_item, "subItems")?;
        Some(
            svc.sub_items
                .get(svc.ctx.db.read(), &code)
                .await?
                .filter(|s| s.active)
                .ok_or_else(|| {
                    Error::invalid(
                        "issue.sub_item",
                        format!("{} is not an active sub-item", i.sub_item),
                    )
                })?,
        )
    } else {
        None
    };

    if mask.has("building") {
        // An issue's courtyard never changes: read it before the write, so
        // the building is resolved outside it.
        let courtyard = get_visible(svc.ctx.db.read(), scope, id)
            .await?
            .courtyard_id;
        check_building(svc, building, courtyard).await?;
    }

    let now = svc.ctx.clock.now();
    let txn = svc.ctx.db.begin_write().await?;
    let row = get_visible(&txn, scope, id).await?;
    scope.require_staff(row.community_id, &name(id))?;
    let mut edit = VERSIONED.edit(row, &i.etag, &name(id), now)?;
    // Re-categorised: the SLA clocks stay where they were set at report.
    let two_nos_touched = new_item
        .as_ref()
        .is_some_and(|item| item.two_nos || item.id != edit.before.sub_item_id);
    let checked = Checked {
        building,
        sub_item: new_item,
    };
    edit.apply(&FIELDS, &mask, &Input { sent: i, checked });
    let (row, am) = edit.into_parts();
    // Before the issue is locked ([`two_nos::take_turn`]).
    let two_nos = if two_nos_touched {
        Some(two_nos::take_turn(&txn, row.courtyard_id).await?)
    } else {
        None
    };
    let saved = save(&txn, &row, am).await?;
    let paths: Vec<&str> = mask.paths().collect();
    timeline::record(
        &txn,
        id,
        Entry::new(IssueUpdateKind::Edit, &principal.describe(), now)
            .with_text(format!("edited {}", paths.join(", "))),
    )
    .await?;
    if let Some(turn) = &two_nos {
        two_nos::recompute(&txn, turn, saved.community_id, now).await?;
    }
    txn.commit().await?;
    // Rendered from a reader once committed, so that the write holds the
    // database's one writer no longer than it writes.
    render(svc.ctx.db.read(), scope, &saved, now).await
}

/// FindSimilarIssues.
pub async fn find_similar(
    svc: &Issues,
    scope: &Scope,
    req: FindSimilarIssuesRequest,
) -> Result<FindSimilarIssuesResponse> {
    let mut c = Check::new();
    let courtyard = c.name("courtyard", &req.courtyard, "courtyards");
    if let Some(p) = &req.location {
        c.location("location", p);
    }
    c.range("max_results", req.max_results.into(), 0, 100);
    c.finish()?;
    let code = read_code("sub_item", &req.sub_item, "subItems")?;
    let limit = if req.max_results == 0 {
        10
    } else {
        req.max_results as usize
    };
    let now = svc.ctx.clock.now();
    let conn = svc.ctx.db.read();
    let candidates = Entity::find()
        .filter(access::issue_condition(scope))
        .filter(Column::CourtyardId.eq(courtyard))
        .filter(Column::SubItemId.eq(code))
        .filter(Column::State.is_in(OPEN.map(|s| s as i32)))
        .filter(Column::CreateTime.gte(now - Duration::days(30)))
        .order_by_desc(Column::CreateTime)
        // Ids (UUIDv7) break ties, so "newest first" holds when many share
        // a time, and the same request always gets the same answer.
        .order_by_desc(Column::Id)
        .limit(500)
        .all(svc.ctx.db.search())
        .await?;
    let mut found: Vec<(f64, Model)> = candidates
        .into_iter()
        .map(|m| {
            let d = match (&req.location, m.latitude.zip(m.longitude)) {
                (Some(p), Some((lat, lon))) => haversine_meters(p.latitude, p.longitude, lat, lon),
                _ => -1.0,
            };
            (d, m)
        })
        .collect();
    if req.location.is_some() {
        // Nearest first; issues without coordinates after those with.
        found.sort_by(|(a, x), (b, y)| {
            let key = |d: f64| if d < 0.0 { f64::INFINITY } else { d };
            key(*a)
                .total_cmp(&key(*b))
                .then(y.create_time.cmp(&x.create_time))
        });
    }
    found.truncate(limit);
    let rendered = render_many(conn, scope, found.iter().map(|(_, m)| m), now).await?;
    Ok(FindSimilarIssuesResponse {
        issues: found
            .iter()
            .zip(rendered)
            .map(|((d, _), issue)| SimilarIssue {
                issue: Some(issue),
                distance_meters: *d,
            })
            .collect(),
    })
}

/// Great-circle distance in metres.
pub fn haversine_meters(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    const R: f64 = 6_371_008.8;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * R * a.sqrt().asin()
}

#[cfg(test)]
mod tests {
    #[test]
    fn distances() {
        // Niujie mosque to the Fayuansi temple: about 700 m.
        let d = super::haversine_meters(39.8841, 116.3637, 39.8813, 116.3713);
        assert!((600.0..800.0).contains(&d), "{d}");
        assert_eq!(super::haversine_meters(39.9, 116.4, 39.9, 116.4), 0.0);
    }
}
