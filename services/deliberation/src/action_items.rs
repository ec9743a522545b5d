//! Action items (议事成果落地): GetActionItem, ListActionItems,
//! CreateActionItem, UpdateActionItem. The council's secretary or staff
//! assign them to an organisation; the owner reports status and progress.
//! A partner sees the items it owns even outside its reach.

use chrono::NaiveDate;
use cogov_kit::auth::Principal;
use cogov_kit::fieldmask::{Fields, Input, UpdateMask};
use cogov_kit::filter::{Field, Kind, Op};
use cogov_kit::idempotency::{self, Key};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::store::Versioned;
use cogov_kit::validate::{Check, read_id, required};
use cogov_kit::{Error, Result, convert, etag, names};
use cogov_proto::deliberation::*;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Condition, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::access::Caller;
use crate::entity::action_items::{self as rows, Column, Entity, Model};
use crate::entity::{councils as council_rows, topics};
use crate::{Deliberation, councils, resolutions};

pub(crate) const VERSIONED: Versioned<Column> = Versioned {
    id: Column::Id,
    revision: Column::Revision,
    update_time: Some(Column::UpdateTime),
};
/// What the owning organisation may change.
const OWNER_FIELDS: &[&str] = &["status", "progress", "issue", "notes"];

pub(crate) fn name(m: &Model) -> String {
    names::format_child(
        resolutions::COLLECTION,
        m.resolution_id,
        "actionItems",
        m.id,
    )
}

pub(crate) fn parse(field: &str, value: &str) -> Result<(Uuid, Uuid)> {
    cogov_kit::validate::read_child_id(field, value, resolutions::COLLECTION, "actionItems")
}

pub(crate) fn to_proto(m: &Model) -> ActionItem {
    ActionItem {
        name: name(m),
        description: m.description.clone(),
        owner: names::format("organizations", m.owner_id),
        due_date: Some(convert::date(m.due_date)),
        status: m.status,
        progress: m.progress,
        issue: m.issue.clone(),
        notes: m.notes.clone(),
        done_time: convert::opt_timestamp(m.done_time),
        create_time: Some(convert::timestamp(m.create_time)),
        update_time: Some(convert::timestamp(m.update_time)),
        etag: etag::format(m.revision),
    }
}

/// Loads an item the caller sees: in a council it sees, or owned by it.
async fn visible<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    field: &str,
    value: &str,
) -> Result<(Option<councils::Model>, Model)> {
    let (resolution, id) = parse(field, value)?;
    if let Some(m) = Entity::find_by_id(id).one(conn).await?
        && m.resolution_id == resolution
    {
        let council = councils::visible(conn, caller, m.council_id).await.ok();
        if council.is_some() || caller.partner() == Some(m.owner_id) {
            return Ok((council, m));
        }
    }
    Err(caller.scope.missing("ActionItem", value))
}

struct Checked {
    owner: Uuid,
    due: Option<NaiveDate>,
    status: ActionItemStatus,
}

/// Status and progress settle together after the setters (`settle`).
const FIELDS: Fields<Input<ActionItem, Checked>, rows::ActiveModel> = Fields::new(&[
    ("description", |am, i| {
        am.description = Set(i.sent.description.clone())
    }),
    ("owner", |am, i| am.owner_id = Set(i.checked.owner)),
    ("due_date", |am, i| {
        am.due_date = Set(i.checked.due.expect("checked"))
    }),
    ("status", |am, i| {
        if i.checked.status != ActionItemStatus::Unspecified {
            am.status = Set(i.checked.status as i32);
        }
    }),
    ("progress", |am, i| am.progress = Set(i.sent.progress)),
    ("issue", |am, i| am.issue = Set(i.sent.issue.clone())),
    ("notes", |am, i| am.notes = Set(i.sent.notes.clone())),
]);

fn check(c: &mut Check, a: &ActionItem, mask: Option<&UpdateMask>) -> Checked {
    let want = |f: &str| mask.is_none_or(|m| m.has(f));
    if want("description") {
        c.text("action_item.description", &a.description, 1, 2000);
    }
    let owner = if want("owner") {
        c.name("action_item.owner", &a.owner, "organizations")
    } else {
        Uuid::nil()
    };
    let due = if want("due_date") {
        match a.due_date.as_ref().map(convert::from_date) {
            Some(Some(d)) => Some(d),
            Some(None) => {
                c.add("action_item.due_date", "not a calendar date");
                None
            }
            None => {
                c.add("action_item.due_date", "is required");
                None
            }
        }
    } else {
        None
    };
    let status = if want("status") {
        c.enumeration("action_item.status", a.status, false)
    } else {
        ActionItemStatus::Unspecified
    };
    if want("progress") {
        c.range("action_item.progress", a.progress.into(), 0, 100);
    }
    if want("issue") {
        c.optional_name("action_item.issue", &a.issue, "issues");
    }
    if want("notes") {
        c.text("action_item.notes", &a.notes, 0, 4000);
    }
    Checked { owner, due, status }
}

