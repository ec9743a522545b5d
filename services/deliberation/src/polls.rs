//! Polls: GetPoll, ListPolls, CreatePoll, UpdatePoll, OpenPoll, ClosePoll.
//! DRAFT → OPEN → CLOSED; an open poll also closes by itself at its
//! close_time. Opening fixes who is eligible. Ballots and results are in
//! [`crate::ballots`].

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use cogov_kit::ErrorReason;
use cogov_kit::auth::Principal;
use cogov_kit::fieldmask::Fields;
use cogov_kit::filter::{Field, Kind};
use cogov_kit::idempotency::{self, Key};
use cogov_kit::json::{from_json, to_json};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::store::Versioned;
use cogov_kit::validate::{Check, read_id, required};
use cogov_kit::write::Write;
use cogov_kit::{Error, Result, convert, etag, names};
use cogov_proto::deliberation::*;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::access::Caller;
use crate::entity::polls::{self as rows, Column, Entity, Model};
use crate::entity::{ballots, meetings as meeting_rows};
use crate::lifecycle::Action;
use crate::methods::{self, Rules, StoredOption};
use crate::{Deliberation, composition, councils, lifecycle, meetings, topics};

pub mod voters;

pub(crate) const COLLECTION: &str = "polls";
pub(crate) const VERSIONED: Versioned<Column> = Versioned {
    id: Column::Id,
    revision: Column::Revision,
    update_time: Some(Column::UpdateTime),
};
/// What may change of a draft: each field merged into the poll as it will
/// be, which is then checked whole.
const FIELDS: Fields<Poll, Poll> = Fields::new(&[
    ("title", |m, p| m.title = p.title.clone()),
    ("details", |m, p| m.details = p.details.clone()),
    ("method", |m, p| m.method = p.method),
    ("options", |m, p| m.options = p.options.clone()),
    ("min_choices", |m, p| m.min_choices = p.min_choices),
    ("max_choices", |m, p| m.max_choices = p.max_choices),
    ("dots_per_voter", |m, p| m.dots_per_voter = p.dots_per_voter),
    ("count_target", |m, p| m.count_target = p.count_target),
    ("close_time", |m, p| m.close_time = p.close_time),
    ("anonymous", |m, p| m.anonymous = p.anonymous),
    ("results_visibility", |m, p| {
        m.results_visibility = p.results_visibility
    }),
    ("eligibility", |m, p| m.eligibility = p.eligibility),
    ("eligible_persons", |m, p| {
        m.eligible_persons = p.eligible_persons.clone()
    }),
    ("quorum_percent", |m, p| m.quorum_percent = p.quorum_percent),
    ("meeting", |m, p| m.meeting = p.meeting.clone()),
]);
/// What may change while a poll is open.
const OPEN_FIELDS: &[&str] = &["title", "details", "close_time", "anonymous"];

/// `polls/{id}`.
pub fn name(id: Uuid) -> String {
    names::format(COLLECTION, id)
}

/// Where a poll stands now: an open poll past its close_time is closed.
pub fn state_at(m: &Model, now: DateTime<Utc>) -> PollState {
    match PollState::try_from(m.state).unwrap_or_default() {
        PollState::Open if now >= m.close_time => PollState::Closed,
        s => s,
    }
}

fn state_name(s: PollState) -> &'static str {
    s.as_str_name().trim_start_matches("POLL_STATE_")
}

/// The method's rules, as stored.
pub fn rules(m: &Model) -> Rules {
    Rules {
        method: PollMethod::try_from(m.method).unwrap_or_default(),
        keys: options(m).into_iter().map(|o| o.key).collect(),
        min_choices: m.min_choices,
        max_choices: m.max_choices,
        dots: m.dots_per_voter,
        count_target: m.count_target,
    }
}

/// The options, as stored.
pub fn options(m: &Model) -> Vec<StoredOption> {
    from_json(&m.options)
}

