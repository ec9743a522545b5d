//! Voting: CastVote, ListBallots, CreateOfflineTally, GetPollResult.
//!
//! One ballot per eligible voter, changeable until the poll closes: the
//! poll's row is taken first so that one voter's concurrent ballots queue
//! and the later replaces the earlier. On an anonymous poll a ballot is
//! kept under a salted hash of the voter and no response names the voter
//! or the proxy holder.

use std::collections::BTreeMap;

use cogov_kit::ErrorReason;
use cogov_kit::auth::Principal;
use cogov_kit::idempotency::{self, Key};
use cogov_kit::json::{from_json, to_json};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::validate::{Check, required};
use cogov_kit::write::Defers;
use cogov_kit::{Error, Result, convert, names};
use cogov_proto::deliberation::*;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    QueryTrait,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::access::Caller;
use crate::entity::ballots::{self as rows, Column, Entity, Model};
use crate::entity::{ballot_audit, meetings as meeting_rows, offline_tallies, polls as poll_rows};
use crate::tally::{self, Hands};
use crate::{Deliberation, meetings, methods, polls};

#[derive(Serialize, Deserialize)]
struct StoredChoice {
    option: String,
    value: i32,
}

fn to_proto(m: &Model) -> Ballot {
    Ballot {
        name: format!(
            "{}/ballots/{}",
            polls::name(m.poll_id),
            m.id.as_hyphenated()
        ),
        voter: m
            .voter_id
            .map(|v| names::format("persons", v))
            .unwrap_or_default(),
        choices: from_json::<StoredChoice>(&m.choices)
            .into_iter()
            .map(|c| Choice {
                option: c.option,
                value: c.value,
            })
            .collect(),
        reason: m.reason.clone(),
        channel: m.channel,
        proxy_holder: m
            .proxy_holder_id
            .map(|v| names::format("persons", v))
            .unwrap_or_default(),
        create_time: Some(convert::timestamp(m.create_time)),
        update_time: Some(convert::timestamp(m.update_time)),
    }
}

/// CastVote: a voter's own ballot, or a proxy ballot entered by its holder
/// or by the council's secretary or staff (audited).
pub async fn cast(
    svc: &Deliberation,
    caller: &Caller,
    principal: &Principal,
    req: CastVoteRequest,
) -> Result<Ballot> {
    let key = Key::new("CastVote", &req.request_id, principal, &req);
    let mut c = Check::new();
    let voter = c.name("voter", &req.voter, "persons");
    let proxy = c.optional_name("proxy_holder", &req.proxy_holder, "persons");
    c.text("reason", &req.reason, 0, 2000);
    c.request_id(&req.request_id);
    if proxy == Some(voter) {
        c.add("proxy_holder", "a voter does not hold their own proxy");
    }
    c.finish()?;
    caller.scope.require_verified("voting")?;
    let (council, poll) = polls::visible(svc.ctx.db.read(), caller, "poll", &req.poll).await?;
    match (caller.person(), proxy) {
        (Some(me), None) if me == voter => {}
        (Some(me), Some(holder)) if me == holder => {}
        (_, Some(holder)) if caller.manages(&council) => {
            if svc.directory.person(holder).await?.is_none() {
                return Err(Error::invalid("proxy_holder", "no such person"));
            }
        }
        (Some(_), _) => {
            return Err(Error::forbidden(
                "vote for someone else without their proxy",
            ));
        }
        (None, _) => {
            return Err(Error::forbidden(
                "cast ballots; voters, proxy holders, or the secretary or staff entering proxies",
            ));
        }
    }
    let choices = methods::check_choices(&polls::rules(&poll), &req.choices)?;
    let now = svc.ctx.clock.now();
    let state = polls::state_at(&poll, now);
    if state != PollState::Open {
        return Err(Error::illegal_transition(
            polls::name(poll.id),
            state.as_str_name().trim_start_matches("POLL_STATE_"),
            "voted on",
        ));
    }
    if !polls::voters::contains(svc.ctx.db.read(), poll.id, voter).await? {
        return Err(Error::precondition(
            ErrorReason::NotEligible,
            "ELIGIBILITY",
            req.voter.clone(),
            "not among this poll's eligible voters",
        ));
    }
    let channel = if proxy.is_some() {
        BallotChannel::Proxy
    } else {
        BallotChannel::Online
    };
    let recorder = caller.label.clone();
    let choices = to_json(
        &choices
            .into_iter()
            .map(|(option, value)| StoredChoice { option, value })
            .collect::<Vec<_>>(),
    );
    let poll_id = poll.id;
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        // The poll's row, shared: ballots go in side by side, while closing
        // the poll or making it anonymous waits for the ones under way, and
        // the ones after see it closed or anonymous.
        let poll = poll_rows::Entity::find_by_id(poll_id)
            .lock_shared()
            .one(txn)
            .await?
            .ok_or_else(|| Error::Internal("poll vanished".into()))?;
        if polls::state_at(&poll, now) != PollState::Open {
            return Err(Error::illegal_transition(
                polls::name(poll_id),
                "CLOSED",
                "voted on",
            ));
        }
        let named = |id: Option<Uuid>| if poll.anonymous { None } else { id };
        // One ballot a voter: a later one replaces the earlier, also when
        // the two race.
        let saved = Entity::insert(rows::ActiveModel {
            id: Set(names::new_id()),
            poll_id: Set(poll_id),
            voter_key: Set(polls::voter_key(&poll, voter)),
            voter_id: Set(named(Some(voter))),
            choices: Set(choices),
            reason: Set(req.reason),
            channel: Set(channel as i32),
            proxy_holder_id: Set(named(proxy)),
            create_time: Set(now),
            update_time: Set(now),
        })
        .on_conflict(
            OnConflict::columns([Column::PollId, Column::VoterKey])
                .update_columns([
                    Column::Choices,
                    Column::Reason,
                    Column::Channel,
                    Column::ProxyHolderId,
                    Column::UpdateTime,
                ])
                .to_owned(),
        )
        .exec_with_returning(txn)
        .await?;
        // The audit trail says how each ballot was cast and by whom, but on
        // an anonymous poll never who voted online.
        let audit = ballot_audit::Entity::insert(ballot_audit::ActiveModel {
            id: Set(names::new_id()),
            poll_id: Set(poll_id),
            ballot_id: Set(saved.id),
            channel: Set(channel as i32),
            proxy_holder_id: Set(proxy),
            recorder: Set(if poll.anonymous && proxy.is_none() {
                "voter".into()
            } else {
                recorder
            }),
            time: Set(now),
        })
        .build(txn.get_database_backend());
        txn.defer(audit).await?;
        Ok(to_proto(&saved))
    })
    .await
}

