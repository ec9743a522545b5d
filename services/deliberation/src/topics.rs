//! Topics (议题): GetTopic, ListTopics, CreateTopic, UpdateTopic,
//! SupportTopic, ScheduleTopic, OpenTopicDiscussion, RejectTopic,
//! WithdrawTopic, CompleteTopic. The state machine is [`crate::lifecycle`];
//! polls, resolutions and action items move topics through it too.

use chrono::{DateTime, Utc};
use cogov_kit::ErrorReason;
use cogov_kit::auth::Principal;
use cogov_kit::fieldmask::{Fields, Input, UpdateMask};
use cogov_kit::filter::{Field, Kind};
use cogov_kit::idempotency::{self, Key};
use cogov_kit::json::{from_json, to_json};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::scope::Scope;
use cogov_kit::store::Versioned;
use cogov_kit::validate::{Check, read_id, required};
use cogov_kit::write::{Defers, Write};
use cogov_kit::{Error, Result, convert, etag, names};
use cogov_proto::deliberation::*;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, JoinType, PaginatorTrait,
    QueryFilter, QuerySelect,
};
use uuid::Uuid;

use crate::access::Caller;
use crate::entity::topics::{self as rows, Column, Entity, Model};
use crate::entity::{action_items, resolutions, supports};
use crate::lifecycle::{self, Action};
use crate::{Deliberation, councils};

pub(crate) const COLLECTION: &str = "topics";
pub(crate) const VERSIONED: Versioned<Column> = Versioned {
    id: Column::Id,
    revision: Column::Revision,
    update_time: Some(Column::UpdateTime),
};

/// `topics/{id}`.
pub fn name(id: Uuid) -> String {
    names::format(COLLECTION, id)
}

/// A topic's state.
pub fn state_of(m: &Model) -> TopicState {
    TopicState::try_from(m.state).unwrap_or_default()
}

fn to_proto(m: &Model) -> Topic {
    Topic {
        name: name(m.id),
        council: councils::name(m.council_id),
        title: m.title.clone(),
        description: m.description.clone(),
        source: m.source,
        proposer: m.proposer.clone(),
        evidence_issues: from_json(&m.evidence_issues),
        cluster: m.cluster.clone(),
        support_count: m.support_count,
        support_threshold: m.support_threshold,
        state: m.state,
        close_reason: m.close_reason.clone(),
        create_time: Some(convert::timestamp(m.create_time)),
        update_time: Some(convert::timestamp(m.update_time)),
        etag: etag::format(m.revision),
    }
}

/// Loads a topic of a council the caller sees.
pub async fn visible<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    id: Uuid,
) -> Result<(councils::Model, Model)> {
    // The topic and its council in one statement: every call on a topic
    // begins here.
    let found = Entity::find_by_id(id)
        .select_also(councils::Entity)
        .join(
            JoinType::InnerJoin,
            Entity::belongs_to(councils::Entity)
                .from(Column::CouncilId)
                .to(councils::Column::Id)
                .into(),
        )
        .one(conn)
        .await?;
    match found {
        Some((m, Some(council))) if caller.sees(&council) => Ok((council, m)),
        _ => Err(caller.scope.missing("Topic", &name(id))),
    }
}

/// Loads a topic from a `topics/{id}` field.
pub async fn visible_named<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    field: &str,
    value: &str,
) -> Result<(councils::Model, Model)> {
    visible(conn, caller, read_id(field, value, COLLECTION)?).await
}