/// The key one voter's ballot is kept under: the voter's id, or on an
/// anonymous poll a salted hash of it, so that the store keeps one ballot
/// per voter without naming them.
pub fn voter_key(m: &Model, voter: Uuid) -> String {
    if m.anonymous {
        anonymous_key(&m.salt, voter)
    } else {
        voter.as_hyphenated().to_string()
    }
}

fn anonymous_key(salt: &str, voter: Uuid) -> String {
    Sha256::new()
        .chain_update(salt.as_bytes())
        .chain_update(voter.as_bytes())
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// As in the API, with its ballots counted, seen at `now`.
pub async fn render<C: ConnectionTrait>(conn: &C, m: &Model, now: DateTime<Utc>) -> Result<Poll> {
    let counted = ballot_counts(conn, &[m.id]).await?;
    Ok(to_proto(m, counted.get(&m.id).copied().unwrap_or(0), now))
}

/// The ballots cast online in each of `polls` (absent: none). Counted when
/// read rather than kept on the poll's row, which every voter would
/// otherwise have to update.
async fn ballot_counts<C: ConnectionTrait>(conn: &C, polls: &[Uuid]) -> Result<HashMap<Uuid, i32>> {
    let counts: Vec<(Uuid, i64)> = ballots::Entity::find()
        .select_only()
        .column(ballots::Column::PollId)
        .column_as(ballots::Column::Id.count(), "n")
        .filter(ballots::Column::PollId.is_in(polls.iter().copied()))
        .group_by(ballots::Column::PollId)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(counts
        .into_iter()
        .map(|(poll, n)| (poll, i32::try_from(n).unwrap_or(i32::MAX)))
        .collect())
}

/// As in the API, with `ballot_count` ballots, seen at `now`.
fn to_proto(m: &Model, ballot_count: i32, now: DateTime<Utc>) -> Poll {
    Poll {
        name: name(m.id),
        topic: topics::name(m.topic_id),
        meeting: m.meeting_id.map(meetings::name).unwrap_or_default(),
        title: m.title.clone(),
        details: m.details.clone(),
        method: m.method,
        options: options(m).iter().map(StoredOption::to_proto).collect(),
        min_choices: m.min_choices,
        max_choices: m.max_choices,
        dots_per_voter: m.dots_per_voter,
        count_target: m.count_target,
        close_time: Some(convert::timestamp(m.closed_time.unwrap_or(m.close_time))),
        anonymous: m.anonymous,
        results_visibility: m.results_visibility,
        eligibility: m.eligibility,
        eligible_persons: from_json::<Uuid>(&m.eligible_persons)
            .into_iter()
            .map(|p| names::format("persons", p))
            .collect(),
        quorum_percent: m.quorum_percent,
        state: state_at(m, now) as i32,
        ballot_count,
        create_time: Some(convert::timestamp(m.create_time)),
        update_time: Some(convert::timestamp(m.update_time)),
        etag: etag::format(m.revision),
    }
}

/// Loads a poll of a council the caller sees, with its council.
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
    Err(caller.scope.missing("Poll", &name(id)))
}

/// A poll as checked, ready to store.
struct Checked {
    topic: Uuid,
    method: PollMethod,
    options: Vec<StoredOption>,
    rules: Rules,
    close: Option<DateTime<Utc>>,
    visibility: ResultsVisibility,
    eligibility: Eligibility,
    persons: Vec<Uuid>,
    meeting: Option<Uuid>,
}

