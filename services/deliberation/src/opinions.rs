//! Discussion: CreateOpinion, ListOpinions, HideOpinion. Opinions carry a
//! stance and may reply to another; a moderator hides one with a reason,
//! and its text is kept for audit (street admins still read it).

use cogov_kit::auth::Principal;
use cogov_kit::filter::{Field, Kind};
use cogov_kit::idempotency::{self, Key};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::scope::Scope;
use cogov_kit::validate::{Check, read_id, required};
use cogov_kit::write::insert_whole;
use cogov_kit::{Error, Result, convert, names};
use cogov_proto::deliberation::*;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::access::Caller;
use crate::entity::opinions::{self as rows, Column, Entity, Model};
use crate::{Deliberation, lifecycle, topics};

/// `topics/{topic}/opinions/{opinion}`.
pub fn name(topic: Uuid, id: Uuid) -> String {
    names::format_child(topics::COLLECTION, topic, "opinions", id)
}

fn parse(field: &str, value: &str) -> Result<(Uuid, Uuid)> {
    cogov_kit::validate::read_child_id(field, value, topics::COLLECTION, "opinions")
}

fn to_proto(m: &Model, caller: &Caller) -> Opinion {
    let audit = matches!(caller.scope, Scope::All);
    Opinion {
        name: name(m.topic_id, m.id),
        author: names::format("persons", m.author_id),
        stance: m.stance,
        text: if m.hidden && !audit {
            String::new()
        } else {
            m.text.clone()
        },
        reply_to: m.reply_to.map(|r| name(m.topic_id, r)).unwrap_or_default(),
        hidden: m.hidden,
        hide_reason: m.hide_reason.clone(),
        moderator: m.moderator.clone(),
        create_time: Some(convert::timestamp(m.create_time)),
    }
}

/// CreateOpinion: residents speak for themselves; the secretary or staff
/// record what someone said at a meeting.
pub async fn create(
    svc: &Deliberation,
    caller: &Caller,
    principal: &Principal,
    req: CreateOpinionRequest,
) -> Result<Opinion> {
    let key = Key::new("CreateOpinion", &req.request_id, principal, &req);
    let topic_id = read_id("parent", &req.parent, topics::COLLECTION)?;
    let o = required("opinion", req.opinion)?;
    let mut c = Check::new();
    let author = c.name("opinion.author", &o.author, "persons");
    let stance: Stance = c.enumeration("opinion.stance", o.stance, true);
    c.text("opinion.text", &o.text, 1, 4000);
    let reply_to = if o.reply_to.is_empty() {
        None
    } else {
        match parse("opinion.reply_to", &o.reply_to) {
            Ok((topic, id)) => Some((topic, id)),
            Err(_) => {
                c.add(
                    "opinion.reply_to",
                    "must be a `topics/{topic}/opinions/{opinion}` name",
                );
                None
            }
        }
    };
    c.request_id(&req.request_id);
    c.finish()?;
    caller
        .scope
        .require_verified("taking part in a discussion")?;
    let conn = svc.ctx.db.read();
    let (council, topic) = topics::visible(conn, caller, topic_id).await?;
    match caller.person() {
        Some(me) if me == author => {}
        _ if caller.manages(&council) => {
            if svc.directory.person(author).await?.is_none() {
                return Err(Error::invalid("opinion.author", "no such person"));
            }
        }
        Some(_) => return Err(Error::forbidden("speak for someone else")),
        None => {
            return Err(Error::forbidden(
                "post opinions; residents, the secretary or staff only",
            ));
        }
    }
    let state = topics::state_of(&topic);
    if matches!(
        state,
        TopicState::Completed | TopicState::Rejected | TopicState::Withdrawn
    ) {
        return Err(Error::illegal_transition(
            topics::name(topic.id),
            lifecycle::state_name(state),
            "discussed",
        ));
    }
    if let Some((t, id)) = reply_to {
        let parent = Entity::find_by_id(id).one(conn).await?;
        if t != topic.id || parent.is_none_or(|p| p.topic_id != topic.id) {
            return Err(Error::invalid(
                "opinion.reply_to",
                "no such opinion in this topic",
            ));
        }
    }
    let now = svc.ctx.clock.now();
    let caller = caller.clone();
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        let row = insert_whole(
            txn,
            rows::ActiveModel {
                id: Set(names::new_id()),
                topic_id: Set(topic.id),
                author_id: Set(author),
                stance: Set(stance as i32),
                text: Set(o.text),
                reply_to: Set(reply_to.map(|(_, id)| id)),
                hidden: Set(false),
                hide_reason: Set(String::new()),
                moderator: Set(String::new()),
                create_time: Set(now),
            },
        )
        .await?;
        Ok(to_proto(&row, &caller))
    })
    .await
}