/// Moves a topic by `action` inside `txn`, or says why it cannot.
pub async fn advance(
    txn: &Write,
    row: &Model,
    action: Action,
    close_reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<Model> {
    let from = state_of(row);
    let to = lifecycle::next(from, action).ok_or_else(|| {
        Error::illegal_transition(name(row.id), lifecycle::state_name(from), action.verb())
    })?;
    if to == from && close_reason.is_none() {
        return Ok(row.clone());
    }
    let mut edit = VERSIONED.edit(row.clone(), "", &name(row.id), now)?;
    edit.changes.state = Set(to as i32);
    if let Some(reason) = close_reason {
        edit.changes.close_reason = Set(reason);
    }
    edit.save(txn).await
}

struct Checked {
    council: Uuid,
    evidence: Vec<String>,
}

const FIELDS: Fields<Input<Topic, Checked>, rows::ActiveModel> = Fields::new(&[
    ("title", |am, i| am.title = Set(i.sent.title.clone())),
    ("description", |am, i| {
        am.description = Set(i.sent.description.clone())
    }),
    ("evidence_issues", |am, i| {
        am.evidence_issues = Set(to_json(&i.checked.evidence))
    }),
    ("cluster", |am, i| am.cluster = Set(i.sent.cluster.clone())),
]);

fn check(c: &mut Check, t: &Topic, mask: Option<&UpdateMask>) -> Checked {
    let want = |f: &str| mask.is_none_or(|m| m.has(f));
    if want("title") {
        c.line("topic.title", &t.title, 1, 200);
    }
    if want("description") {
        c.text("topic.description", &t.description, 0, 8000);
    }
    let mut evidence = Vec::new();
    if want("evidence_issues") {
        if t.evidence_issues.len() > 20 {
            c.add("topic.evidence_issues", "at most 20 issues");
        }
        for (i, issue) in t.evidence_issues.iter().enumerate() {
            if let Some(id) =
                c.optional_name(&format!("topic.evidence_issues[{i}]"), issue, "issues")
            {
                let issue = names::format("issues", id);
                if !evidence.contains(&issue) {
                    evidence.push(issue);
                }
            }
        }
    }
    if want("cluster") {
        c.optional_name("topic.cluster", &t.cluster, "clusters");
    }
    Checked {
        council: if mask.is_none() {
            c.name("topic.council", &t.council, councils::COLLECTION)
        } else {
            Uuid::nil()
        },
        evidence,
    }
}

/// GetTopic.
pub async fn get(svc: &Deliberation, caller: &Caller, req: GetTopicRequest) -> Result<Topic> {
    let (_, m) = visible_named(svc.ctx.db.read(), caller, "name", &req.name).await?;
    Ok(to_proto(&m))
}

/// ListTopics: newest first, or by support.
pub async fn list(
    svc: &Deliberation,
    caller: &Caller,
    req: ListTopicsRequest,
) -> Result<ListTopicsResponse> {
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
                |s| TopicState::from_str_name(s).map(|v| v as i32),
                "TOPIC_STATE_",
            ),
        ),
        Field::column(
            "source",
            Column::Source,
            Kind::Enum(
                |s| TopicSource::from_str_name(s).map(|v| v as i32),
                "TOPIC_SOURCE_",
            ),
        ),
        Field::column("community", Column::CommunityId, Kind::Name("communities")),
    ];
    let query = ListQuery::new(
        "ListTopics",
        req.page_size,
        &req.page_token,
        &req.filter,
        &req.order_by,
    );
    let mut spec = Spec::new(
        &fields,
        &[("support_count", Column::SupportCount)],
        Column::Id,
    );
    spec.newest_first = true;
    let mut base = Entity::find();
    if let Some(cond) = caller.council_condition(svc, Column::CouncilId).await? {
        base = base.filter(cond);
    }
    let (rows, next_page_token) =
        listing::list(&svc.ctx.tokens, &svc.ctx.db, query, spec, base, |m| {
            (SortKey::Int(m.support_count.into()), m.id)
        })
        .await?;
    Ok(ListTopicsResponse {
        topics: rows.iter().map(to_proto).collect(),
        next_page_token,
    })
}