fn check(c: &mut Check, p: &Poll, creating: bool) -> Checked {
    c.line("poll.title", &p.title, 1, 200);
    c.text("poll.details", &p.details, 0, 4000);
    let method: PollMethod = c.enumeration("poll.method", p.method, true);
    let (options, rules) = methods::check_poll(
        c,
        method,
        &p.options,
        p.min_choices,
        p.max_choices,
        p.dots_per_voter,
        p.count_target,
    );
    let close = p.close_time.as_ref().and_then(convert::from_timestamp);
    if close.is_none() {
        c.add("poll.close_time", "is required");
    }
    let visibility = c.enumeration("poll.results_visibility", p.results_visibility, false);
    let eligibility: Eligibility = c.enumeration("poll.eligibility", p.eligibility, true);
    let mut persons = Vec::new();
    if eligibility == Eligibility::NamedList {
        if !(1..=1000).contains(&p.eligible_persons.len()) {
            c.add("poll.eligible_persons", "name between 1 and 1000 persons");
        }
        for (i, v) in p.eligible_persons.iter().enumerate() {
            let id = c.name(&format!("poll.eligible_persons[{i}]"), v, "persons");
            if !persons.contains(&id) {
                persons.push(id);
            }
        }
    } else if !p.eligible_persons.is_empty() {
        c.add("poll.eligible_persons", "only for ELIGIBILITY_NAMED_LIST");
    }
    c.range("poll.quorum_percent", p.quorum_percent.into(), 0, 100);
    Checked {
        topic: if creating {
            c.name("poll.topic", &p.topic, topics::COLLECTION)
        } else {
            Uuid::nil()
        },
        method,
        options,
        rules,
        close,
        visibility,
        eligibility,
        persons,
        meeting: c.optional_name("poll.meeting", &p.meeting, meetings::COLLECTION),
    }
}

async fn check_meeting<C: ConnectionTrait>(
    conn: &C,
    council: Uuid,
    meeting: Option<Uuid>,
) -> Result<()> {
    if let Some(m) = meeting {
        let found = meeting_rows::Entity::find_by_id(m).one(conn).await?;
        if found.is_none_or(|f| f.council_id != council) {
            return Err(Error::invalid(
                "poll.meeting",
                "no such meeting of this council",
            ));
        }
    }
    Ok(())
}

/// GetPoll.
pub async fn get(svc: &Deliberation, caller: &Caller, req: GetPollRequest) -> Result<Poll> {
    let conn = svc.ctx.db.read();
    let (_, m) = visible(conn, caller, "name", &req.name).await?;
    render(conn, &m, svc.ctx.clock.now()).await
}

/// ListPolls: newest first.
pub async fn list(
    svc: &Deliberation,
    caller: &Caller,
    req: ListPollsRequest,
) -> Result<ListPollsResponse> {
    let fields = [
        Field::column("topic", Column::TopicId, Kind::Name(topics::COLLECTION)),
        Field::column(
            "meeting",
            Column::MeetingId,
            Kind::Name(meetings::COLLECTION),
        ),
        Field::column(
            "state",
            Column::State,
            Kind::Enum(
                |s| PollState::from_str_name(s).map(|v| v as i32),
                "POLL_STATE_",
            ),
        ),
        Field::column(
            "method",
            Column::Method,
            Kind::Enum(
                |s| PollMethod::from_str_name(s).map(|v| v as i32),
                "POLL_METHOD_",
            ),
        ),
    ];
    let query = ListQuery::new("ListPolls", req.page_size, &req.page_token, &req.filter, "");
    let mut spec = Spec::new(&fields, &[], Column::Id);
    spec.newest_first = true;
    let mut base = Entity::find();
    if let Some(cond) = caller.council_condition(svc, Column::CouncilId).await? {
        base = base.filter(cond);
    }
    let (rows, next_page_token) =
        listing::list(&svc.ctx.tokens, &svc.ctx.db, query, spec, base, |m| {
            (SortKey::None, m.id)
        })
        .await?;
    let now = svc.ctx.clock.now();
    let ids: Vec<Uuid> = rows.iter().map(|m| m.id).collect();
    let counts = ballot_counts(svc.ctx.db.read(), &ids).await?;
    Ok(ListPollsResponse {
        polls: rows
            .iter()
            .map(|m| to_proto(m, counts.get(&m.id).copied().unwrap_or(0), now))
            .collect(),
        next_page_token,
    })
}