/// ListOpinions: oldest first; clients thread them by `reply_to`.
pub async fn list(
    svc: &Deliberation,
    caller: &Caller,
    req: ListOpinionsRequest,
) -> Result<ListOpinionsResponse> {
    let conn = svc.ctx.db.read();
    let (_, topic) = topics::visible_named(conn, caller, "parent", &req.parent).await?;
    let topic_id = topic.id;
    let fields = [
        Field::column(
            "stance",
            Column::Stance,
            Kind::Enum(|s| Stance::from_str_name(s).map(|v| v as i32), "STANCE_"),
        ),
        Field::column("author", Column::AuthorId, Kind::Name("persons")),
        Field::custom("reply_to", move |op, value| {
            use cogov_kit::filter::Op;
            // `reply_to = ""`: the opinions that answer none (AIP-160's
            // empty value for an unset field).
            if value.is_empty() {
                return match op {
                    Op::Eq | Op::Has => Ok(Column::ReplyTo.is_null()),
                    Op::Ne => Ok(Column::ReplyTo.is_not_null()),
                    _ => Err("only `=`, `!=` and `:` apply".into()),
                };
            }
            let id = parse("reply_to", value)
                .ok()
                .filter(|(t, _)| *t == topic_id)
                .map(|(_, id)| id)
                .ok_or("expected an opinion of this topic")?;
            match op {
                Op::Eq | Op::Has => Ok(Column::ReplyTo.eq(id)),
                Op::Ne => Ok(Column::ReplyTo.ne(id)),
                _ => Err("only `=`, `!=` and `:` apply".into()),
            }
        }),
    ];
    let mut query = ListQuery::new(
        "ListOpinions",
        req.page_size,
        &req.page_token,
        &req.filter,
        "",
    );
    query.parent = &req.parent;
    let spec = Spec::new(&fields, &[], Column::Id);
    let base = Entity::find().filter(Column::TopicId.eq(topic.id));
    let (rows, next_page_token) =
        listing::list(&svc.ctx.tokens, &svc.ctx.db, query, spec, base, |m| {
            (SortKey::None, m.id)
        })
        .await?;
    Ok(ListOpinionsResponse {
        opinions: rows.iter().map(|m| to_proto(m, caller)).collect(),
        next_page_token,
    })
}

/// HideOpinion: the council's secretary or staff, with a reason.
pub async fn hide(svc: &Deliberation, caller: &Caller, req: HideOpinionRequest) -> Result<Opinion> {
    let (topic_id, id) = parse("name", &req.name)?;
    let mut c = Check::new();
    c.text("reason", &req.reason, 1, 500);
    c.finish()?;
    let txn = svc.ctx.db.begin_write().await?;
    let (council, _) = topics::visible(&txn, caller, topic_id).await?;
    let row = Entity::find_by_id(id)
        .one(&txn)
        .await?
        .filter(|m| m.topic_id == topic_id)
        .ok_or_else(|| caller.scope.missing("Opinion", &req.name))?;
    caller.require_manager(&council, "hide opinions")?;
    let mut am: rows::ActiveModel = row.into();
    am.hidden = Set(true);
    am.hide_reason = Set(req.reason);
    am.moderator = Set(caller.label.clone());
    let saved = am.update(&txn).await?;
    txn.commit().await?;
    Ok(to_proto(&saved, caller))
}
