//! Each resident's inbox. The services say what residents should hear of
//! with `cogov.common.v1.ResidentNotice` events; the gateway keeps a notice
//! per person and event (a redelivery adds nothing), lists and streams
//! them, and — when the person asked for it — sends each on to their phone
//! through the sign-in code's sender, or once a day a digest of them.

use std::time::Duration;

use chrono::{DateTime, Utc};
use cogov_kit::auth::Principal;
use cogov_kit::events::{self, Bus, ConsumerSpec, Event, inbox};
use cogov_kit::listing::{self, ListQuery};
use cogov_kit::{Error, Result, convert, names};
use cogov_proto::common::{NoticeKind, ResidentNotice};
use cogov_proto::gateway::{
    ListNoticesRequest, ListNoticesResponse, MarkNoticesReadRequest, MarkNoticesReadResponse,
    Notice, WatchNoticesRequest,
};
use prost::Name;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::mpsc;
use tonic::Status;
use uuid::Uuid;

use super::sender::Message;
use crate::Gateway;
use crate::entity::resident_notices::{self as rows, Column, Entity, Model};

/// The durable consumer's name.
pub const CONSUMER: &str = "gateway-inbox";
/// How often a stream looks for notices another replica stored.
const POLL: Duration = Duration::from_secs(1);
/// A digest waits this long after the oldest notice it carries.
const DIGEST_AFTER: chrono::Duration = chrono::Duration::hours(24);

/// `persons/{person}/notices/{notice}`.
pub fn name(person: Uuid, notice: Uuid) -> String {
    names::format_child("persons", person, "notices", notice)
}

/// A notice's words, in `language` (`en`, or Chinese).
pub fn words(kind: NoticeKind, title: &str, detail: &str, language: &str) -> (String, String) {
    let en = language.eq_ignore_ascii_case("en");
    // `reporter`: the one asked to confirm a fix; followers are only told.
    let state = |s: &str, reporter: bool| -> String {
        let zh = match s {
            "ACKNOWLEDGED" => "已受理",
            "DISPATCHED" => "已派单",
            "IN_PROGRESS" => "处理中",
            "RESOLVED" if reporter => "已办结，请您确认",
            "RESOLVED" => "已办结",
            "CLOSED" => "已关闭",
            "REJECTED" => "未予受理",
            "DUPLICATE" => "与已有问题重复",
            "RETURNED" => "退回重新派单",
            "REOPENED" => "已重新打开",
            other => other,
        };
        if en {
            s.to_ascii_lowercase().replace('_', " ")
        } else {
            zh.to_owned()
        }
    };
    match (kind, en) {
        (NoticeKind::ReportStateChanged, false) => (
            format!("您反映的问题{}", state(detail, true)),
            format!("「{title}」{}。", state(detail, true)),
        ),
        (NoticeKind::ReportStateChanged, true) => (
            format!("Your report is {}", state(detail, true)),
            format!("\u{201c}{title}\u{201d} is {} now.", state(detail, true)),
        ),
        (NoticeKind::FollowedIssueChanged, false) => (
            format!("您关注的问题{}", state(detail, false)),
            format!("「{title}」{}。", state(detail, false)),
        ),
        (NoticeKind::FollowedIssueChanged, true) => (
            format!("An issue you follow is {}", state(detail, false)),
            format!("\u{201c}{title}\u{201d} is {} now.", state(detail, false)),
        ),
        (NoticeKind::ReportAnswered, false) => (
            "您反映的问题有了回复".into(),
            format!("「{title}」：{detail}"),
        ),
        (NoticeKind::ReportAnswered, true) => (
            "An answer to your report".into(),
            format!("\u{201c}{title}\u{201d}: {detail}"),
        ),
        (NoticeKind::PollOpened, false) => (
            "议事投票开始了".into(),
            format!("「{title}」开始投票，请您参与。"),
        ),
        (NoticeKind::PollOpened, true) => (
            "A poll is open for you".into(),
            format!("\u{201c}{title}\u{201d} is open: your vote counts."),
        ),
        (NoticeKind::SignupPromoted, false) => (
            "候补报名已转为正式".into(),
            format!("「{title}」有了空位，您的报名已确认。"),
        ),
        (NoticeKind::SignupPromoted, true) => (
            "You have a place".into(),
            format!("A place freed up at \u{201c}{title}\u{201d}: your sign-up is confirmed."),
        ),
        (NoticeKind::ActivityStartsSoon, false) => (
            "活动明天开始".into(),
            format!("您报名的「{title}」将于 {} 开始。", local_time(detail)),
        ),
        (NoticeKind::ActivityStartsSoon, true) => (
            "Your activity starts soon".into(),
            format!("\u{201c}{title}\u{201d} starts at {}.", local_time(detail)),
        ),
        (NoticeKind::RegistrationVerified, false) => (
            "您的登记已核实".into(),
            "社区已核实您的居民身份，现在可以参与议事、投票和志愿服务了。".into(),
        ),
        (NoticeKind::RegistrationVerified, true) => (
            "You are verified".into(),
            "Your community has verified you: you can now discuss, vote and volunteer.".into(),
        ),
        (NoticeKind::Unspecified, _) => (title.to_owned(), detail.to_owned()),
    }
}