/// CreatePoll, as a DRAFT: the council's secretary or staff.
pub async fn create(
    svc: &Deliberation,
    caller: &Caller,
    principal: &Principal,
    req: CreatePollRequest,
) -> Result<Poll> {
    let key = Key::new("CreatePoll", &req.request_id, principal, &req);
    let p = required("poll", req.poll)?;
    let mut c = Check::new();
    let checked = check(&mut c, &p, true);
    c.request_id(&req.request_id);
    c.finish()?;
    let conn = svc.ctx.db.read();
    let (council, topic) = topics::visible(conn, caller, checked.topic).await?;
    caller.require_manager(&council, "create polls")?;
    if matches!(
        topics::state_of(&topic),
        TopicState::Completed | TopicState::Rejected | TopicState::Withdrawn
    ) {
        return Err(Error::illegal_transition(
            topics::name(topic.id),
            lifecycle::state_name(topics::state_of(&topic)),
            "polled",
        ));
    }
    check_meeting(conn, council.id, checked.meeting).await?;
    let now = svc.ctx.clock.now();
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        let row = rows::ActiveModel {
            id: Set(names::new_id()),
            topic_id: Set(topic.id),
            council_id: Set(council.id),
            meeting_id: Set(checked.meeting),
            title: Set(p.title),
            details: Set(p.details),
            method: Set(checked.method as i32),
            options: Set(to_json(&checked.options)),
            min_choices: Set(checked.rules.min_choices),
            max_choices: Set(checked.rules.max_choices),
            dots_per_voter: Set(checked.rules.dots),
            count_target: Set(checked.rules.count_target),
            close_time: Set(checked.close.expect("checked")),
            closed_time: Set(None),
            anonymous: Set(p.anonymous),
            results_visibility: Set(checked.visibility as i32),
            eligibility: Set(checked.eligibility as i32),
            eligible_persons: Set(to_json(&checked.persons)),
            eligible_count: Set(0),
            quorum_percent: Set(p.quorum_percent),
            state: Set(PollState::Draft as i32),
            salt: Set(Uuid::new_v4().simple().to_string()),
            revision: Set(1),
            create_time: Set(now),
            update_time: Set(now),
        }
        .insert(txn)
        .await?;
        Ok(to_proto(&row, 0, now))
    })
    .await
}

/// Replaces every ballot's voter with its anonymous key, for good.
async fn anonymise(txn: &Write, poll: &Model) -> Result<()> {
    for b in ballots::Entity::find()
        .filter(ballots::Column::PollId.eq(poll.id))
        .all(txn)
        .await?
    {
        let Some(voter) = b.voter_id else { continue };
        let mut am: ballots::ActiveModel = b.into();
        am.voter_key = Set(anonymous_key(&poll.salt, voter));
        am.voter_id = Set(None);
        am.proxy_holder_id = Set(None);
        am.update(txn).await?;
    }
    Ok(())
}