/// Whether the caller may see the poll's results (and ballots) now.
async fn results_visible<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    poll: &poll_rows::Model,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let closed = polls::state_at(poll, now) == PollState::Closed;
    let visible = match ResultsVisibility::try_from(poll.results_visibility).unwrap_or_default() {
        ResultsVisibility::Unspecified | ResultsVisibility::Always => true,
        ResultsVisibility::AfterClosing => closed,
        ResultsVisibility::AfterVoting => {
            closed
                || match caller.person() {
                    Some(me) => Entity::find()
                        .filter(Column::PollId.eq(poll.id))
                        .filter(Column::VoterKey.eq(polls::voter_key(poll, me)))
                        .one(conn)
                        .await?
                        .is_some(),
                    None => false,
                }
        }
    };
    if visible {
        Ok(())
    } else {
        Err(Error::precondition(
            ErrorReason::ResultsHidden,
            "RESULTS_VISIBILITY",
            polls::name(poll.id),
            "results are hidden until you vote or the poll closes",
        ))
    }
}

/// ListBallots: under the same visibility as the results.
pub async fn list(
    svc: &Deliberation,
    caller: &Caller,
    req: ListBallotsRequest,
) -> Result<ListBallotsResponse> {
    let conn = svc.ctx.db.read();
    let (_, poll) = polls::visible(conn, caller, "parent", &req.parent).await?;
    results_visible(conn, caller, &poll, svc.ctx.clock.now()).await?;
    let mut query = ListQuery::new("ListBallots", req.page_size, &req.page_token, "", "");
    query.parent = &req.parent;
    let spec = Spec::new(&[], &[], Column::Id);
    let base = Entity::find().filter(Column::PollId.eq(poll.id));
    let (rows, next_page_token) =
        listing::list(&svc.ctx.tokens, &svc.ctx.db, query, spec, base, |m| {
            (SortKey::None, m.id)
        })
        .await?;
    Ok(ListBallotsResponse {
        ballots: rows.iter().map(to_proto).collect(),
        next_page_token,
    })
}

fn tally_to_proto(m: &offline_tallies::Model) -> OfflineTally {
    OfflineTally {
        name: format!(
            "{}/offlineTallies/{}",
            polls::name(m.poll_id),
            m.id.as_hyphenated()
        ),
        meeting: m.meeting_id.map(meetings::name).unwrap_or_default(),
        counts: serde_json::from_str::<BTreeMap<String, i32>>(&m.counts)
            .unwrap_or_default()
            .into_iter()
            .collect(),
        voters: m.voters,
        recorder: m.recorder.clone(),
        create_time: Some(convert::timestamp(m.create_time)),
    }
}