/// CreateTopic: anyone who sees the council proposes; the source follows
/// from who calls (staff with evidence issues or a cluster: an escalated
/// issue).
pub async fn create(
    svc: &Deliberation,
    caller: &Caller,
    principal: &Principal,
    req: CreateTopicRequest,
) -> Result<Topic> {
    let key = Key::new("CreateTopic", &req.request_id, principal, &req);
    let t = required("topic", req.topic)?;
    let mut c = Check::new();
    let checked = check(&mut c, &t, None);
    c.request_id(&req.request_id);
    c.finish()?;
    caller.scope.require_verified("proposing a topic")?;
    let council = councils::visible(svc.ctx.db.read(), caller, checked.council).await?;
    let escalated = !checked.evidence.is_empty() || !t.cluster.is_empty();
    let (source, proposer, person, organization) = match &caller.scope {
        Scope::Resident { person, .. } => (
            TopicSource::Resident,
            names::format("persons", *person),
            Some(*person),
            None,
        ),
        Scope::Partner { organization, .. } => (
            TopicSource::Partner,
            names::format("organizations", *organization),
            None,
            Some(*organization),
        ),
        _ if escalated => (
            TopicSource::EscalatedIssue,
            caller.label.clone(),
            None,
            None,
        ),
        _ => (TopicSource::Staff, caller.label.clone(), None, None),
    };
    let now = svc.ctx.clock.now();
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        let topic = NewTopic {
            title: t.title,
            description: t.description,
            source,
            proposer,
            proposer_person: person,
            proposer_organization: organization,
            evidence: checked.evidence,
            cluster: t.cluster,
        };
        insert(txn, &council, topic, now).await
    })
    .await
}

/// What a new topic says; [`insert`] adds the rest.
#[derive(Debug)]
pub(crate) struct NewTopic {
    pub title: String,
    pub description: String,
    pub source: TopicSource,
    pub proposer: String,
    pub proposer_person: Option<Uuid>,
    pub proposer_organization: Option<Uuid>,
    pub evidence: Vec<String>,
    pub cluster: String,
}

/// Stores a PROPOSED topic in `council` and announces it (`TopicOpened`).
pub(crate) async fn insert<C: Defers>(
    txn: &C,
    council: &councils::Model,
    t: NewTopic,
    now: DateTime<Utc>,
) -> Result<Topic> {
    let row = rows::ActiveModel {
        id: Set(names::new_id()),
        council_id: Set(council.id),
        community_id: Set(council.community_id),
        title: Set(t.title),
        description: Set(t.description),
        source: Set(t.source as i32),
        proposer: Set(t.proposer),
        proposer_person: Set(t.proposer_person),
        proposer_organization: Set(t.proposer_organization),
        evidence_issues: Set(to_json(&t.evidence)),
        cluster: Set(t.cluster),
        support_count: Set(0),
        support_threshold: Set(council.support_threshold),
        state: Set(TopicState::Proposed as i32),
        close_reason: Set(String::new()),
        revision: Set(1),
        create_time: Set(now),
        update_time: Set(now),
    }
    .insert(txn)
    .await?;
    let topic = to_proto(&row);
    crate::events::topic_opened(txn, council, &topic, now).await?;
    Ok(topic)
}

/// A topic's evidence issues.
pub fn evidence_of(m: &Model) -> Vec<String> {
    from_json(&m.evidence_issues)
}

/// Whether the caller proposed the topic.
fn proposed(caller: &Caller, m: &Model) -> bool {
    match &caller.scope {
        Scope::Resident { person, .. } => m.proposer_person == Some(*person),
        Scope::Partner { organization, .. } => m.proposer_organization == Some(*organization),
        _ => false,
    }
}

/// UpdateTopic: its proposer while it is PROPOSED, or the council's
/// managers until it is closed.
pub async fn update(svc: &Deliberation, caller: &Caller, req: UpdateTopicRequest) -> Result<Topic> {
    let t = required("topic", req.topic)?;
    let id = read_id("topic.name", &t.name, COLLECTION)?;
    let mask = FIELDS.mask(req.update_mask.as_ref())?;
    let mut c = Check::new();
    let checked = check(&mut c, &t, Some(&mask));
    c.finish()?;
    let txn = svc.ctx.db.begin_write().await?;
    let (council, row) = visible(&txn, caller, id).await?;
    let now = svc.ctx.clock.now();
    let mut edit = VERSIONED.edit(row, &t.etag, &name(id), now)?;
    let row = &edit.before;
    let state = state_of(row);
    let closed = matches!(
        state,
        TopicState::Completed | TopicState::Rejected | TopicState::Withdrawn
    );
    let allowed = if caller.manages(&council) {
        !closed
    } else if proposed(caller, row) {
        state == TopicState::Proposed
    } else {
        return Err(Error::forbidden(format!(
            "edit {}; its proposer or the council's secretary or staff only",
            name(id)
        )));
    };
    if !allowed {
        return Err(Error::illegal_transition(
            name(id),
            lifecycle::state_name(state),
            "edited",
        ));
    }
    edit.apply(&FIELDS, &mask, &Input { sent: t, checked });
    let saved = edit.save(&txn).await?;
    txn.commit().await?;
    Ok(to_proto(&saved))
}