/// UpdatePoll: anything while DRAFT; the title, details, a later close
/// time or anonymity while OPEN. Anonymity, once set, stays.
pub async fn update(svc: &Deliberation, caller: &Caller, req: UpdatePollRequest) -> Result<Poll> {
    let p = required("poll", req.poll)?;
    // The name before the mask, so a wrong name is what the caller hears of.
    read_id("poll.name", &p.name, COLLECTION)?;
    let mask = FIELDS.mask(req.update_mask.as_ref())?;
    let txn = svc.ctx.db.begin_write().await?;
    let (council, row) = visible(&txn, caller, "poll.name", &p.name).await?;
    caller.require_manager(&council, "change polls")?;
    let now = svc.ctx.clock.now();
    let mut edit = VERSIONED.edit(row, &p.etag, &p.name, now)?;
    let row = edit.before.clone();
    let state = state_at(&row, now);
    if let Some(field) = mask.paths().find(|f| match state {
        PollState::Draft => false,
        PollState::Open => !OPEN_FIELDS.contains(f),
        _ => true,
    }) {
        return Err(Error::illegal_transition(
            name(row.id),
            state_name(state),
            &format!("changed in `{field}`"),
        ));
    }
    if row.anonymous && mask.has("anonymous") && !p.anonymous {
        return Err(Error::precondition(
            ErrorReason::AnonymityIrreversible,
            "ANONYMITY",
            name(row.id),
            "an anonymous poll stays anonymous",
        ));
    }
    // Check the poll as it will be, field by field from the mask.
    let mut merged = to_proto(&row, 0, now);
    merged.topic = topics::name(row.topic_id);
    FIELDS.apply(&mask, &mut merged, &p);
    if mask.has("method") && !mask.has("options") {
        // Options belong to a method: a new method without them starts empty.
        merged.options.clear();
    }
    let mut c = Check::new();
    let checked = check(&mut c, &merged, true);
    let close = checked.close;
    if mask.has("close_time") && close.is_some_and(|t| t <= now) {
        c.add("poll.close_time", "must be in the future");
    }
    c.finish()?;
    check_meeting(&txn, council.id, checked.meeting).await?;
    let am = &mut edit.changes;
    am.title = Set(merged.title);
    am.details = Set(merged.details);
    am.method = Set(checked.method as i32);
    am.options = Set(to_json(&checked.options));
    am.min_choices = Set(checked.rules.min_choices);
    am.max_choices = Set(checked.rules.max_choices);
    am.dots_per_voter = Set(checked.rules.dots);
    am.count_target = Set(checked.rules.count_target);
    am.close_time = Set(close.expect("checked"));
    am.results_visibility = Set(checked.visibility as i32);
    am.eligibility = Set(checked.eligibility as i32);
    am.eligible_persons = Set(to_json(&checked.persons));
    am.quorum_percent = Set(merged.quorum_percent);
    am.meeting_id = Set(checked.meeting);
    if merged.anonymous && !row.anonymous {
        // A ballot holds the poll's row shared until it commits: once the
        // row is ours, every ballot cast so far is in, and later ones find
        // the poll anonymous.
        Entity::find_by_id(row.id)
            .lock_exclusive()
            .one(&txn)
            .await?;
        am.anonymous = Set(true);
        anonymise(&txn, &row).await?;
    }
    let saved = edit.save(&txn).await?;
    txn.commit().await?;
    // Ballots are counted after the commit, on a reader: the writer is
    // free for the next write meanwhile.
    render(svc.ctx.db.read(), &saved, now).await
}

/// Whether a method decides the topic (and so puts it to a vote); time
/// polls and counts only gather information.
pub fn decides(method: PollMethod) -> bool {
    !matches!(method, PollMethod::TimePoll | PollMethod::Count)
}