/// CreateOfflineTally: the secretary (or staff) enters a show of hands
/// while the poll is open; it adds to the online votes.
pub async fn create_offline_tally(
    svc: &Deliberation,
    caller: &Caller,
    principal: &Principal,
    req: CreateOfflineTallyRequest,
) -> Result<OfflineTally> {
    let key = Key::new("CreateOfflineTally", &req.request_id, principal, &req);
    let conn = svc.ctx.db.read();
    let (council, poll) = polls::visible(conn, caller, "parent", &req.parent).await?;
    let t = required("offline_tally", req.offline_tally)?;
    caller.require_manager(&council, "enter show-of-hands tallies")?;
    let rules = polls::rules(&poll);
    let mut c = Check::new();
    let meeting = c.optional_name("offline_tally.meeting", &t.meeting, meetings::COLLECTION);
    c.range("offline_tally.voters", t.voters.into(), 1, 100_000);
    c.request_id(&req.request_id);
    let counts: BTreeMap<String, i32> = t.counts.clone().into_iter().collect();
    for (k, v) in &counts {
        if !rules.keys.contains(k) {
            c.add(
                format!("offline_tally.counts[{k}]"),
                "not an option of this poll",
            );
        }
        if *v < 0 || *v > t.voters {
            c.add(
                format!("offline_tally.counts[{k}]"),
                "between 0 and the number of voters",
            );
        }
    }
    let sum: i64 = counts.values().map(|v| i64::from(*v)).sum();
    let voters = i64::from(t.voters);
    match rules.method {
        PollMethod::Proposal | PollMethod::Consent | PollMethod::Count => {
            if sum != voters {
                c.add(
                    "offline_tally.voters",
                    format!("every hand is one choice: the counts add up to {sum}"),
                );
            }
        }
        PollMethod::Choose => {
            let (lo, hi) = (
                voters * i64::from(rules.min_choices),
                voters * i64::from(rules.max_choices),
            );
            if sum < lo || sum > hi {
                c.add(
                    "offline_tally.counts",
                    format!("with {voters} voters the counts add up to between {lo} and {hi}"),
                );
            }
        }
        _ => c.add(
            "parent",
            "show-of-hands tallies apply to proposal, consent, choose and count polls",
        ),
    }
    c.finish()?;
    if let Some(m) = meeting {
        let found = meeting_rows::Entity::find_by_id(m).one(conn).await?;
        if found.is_none_or(|f| f.council_id != council.id) {
            return Err(Error::invalid(
                "offline_tally.meeting",
                "no such meeting of this council",
            ));
        }
    }
    let now = svc.ctx.clock.now();
    let state = polls::state_at(&poll, now);
    if state != PollState::Open {
        return Err(Error::illegal_transition(
            polls::name(poll.id),
            state.as_str_name().trim_start_matches("POLL_STATE_"),
            "tallied by hand",
        ));
    }
    let recorder = caller.label.clone();
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        let row = offline_tallies::ActiveModel {
            id: Set(names::new_id()),
            poll_id: Set(poll.id),
            meeting_id: Set(meeting),
            counts: Set(serde_json::to_string(&counts).expect("counts serialise")),
            voters: Set(t.voters),
            recorder: Set(recorder),
            create_time: Set(now),
        }
        .insert(txn)
        .await?;
        Ok(tally_to_proto(&row))
    })
    .await
}

/// GetPollResult: online, proxy and offline votes merged; final once
/// closed.
pub async fn result(
    svc: &Deliberation,
    caller: &Caller,
    req: GetPollResultRequest,
) -> Result<PollResult> {
    let conn = svc.ctx.db.read();
    let (_, poll) = polls::visible(conn, caller, "poll", &req.poll).await?;
    let now = svc.ctx.clock.now();
    results_visible(conn, caller, &poll, now).await?;
    let ballots: Vec<Vec<(String, i32)>> = Entity::find()
        .filter(Column::PollId.eq(poll.id))
        .all(conn)
        .await?
        .into_iter()
        .map(|b| {
            from_json::<StoredChoice>(&b.choices)
                .into_iter()
                .map(|c| (c.option, c.value))
                .collect()
        })
        .collect();
    let hands: Vec<Hands> = offline_tallies::Entity::find()
        .filter(offline_tallies::Column::PollId.eq(poll.id))
        .all(conn)
        .await?
        .into_iter()
        .map(|t| Hands {
            counts: serde_json::from_str(&t.counts).unwrap_or_default(),
            voters: t.voters,
        })
        .collect();
    let mut out = tally::tally(
        &polls::rules(&poll),
        &ballots,
        &hands,
        poll.eligible_count,
        poll.quorum_percent,
    );
    out.poll = polls::name(poll.id);
    out.r#final = polls::state_at(&poll, now) == PollState::Closed;
    Ok(out)
}