/// SupportTopic: a co-signature, once per person; a repeat changes nothing.
/// Residents sign for themselves; the secretary or staff record paper
/// signatures. At the council's threshold the topic goes ON_AGENDA.
pub async fn support(
    svc: &Deliberation,
    caller: &Caller,
    req: SupportTopicRequest,
) -> Result<Topic> {
    let id = read_id("name", &req.name, COLLECTION)?;
    let supporter = read_id("supporter", &req.supporter, "persons")?;
    caller.scope.require_verified("co-signing a topic")?;
    let (council, _) = visible(svc.ctx.db.read(), caller, id).await?;
    match caller.person() {
        Some(me) if me == supporter => {}
        _ if caller.manages(&council) => {}
        Some(_) => return Err(Error::forbidden("co-sign for someone else")),
        None => {
            return Err(Error::forbidden(
                "co-sign topics; residents, the secretary or staff only",
            ));
        }
    }
    let person = svc
        .directory
        .person(supporter)
        .await?
        .ok_or_else(|| Error::invalid("supporter", "no such person"))?;
    let lives_there = match council.courtyard_id {
        Some(c) => person.courtyard == Some(c),
        None => person.community == council.community_id,
    };
    let seated =
        crate::councils::kinds_in_force(svc.ctx.db.read(), council.id, svc.ctx.clock.today())
            .await?
            .iter()
            .any(|(p, _)| *p == supporter);
    if !lives_there && !seated {
        return Err(Error::precondition(
            ErrorReason::NotEligible,
            "ELIGIBILITY",
            req.supporter.clone(),
            "only residents of the council's place or its members co-sign",
        ));
    }
    let now = svc.ctx.clock.now();
    let txn = svc.ctx.db.begin_write().await?;
    // The signature first, the topic's row last: one person's concurrent
    // signatures meet at the signature's unique key (a later one waits
    // for the earlier's commit, then adds nothing), and the row every
    // co-signer counts on is held from the count to the commit only.
    let signed_now = supports::Entity::insert(supports::ActiveModel {
        id: Set(names::new_id()),
        topic_id: Set(id),
        person_id: Set(supporter),
        create_time: Set(now),
    })
    .on_conflict(
        OnConflict::columns([supports::Column::TopicId, supports::Column::PersonId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_)) => {
            caller.scope.missing("Topic", &name(id))
        }
        _ => e.into(),
    })?;
    if signed_now == 0 {
        // A repeat changes nothing, also once the topic has moved on.
        return Ok(to_proto(&current(&txn, caller, id).await?));
    }
    // Co-signers of one topic count in turn; waiting here, this write
    // holds nothing another co-signer's could want.
    txn.keep_turn(svc.ctx.db.turn_at(id).await);
    // Counted while proposed; the count that reaches the threshold puts
    // the topic on the agenda. SET reads the row as it was.
    let reaches = Expr::col(Column::SupportThreshold).gt(0).and(
        Expr::col(Column::SupportCount)
            .add(1)
            .gte(Expr::col(Column::SupportThreshold)),
    );
    let counted = Entity::update_many()
        .col_expr(Column::SupportCount, Expr::col(Column::SupportCount).add(1))
        .col_expr(
            Column::State,
            Expr::case(reaches, TopicState::OnAgenda as i32)
                .finally(Expr::col(Column::State))
                .into(),
        )
        .col_expr(Column::Revision, Expr::col(Column::Revision).add(1))
        .col_expr(Column::UpdateTime, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::State.eq(TopicState::Proposed as i32))
        .exec_with_returning(&txn)
        .await?
        .pop();
    let Some(saved) = counted else {
        let row = current(&txn, caller, id).await?;
        return Err(Error::illegal_transition(
            name(id),
            lifecycle::state_name(state_of(&row)),
            "co-signed",
        ));
    };
    txn.commit().await?;
    Ok(to_proto(&saved))
}