/// Status and progress agree: DONE is 100, 100 is DONE, and an item with
/// progress is under way.
pub(crate) fn settle(status: ActionItemStatus, progress: i32) -> (ActionItemStatus, i32) {
    use ActionItemStatus::*;
    match status {
        Done => (Done, 100),
        Cancelled | Blocked => (status, progress),
        _ if progress >= 100 => (Done, 100),
        NotStarted | Unspecified if progress > 0 => (InProgress, progress),
        Unspecified => (NotStarted, progress),
        s => (s, progress),
    }
}

/// GetActionItem.
pub async fn get(
    svc: &Deliberation,
    caller: &Caller,
    req: GetActionItemRequest,
) -> Result<ActionItem> {
    let (_, m) = visible(svc.ctx.db.read(), caller, "name", &req.name).await?;
    Ok(to_proto(&m))
}

/// ListActionItems: of one resolution, or of all (`resolutions/-`), in
/// creation order.
pub async fn list(
    svc: &Deliberation,
    caller: &Caller,
    req: ListActionItemsRequest,
) -> Result<ListActionItemsResponse> {
    let conn = svc.ctx.db.read();
    let mut base = Entity::find();
    if req.parent == "resolutions/-" {
        if let Some(cond) = caller.council_condition(svc, Column::CouncilId).await? {
            let mut any = Condition::any().add(cond);
            if let Some(org) = caller.partner() {
                any = any.add(Column::OwnerId.eq(org));
            }
            base = base.filter(any);
        }
    } else {
        let id = read_id("parent", &req.parent, resolutions::COLLECTION)?;
        base = base.filter(Column::ResolutionId.eq(id));
        match (
            resolutions::visible(conn, caller, id).await,
            caller.partner(),
        ) {
            (Ok(_), _) => {}
            // A partner lists what it owns of a resolution it cannot see.
            (Err(_), Some(org)) => base = base.filter(Column::OwnerId.eq(org)),
            (Err(e), None) => return Err(e),
        }
    }
    let today = svc.ctx.clock.today();
    let fields = [
        Field::column("owner", Column::OwnerId, Kind::Name("organizations")),
        Field::column(
            "status",
            Column::Status,
            Kind::Enum(
                |s| ActionItemStatus::from_str_name(s).map(|v| v as i32),
                "ACTION_ITEM_STATUS_",
            ),
        ),
        Field::column("issue", Column::Issue, Kind::Text),
        Field::custom("overdue", move |op, value| {
            let overdue = Column::DueDate.lt(today).and(Column::Status.is_not_in([
                ActionItemStatus::Done as i32,
                ActionItemStatus::Cancelled as i32,
            ]));
            match (op, value) {
                (Op::Eq | Op::Has, "true") | (Op::Ne, "false") => Ok(overdue),
                (Op::Eq | Op::Has, "false") | (Op::Ne, "true") => Ok(overdue.not()),
                _ => Err("`overdue` is `true` or `false`".into()),
            }
        }),
    ];
    let mut query = ListQuery::new(
        "ListActionItems",
        req.page_size,
        &req.page_token,
        &req.filter,
        "",
    );
    query.parent = &req.parent;
    let spec = Spec::new(&fields, &[], Column::Id);
    let (rows, next_page_token) =
        listing::list(&svc.ctx.tokens, &svc.ctx.db, query, spec, base, |m| {
            (SortKey::None, m.id)
        })
        .await?;
    Ok(ListActionItemsResponse {
        action_items: rows.iter().map(to_proto).collect(),
        next_page_token,
    })
}