/// The persons eligible now, for the poll's eligibility.
async fn eligible_now(
    svc: &Deliberation,
    council: &councils::Model,
    poll: &Model,
) -> Result<Vec<Uuid>> {
    let mut out: Vec<Uuid> = match Eligibility::try_from(poll.eligibility).unwrap_or_default() {
        Eligibility::CouncilVotingSeats => {
            councils::kinds_in_force(svc.ctx.db.read(), council.id, svc.ctx.clock.today())
                .await?
                .into_iter()
                .filter(|(_, k)| composition::votes(*k))
                .map(|(p, _)| p)
                .collect()
        }
        Eligibility::Residents => {
            svc.directory
                .residents(council.community_id, council.courtyard_id)
                .await?
        }
        Eligibility::NamedList => from_json(&poll.eligible_persons),
        Eligibility::Unspecified => Vec::new(),
    };
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// OpenPoll: fixes the eligible voters; a deciding poll puts the topic to
/// a vote.
pub async fn open(svc: &Deliberation, caller: &Caller, req: OpenPollRequest) -> Result<Poll> {
    let (council, row) = visible(svc.ctx.db.read(), caller, "name", &req.name).await?;
    caller.require_manager(&council, "open polls")?;
    // Who is eligible is read outside the transaction (it may ask the
    // organizations service) and fixed inside it.
    let eligible = eligible_now(svc, &council, &row).await?;
    let txn = svc.ctx.db.begin_write().await?;
    let row = Entity::find_by_id(row.id)
        .one(&txn)
        .await?
        .ok_or_else(|| caller.scope.missing("Poll", &req.name))?;
    let now = svc.ctx.clock.now();
    let mut edit = VERSIONED.edit(row.clone(), &req.etag, &req.name, now)?;
    let state = state_at(&row, now);
    if state != PollState::Draft {
        return Err(Error::illegal_transition(
            name(row.id),
            state_name(state),
            "opened",
        ));
    }
    if row.close_time <= now {
        return Err(Error::invalid(
            "poll.close_time",
            "must be in the future to open the poll",
        ));
    }
    if eligible.is_empty() {
        return Err(Error::precondition(
            ErrorReason::NoEligibleVoters,
            "ELIGIBILITY",
            name(row.id),
            "nobody is eligible to vote",
        ));
    }
    let method = PollMethod::try_from(row.method).unwrap_or_default();
    let topic = crate::entity::topics::Entity::find_by_id(row.topic_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::Internal("poll without topic".into()))?;
    if decides(method) {
        topics::advance(&txn, &topic, Action::StartVoting, None, now).await?;
    } else if matches!(
        topics::state_of(&topic),
        TopicState::Completed | TopicState::Rejected | TopicState::Withdrawn
    ) {
        return Err(Error::illegal_transition(
            topics::name(topic.id),
            lifecycle::state_name(topics::state_of(&topic)),
            "polled",
        ));
    }
    let am = &mut edit.changes;
    am.state = Set(PollState::Open as i32);
    am.eligible_count = Set(eligible.len() as i32);
    let saved = edit.save(&txn).await?;
    voters::insert(&txn, saved.id, &eligible).await?;
    // Everyone who may vote hears that they may.
    cogov_kit::events::notices::tell(
        &txn,
        crate::ROLE,
        eligible.iter().copied(),
        cogov_kit::events::notices::Notice {
            kind: cogov_proto::common::NoticeKind::PollOpened,
            subject: &name(saved.id),
            title: &saved.title,
            detail: "",
        },
        now,
    )
    .await?;
    txn.commit().await?;
    svc.ctx.db.outbox_committed();
    // Nobody has voted in a poll that was a draft.
    Ok(to_proto(&saved, 0, now))
}

/// ClosePoll: ends voting now (or records the close of a poll whose time
/// has passed).
pub async fn close(svc: &Deliberation, caller: &Caller, req: ClosePollRequest) -> Result<Poll> {
    let txn = svc.ctx.db.begin_write().await?;
    let (council, row) = visible(&txn, caller, "name", &req.name).await?;
    caller.require_manager(&council, "close polls")?;
    let now = svc.ctx.clock.now();
    let mut edit = VERSIONED.edit(row.clone(), &req.etag, &req.name, now)?;
    if PollState::try_from(row.state).unwrap_or_default() != PollState::Open {
        return Err(Error::illegal_transition(
            name(row.id),
            state_name(state_at(&row, now)),
            "closed",
        ));
    }
    let am = &mut edit.changes;
    am.state = Set(PollState::Closed as i32);
    if now < row.close_time {
        am.closed_time = Set(Some(now));
        am.close_time = Set(now);
    }
    let saved = edit.save(&txn).await?;
    txn.commit().await?;
    // Closed, it takes no more ballots: the count read after the commit,
    // on a reader, is the final one.
    render(svc.ctx.db.read(), &saved, now).await
}