/// Topic `id` as the write `txn` sees it.
async fn current(txn: &impl ConnectionTrait, caller: &Caller, id: Uuid) -> Result<Model> {
    Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or_else(|| caller.scope.missing("Topic", &name(id)))
}

/// One managed lifecycle step: load, check the etag, move, save.
async fn step(
    svc: &Deliberation,
    caller: &Caller,
    id: Uuid,
    etag_in: &str,
    action: Action,
    reason: Option<String>,
) -> Result<Topic> {
    let txn = svc.ctx.db.begin_write().await?;
    let (council, row) = visible(&txn, caller, id).await?;
    let by_proposer = action == Action::Withdraw && proposed(caller, &row);
    if !by_proposer {
        caller.require_manager(&council, &format!("move {}", name(id)))?;
    }
    etag::check(etag_in, row.revision, &name(id))?;
    if action == Action::Complete {
        let pending = action_items::Entity::find()
            .filter(
                action_items::Column::ResolutionId.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(resolutions::Column::Id)
                        .from(resolutions::Entity)
                        .and_where(resolutions::Column::TopicId.eq(id))
                        .to_owned(),
                ),
            )
            .filter(action_items::Column::Status.is_not_in([
                ActionItemStatus::Done as i32,
                ActionItemStatus::Cancelled as i32,
            ]))
            .count(&txn)
            .await?;
        if pending > 0 {
            return Err(Error::precondition(
                ErrorReason::ActionItemsPending,
                "ACTION_ITEMS",
                name(id),
                format!("{pending} action items are neither done nor cancelled"),
            ));
        }
    }
    let saved = advance(&txn, &row, action, reason, svc.ctx.clock.now()).await?;
    txn.commit().await?;
    Ok(to_proto(&saved))
}

fn reason(c: &mut Check, field: &str, value: &str, min: usize) -> String {
    c.text(field, value, min, 2000);
    value.to_owned()
}

/// ScheduleTopic.
pub async fn schedule(
    svc: &Deliberation,
    caller: &Caller,
    req: ScheduleTopicRequest,
) -> Result<Topic> {
    step(
        svc,
        caller,
        read_id("name", &req.name, COLLECTION)?,
        &req.etag,
        Action::Schedule,
        None,
    )
    .await
}

/// OpenTopicDiscussion.
pub async fn open_discussion(
    svc: &Deliberation,
    caller: &Caller,
    req: OpenTopicDiscussionRequest,
) -> Result<Topic> {
    step(
        svc,
        caller,
        read_id("name", &req.name, COLLECTION)?,
        &req.etag,
        Action::OpenDiscussion,
        None,
    )
    .await
}

/// RejectTopic, with a reason.
pub async fn reject(svc: &Deliberation, caller: &Caller, req: RejectTopicRequest) -> Result<Topic> {
    let mut c = Check::new();
    let id = c.name("name", &req.name, COLLECTION);
    let why = reason(&mut c, "reason", &req.reason, 1);
    c.finish()?;
    step(svc, caller, id, &req.etag, Action::Reject, Some(why)).await
}

/// WithdrawTopic: its proposer (or the council's managers).
pub async fn withdraw(
    svc: &Deliberation,
    caller: &Caller,
    req: WithdrawTopicRequest,
) -> Result<Topic> {
    let mut c = Check::new();
    let id = c.name("name", &req.name, COLLECTION);
    let why = reason(&mut c, "reason", &req.reason, 0);
    c.finish()?;
    step(svc, caller, id, &req.etag, Action::Withdraw, Some(why)).await
}

/// CompleteTopic: once every action item is done or cancelled.
pub async fn complete(
    svc: &Deliberation,
    caller: &Caller,
    req: CompleteTopicRequest,
) -> Result<Topic> {
    step(
        svc,
        caller,
        read_id("name", &req.name, COLLECTION)?,
        &req.etag,
        Action::Complete,
        None,
    )
    .await
}