/// CreateActionItem: the council's secretary or staff.
pub async fn create(
    svc: &Deliberation,
    caller: &Caller,
    principal: &Principal,
    req: CreateActionItemRequest,
) -> Result<ActionItem> {
    let key = Key::new("CreateActionItem", &req.request_id, principal, &req);
    let id = read_id("parent", &req.parent, resolutions::COLLECTION)?;
    let a = required("action_item", req.action_item)?;
    let mut c = Check::new();
    let checked = check(&mut c, &a, None);
    c.request_id(&req.request_id);
    c.finish()?;
    let (council, resolution) = resolutions::visible(svc.ctx.db.read(), caller, id).await?;
    caller.require_manager(&council, "assign action items")?;
    if svc.directory.organization(checked.owner).await?.is_none() {
        return Err(Error::invalid("action_item.owner", "no such organisation"));
    }
    let (status, progress) = settle(checked.status, a.progress);
    let now = svc.ctx.clock.now();
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        let row = rows::ActiveModel {
            id: Set(names::new_id()),
            resolution_id: Set(resolution.id),
            council_id: Set(resolution.council_id),
            description: Set(a.description),
            owner_id: Set(checked.owner),
            due_date: Set(checked.due.expect("checked")),
            status: Set(status as i32),
            progress: Set(progress),
            issue: Set(a.issue),
            notes: Set(a.notes),
            done_time: Set((status == ActionItemStatus::Done).then_some(now)),
            issue_revision: Set(0),
            revision: Set(1),
            create_time: Set(now),
            update_time: Set(now),
        }
        .insert(txn)
        .await?;
        resolutions::follow_items(txn, resolution.id, now).await?;
        let item = to_proto(&row);
        let topic = topics::Entity::find_by_id(resolution.topic_id)
            .one(txn)
            .await?
            .ok_or_else(|| Error::Internal("resolution without topic".into()))?;
        crate::events::action_item_created(txn, &council, &topic, &item, now).await?;
        Ok(item)
    })
    .await
}

/// UpdateActionItem: the council's secretary or staff change anything; the
/// owning organisation reports status, progress, the issue and notes.
pub async fn update(
    svc: &Deliberation,
    caller: &Caller,
    req: UpdateActionItemRequest,
) -> Result<ActionItem> {
    let a = required("action_item", req.action_item)?;
    // The name before the mask, so a wrong name is what the caller hears of.
    parse("action_item.name", &a.name)?;
    let mask = FIELDS.mask(req.update_mask.as_ref())?;
    let mut c = Check::new();
    let checked = check(&mut c, &a, Some(&mask));
    c.finish()?;
    if mask.has("owner") && svc.directory.organization(checked.owner).await?.is_none() {
        return Err(Error::invalid("action_item.owner", "no such organisation"));
    }
    let txn = svc.ctx.db.begin_write().await?;
    let (council, row) = visible(&txn, caller, "action_item.name", &a.name).await?;
    let manages = council.as_ref().is_some_and(|c| caller.manages(c));
    let owns = caller.partner() == Some(row.owner_id);
    if !manages {
        if !owns {
            return Err(Error::forbidden(
                "update action items; the owner, the council's secretary or staff only",
            ));
        }
        if let Some(f) = mask.paths().find(|f| !OWNER_FIELDS.contains(f)) {
            return Err(Error::forbidden(format!(
                "change `{f}`; the owner reports status, progress, issue and notes"
            )));
        }
    }
    let now = svc.ctx.clock.now();
    let mut edit = VERSIONED.edit(row, &a.etag, &a.name, now)?;
    let row = edit.before.clone();
    edit.apply(&FIELDS, &mask, &Input { sent: a, checked });
    let am = &mut edit.changes;
    let old_status = ActionItemStatus::try_from(row.status).unwrap_or_default();
    let status = ActionItemStatus::try_from(*am.status.as_ref()).unwrap_or_default();
    let progress = *am.progress.as_ref();
    // A progress report on a done item reopens it.
    let status = if mask.has("progress")
        && !mask.has("status")
        && status == ActionItemStatus::Done
        && progress < 100
    {
        ActionItemStatus::InProgress
    } else {
        status
    };
    let (status, progress) = settle(status, progress);
    am.status = Set(status as i32);
    am.progress = Set(progress);
    am.done_time = Set(match (old_status, status) {
        (ActionItemStatus::Done, ActionItemStatus::Done) => row.done_time,
        (_, ActionItemStatus::Done) => Some(now),
        _ => None,
    });
    let saved = edit.save(&txn).await?;
    resolutions::follow_items(&txn, row.resolution_id, now).await?;
    let item = to_proto(&saved);
    let council = match council {
        Some(c) => c,
        None => council_rows::Entity::find_by_id(row.council_id)
            .one(&txn)
            .await?
            .ok_or_else(|| Error::Internal("action item without council".into()))?,
    };
    crate::events::action_item_changed(&txn, &council, &row, &item, now).await?;
    txn.commit().await?;
    Ok(item)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ActionItemStatus::*;

    #[test]
    fn status_and_progress_agree() {
        assert_eq!(settle(Done, 40), (Done, 100));
        assert_eq!(settle(InProgress, 100), (Done, 100));
        assert_eq!(settle(NotStarted, 30), (InProgress, 30));
        assert_eq!(settle(Unspecified, 0), (NotStarted, 0));
        assert_eq!(settle(Blocked, 60), (Blocked, 60));
        assert_eq!(settle(Cancelled, 100), (Cancelled, 100));
    }
}