/// An RFC 3339 time as Beijing's wall clock.
fn local_time(rfc3339: &str) -> String {
    DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| {
            t.with_timezone(&cogov_kit::convert::beijing())
                .format("%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|_| rfc3339.to_owned())
}

fn to_proto(m: &Model, language: &str) -> Notice {
    let kind = NoticeKind::try_from(m.kind).unwrap_or_default();
    let (title, body) = words(kind, &m.subject_title, &m.detail, language);
    Notice {
        name: name(m.person_id, m.id),
        kind: m.kind,
        subject: m.subject.clone(),
        title,
        body,
        create_time: Some(convert::timestamp(m.create_time)),
        read_time: m.read_time.map(convert::timestamp),
    }
}

/// Starts the consumer of residents' notices on `bus`, and the digests.
pub async fn start(gw: &Gateway, bus: &Bus) -> Result<()> {
    bus.consume(
        ConsumerSpec::new(CONSUMER, &[ResidentNotice::full_name()]),
        inbox::handler(gw.clone(), deliver),
    )
    .await
    .map_err(|e| Error::Unavailable(e.to_string()))?;
    tokio::spawn(digests_hourly(gw.clone()));
    Ok(())
}

async fn deliver(gw: Gateway, event: Event) -> Result<()> {
    let notice: ResidentNotice = events::payload(&event).map_err(Error::Internal)?;
    let event_id = Uuid::parse_str(&event.id)
        .map_err(|_| Error::Internal(format!("event id {:?} is not a UUID", event.id)))?;
    let now = gw.ctx.clock.now();
    for person in &notice.persons {
        let Some(person) = names::parse("persons", person) else {
            continue;
        };
        let row = rows::ActiveModel {
            id: Set(names::new_id()),
            person_id: Set(person),
            event_id: Set(event_id),
            kind: Set(notice.kind),
            subject: Set(notice.subject.clone()),
            subject_title: Set(notice.subject_title.clone()),
            detail: Set(notice.detail.clone()),
            create_time: Set(now),
            read_time: Set(None),
            forwarded: Set(false),
        };
        let stored = Entity::insert(row.clone())
            .on_conflict(
                OnConflict::columns([Column::PersonId, Column::EventId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(gw.ctx.db.write())
            .await?;
        // Only a notice stored now is sent on: a redelivery sends nothing.
        if stored == 1 {
            forward(&gw, person, row).await?;
        }
    }
    gw.residents.inbox_grew();
    Ok(())
}

/// The person's phone, if they asked for notices there one by one (or in
/// a digest: `digest`).
async fn forwarding_phone(gw: &Gateway, person: Uuid, digest: bool) -> Result<Option<String>> {
    if !gw.residents.config().sender.enabled() {
        return Ok(None);
    }
    // From the directory's cache of persons, which forgets a person when
    // their record (their contact preferences with it) changes: a notice
    // costs no call to the organizations service.
    Ok(gw
        .directory
        .person(person)
        .await?
        .and_then(|p| p.notices_by_text)
        .filter(|t| t.daily_digest == digest)
        .map(|t| t.phone))
}

async fn forward(gw: &Gateway, person: Uuid, row: rows::ActiveModel) -> Result<()> {
    let Some(phone) = forwarding_phone(gw, person, false).await? else {
        return Ok(());
    };
    let kind = NoticeKind::try_from(*row.kind.as_ref()).unwrap_or_default();
    let (title, body) = words(
        kind,
        row.subject_title.as_ref(),
        row.detail.as_ref(),
        "zh-CN",
    );
    gw.residents.config().sender.send(Message::notice(
        &phone,
        &format!("【牛街共治】{title}：{body}"),
    ));
    Entity::update_many()
        .col_expr(Column::Forwarded, Expr::value(true))
        .filter(Column::PersonId.eq(person))
        .filter(Column::Id.eq(*row.id.as_ref()))
        .exec(gw.ctx.db.write())
        .await?;
    Ok(())
}

/// Sends each person who chose a digest one message for the notices not
/// yet sent on, once the oldest of them is a day old.
pub async fn send_digests(gw: &Gateway, now: DateTime<Utc>) -> Result<usize> {
    let persons: Vec<Uuid> = Entity::find()
        .select_only()
        .column(Column::PersonId)
        .distinct()
        .filter(Column::Forwarded.eq(false))
        .filter(Column::ReadTime.is_null())
        .filter(Column::CreateTime.lte(now - DIGEST_AFTER))
        .into_tuple()
        .all(gw.ctx.db.read())
        .await?;
    let mut sent = 0;
    for person in persons {
        let waiting = Entity::find()
            .filter(Column::PersonId.eq(person))
            .filter(Column::Forwarded.eq(false))
            .filter(Column::ReadTime.is_null())
            .order_by_asc(Column::Id)
            .all(gw.ctx.db.read())
            .await?;
        if let Some(phone) = forwarding_phone(gw, person, true).await? {
            let titles: Vec<String> = waiting
                .iter()
                .take(5)
                .map(|m| to_proto(m, "zh-CN").title)
                .collect();
            gw.residents.config().sender.send(Message::notice(
                &phone,
                &format!(
                    "【牛街共治】您有 {} 条新消息：{}",
                    waiting.len(),
                    titles.join("；")
                ),
            ));
            sent += 1;
        }
        // Notices of a person who wants none sent on are settled too, so
        // they are not looked at again.
        Entity::update_many()
            .col_expr(Column::Forwarded, Expr::value(true))
            .filter(Column::Id.is_in(waiting.iter().map(|m| m.id)))
            .exec(gw.ctx.db.write())
            .await?;
    }
    Ok(sent)
}

async fn digests_hourly(gw: Gateway) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        if let Err(e) = send_digests(&gw, gw.ctx.clock.now()).await {
            tracing::warn!(error = %e, "sending notice digests");
        }
    }
}

/// ListNotices.
pub async fn list(
    gw: &Gateway,
    principal: &Principal,
    req: ListNoticesRequest,
) -> Result<ListNoticesResponse> {
    let person = super::own_person(principal, &req.parent, "read an inbox; residents have one")?;
    let query = ListQuery::new("ListNotices", req.page_size, &req.page_token, "", "");
    let mut base = Entity::find().filter(Column::PersonId.eq(person));
    if req.unread_only {
        base = base.filter(Column::ReadTime.is_null());
    }
    let (rows, next_page_token) =
        listing::newest_first(&gw.ctx.tokens, &gw.ctx.db, query, base, Column::Id, |m| {
            m.id
        })
        .await?;
    let unread = Entity::find()
        .filter(Column::PersonId.eq(person))
        .filter(Column::ReadTime.is_null())
        .count(gw.ctx.db.read())
        .await?;
    Ok(ListNoticesResponse {
        notices: rows.iter().map(|m| to_proto(m, &req.language)).collect(),
        next_page_token,
        unread_count: i32::try_from(unread).unwrap_or(i32::MAX),
    })
}

/// MarkNoticesRead.
pub async fn mark_read(
    gw: &Gateway,
    principal: &Principal,
    req: MarkNoticesReadRequest,
) -> Result<MarkNoticesReadResponse> {
    let person = super::own_person(principal, &req.parent, "read an inbox; residents have one")?;
    let mut c = cogov_kit::validate::Check::new();
    if req.names.len() > 1000 {
        c.add("names", "at most 1000");
    }
    if req.all != req.names.is_empty() {
        c.add("names", "name the notices, or set `all` (not both)");
    }
    let mut ids = Vec::with_capacity(req.names.len());
    for (i, n) in req.names.iter().enumerate() {
        match names::parse_child("persons", "notices", n) {
            Some((owner, id)) if owner == person => ids.push(id),
            _ => c.add(
                format!("names[{i}]"),
                "is not one of the caller's notices (`persons/{id}/notices/{id}`)",
            ),
        }
    }
    c.finish()?;
    let mut update = Entity::update_many()
        .col_expr(Column::ReadTime, Expr::value(gw.ctx.clock.now()))
        .filter(Column::PersonId.eq(person))
        .filter(Column::ReadTime.is_null());
    if !req.all {
        update = update.filter(Column::Id.is_in(ids));
    }
    let marked = update.exec(gw.ctx.db.write()).await?.rows_affected;
    Ok(MarkNoticesReadResponse {
        marked: i32::try_from(marked).unwrap_or(i32::MAX),
    })
}

/// WatchNotices: the notices stored after the call began, as they come.
pub async fn watch(
    gw: &Gateway,
    principal: &Principal,
    req: WatchNoticesRequest,
) -> Result<mpsc::Receiver<std::result::Result<Notice, Status>>> {
    let person = super::own_person(principal, &req.parent, "read an inbox; residents have one")?;
    let mut after = Entity::find()
        .filter(Column::PersonId.eq(person))
        .order_by_desc(Column::Id)
        .one(gw.ctx.db.read())
        .await?
        .map_or(Uuid::nil(), |m| m.id);
    let (tx, rx) = mpsc::channel(16);
    let gw = gw.clone();
    let mut grew = gw.residents.inbox_feed();
    tokio::spawn(async move {
        loop {
            grew.borrow_and_update();
            let fresh = Entity::find()
                .filter(Column::PersonId.eq(person))
                .filter(Column::Id.gt(after))
                .order_by_asc(Column::Id)
                .limit(100)
                .all(gw.ctx.db.read())
                .await;
            match fresh {
                Ok(rows) => {
                    for m in rows {
                        after = m.id;
                        if tx.send(Ok(to_proto(&m, &req.language))).await.is_err() {
                            return;
                        }
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(Error::from(e).into())).await;
                    return;
                }
            }
            tokio::select! {
                _ = grew.changed() => {}
                () = tokio::time::sleep(POLL) => {}
                () = tx.closed() => return,
            }
        }
    });
    Ok(rx)
}
