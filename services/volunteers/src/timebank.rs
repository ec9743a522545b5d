//! The time bank (志愿积分): GetTimeBankPolicy, UpdateTimeBankPolicy,
//! GetPointsAccount, ListPointsEntries, RedeemPoints, and the points that
//! approved hours earn.
//!
//! A balance never goes below zero: a redemption is one conditional UPDATE
//! (`points_balance >= points`), so concurrent redemptions cannot overdraw.
//! Every change is a ledger entry with the balance after it.

use chrono::{DateTime, Utc};
use cogov_kit::ErrorReason;
use cogov_kit::auth::Principal;
use cogov_kit::fieldmask::Fields;
use cogov_kit::idempotency::{self, Key};
use cogov_kit::listing::{self, ListQuery};
use cogov_kit::scope::Scope;
use cogov_kit::store::Versioned;
use cogov_kit::validate::Check;
use cogov_kit::{Error, Result, convert, etag, names};
use cogov_proto::volunteers::*;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::entity::{badges, points_entries as entries, policy, volunteers as vols};
use crate::{Volunteers, lists, read_id, required, volunteers};

const POLICY: &str = "timeBankPolicy";

fn policy_proto(m: &policy::Model) -> TimeBankPolicy {
    TimeBankPolicy {
        name: POLICY.into(),
        points_per_hour: m.points_per_hour,
        badge_hours: lists::from_json(&m.badge_hours),
        update_time: Some(convert::timestamp(m.update_time)),
        etag: etag::format(m.revision),
    }
}

async fn load_policy<C: ConnectionTrait>(conn: &C) -> Result<policy::Model> {
    policy::Entity::find_by_id(1)
        .one(conn)
        .await?
        .ok_or_else(|| Error::Internal("the time-bank policy row is missing".into()))
}

fn entry_proto(m: &entries::Model) -> PointsEntry {
    PointsEntry {
        name: format!(
            "{}/pointsEntries/{}",
            volunteers::name(m.volunteer_id),
            m.id.as_hyphenated()
        ),
        kind: m.kind,
        points: m.points,
        balance_after: m.balance_after,
        service_record: m
            .service_record_id
            .map(|r| names::format("serviceRecords", r))
            .unwrap_or_default(),
        item: m.item.clone(),
        create_time: Some(convert::timestamp(m.create_time)),
    }
}

/// Credits an approved record's points and awards any badge reached;
/// returns the points.
pub async fn earn<C: ConnectionTrait>(
    conn: &C,
    volunteer: Uuid,
    record: Uuid,
    minutes: i32,
    now: DateTime<Utc>,
) -> Result<i64> {
    let policy = load_policy(conn).await?;
    let points = i64::from(minutes) * i64::from(policy.points_per_hour) / 60;
    vols::Entity::update_many()
        .col_expr(
            vols::Column::ApprovedMinutes,
            Expr::col(vols::Column::ApprovedMinutes).add(i64::from(minutes)),
        )
        .col_expr(
            vols::Column::PointsBalance,
            Expr::col(vols::Column::PointsBalance).add(points),
        )
        .col_expr(
            vols::Column::PointsEarned,
            Expr::col(vols::Column::PointsEarned).add(points),
        )
        .filter(vols::Column::Id.eq(volunteer))
        .exec(conn)
        .await?;
    let v = vols::Entity::find_by_id(volunteer)
        .one(conn)
        .await?
        .ok_or_else(|| Error::Internal("volunteer vanished".into()))?;
    entries::ActiveModel {
        id: Set(names::new_id()),
        volunteer_id: Set(volunteer),
        kind: Set(PointsEntryKind::Earn as i32),
        points: Set(points),
        balance_after: Set(v.points_balance),
        service_record_id: Set(Some(record)),
        item: Set(String::new()),
        create_time: Set(now),
    }
    .insert(conn)
    .await?;
    for hours in lists::from_json::<i32>(&policy.badge_hours) {
        if v.approved_minutes >= i64::from(hours) * 60 {
            badges::Entity::insert(badges::ActiveModel {
                id: Set(names::new_id()),
                volunteer_id: Set(volunteer),
                hours: Set(hours),
                award_time: Set(now),
            })
            .on_conflict(
                OnConflict::columns([badges::Column::VolunteerId, badges::Column::Hours])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
        }
    }
    Ok(points)
}

/// GetTimeBankPolicy.
pub async fn get_policy(
    svc: &Volunteers,
    _scope: &Scope,
    req: GetTimeBankPolicyRequest,
) -> Result<TimeBankPolicy> {
    if req.name != POLICY {
        return Err(Error::invalid("name", "must be `timeBankPolicy`"));
    }
    Ok(policy_proto(&load_policy(svc.ctx.db.read()).await?))
}

/// The policy is one row, keyed 1.
const POLICY_VERSIONS: Versioned<policy::Column> = Versioned {
    id: policy::Column::Id,
    revision: policy::Column::Revision,
    update_time: Some(policy::Column::UpdateTime),
};

const POLICY_FIELDS: Fields<TimeBankPolicy, policy::ActiveModel> = Fields::new(&[
    ("points_per_hour", |am, p| {
        am.points_per_hour = Set(p.points_per_hour)
    }),
    ("badge_hours", |am, p| {
        am.badge_hours = Set(lists::to_json(&p.badge_hours))
    }),
]);

/// UpdateTimeBankPolicy: street admins.
pub async fn update_policy(
    svc: &Volunteers,
    scope: &Scope,
    req: UpdateTimeBankPolicyRequest,
) -> Result<TimeBankPolicy> {
    if !matches!(scope, Scope::All) {
        return Err(Error::forbidden("change the time-bank policy"));
    }
    let p = required("policy", req.policy)?;
    if p.name != POLICY {
        return Err(Error::invalid("policy.name", "must be `timeBankPolicy`"));
    }
    let mask = POLICY_FIELDS.mask(req.update_mask.as_ref())?;
    let mut c = Check::new();
    if mask.has("points_per_hour") {
        c.range("policy.points_per_hour", p.points_per_hour.into(), 0, 1000);
    }
    if mask.has("badge_hours") {
        if p.badge_hours.len() > 20 {
            c.add("policy.badge_hours", "at most 20 thresholds");
        }
        if p.badge_hours.iter().any(|h| !(1..=100_000).contains(h))
            || p.badge_hours.windows(2).any(|w| w[0] >= w[1])
        {
            c.add("policy.badge_hours", "must ascend, each 1 to 100000 hours");
        }
    }
    c.finish()?;
    let txn = svc.ctx.db.begin_write().await?;
    let row = load_policy(&txn).await?;
    let mut edit = POLICY_VERSIONS.edit(row, &p.etag, POLICY, svc.ctx.clock.now())?;
    edit.apply(&POLICY_FIELDS, &mask, &p);
    let saved = edit.save(&txn).await?;
    txn.commit().await?;
    Ok(policy_proto(&saved))
}

/// The volunteer whose points the caller may read or spend.
async fn own_or_staff<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: Uuid,
) -> Result<vols::Model> {
    let v = volunteers::get_visible(conn, scope, id).await?;
    match scope {
        Scope::Partner { .. } => Err(Error::forbidden("read volunteers' points")),
        _ => Ok(v),
    }
}

/// GetPointsAccount.
pub async fn get_account(
    svc: &Volunteers,
    scope: &Scope,
    req: GetPointsAccountRequest,
) -> Result<PointsAccount> {
    let volunteer = req.name.strip_suffix("/pointsAccount").ok_or_else(|| {
        Error::invalid(
            "name",
            "must be a `volunteers/{volunteer}/pointsAccount` name",
        )
    })?;
    let id = read_id("name", volunteer, volunteers::COLLECTION)?;
    let v = own_or_staff(svc.ctx.db.read(), scope, id).await?;
    Ok(PointsAccount {
        name: req.name,
        balance: v.points_balance,
        earned: v.points_earned,
        redeemed: v.points_redeemed,
    })
}

/// ListPointsEntries, newest first.
pub async fn list_entries(
    svc: &Volunteers,
    scope: &Scope,
    req: ListPointsEntriesRequest,
) -> Result<ListPointsEntriesResponse> {
    let id = read_id("parent", &req.parent, volunteers::COLLECTION)?;
    let conn = svc.ctx.db.read();
    own_or_staff(conn, scope, id).await?;
    let query = ListQuery {
        parent: &req.parent,
        ..ListQuery::new("ListPointsEntries", req.page_size, &req.page_token, "", "")
    };
    let base = entries::Entity::find().filter(entries::Column::VolunteerId.eq(id));
    let (rows, next_page_token) = listing::newest_first(
        &svc.ctx.tokens,
        &svc.ctx.db,
        query,
        base,
        entries::Column::Id,
        |m| m.id,
    )
    .await?;
    Ok(ListPointsEntriesResponse {
        entries: rows.iter().map(entry_proto).collect(),
        next_page_token,
    })
}

/// RedeemPoints: never below zero, also under concurrent redemptions.
pub async fn redeem(
    svc: &Volunteers,
    scope: &Scope,
    principal: &Principal,
    req: RedeemPointsRequest,
) -> Result<PointsEntry> {
    let key = Key::new("RedeemPoints", &req.request_id, principal, &req);
    let id = read_id("volunteer", &req.volunteer, volunteers::COLLECTION)?;
    let mut c = Check::new();
    c.range("points", req.points, 1, 1_000_000);
    c.line("item", &req.item, 1, 200);
    c.request_id(&req.request_id);
    c.finish()?;
    let now = svc.ctx.clock.now();
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        let v = own_or_staff(txn, scope, id).await?;
        if let Scope::Resident { person, .. } = scope
            && v.person_id != *person
        {
            return Err(Error::forbidden("spend another volunteer's points"));
        }
        let res = vols::Entity::update_many()
            .col_expr(
                vols::Column::PointsBalance,
                Expr::col(vols::Column::PointsBalance).sub(req.points),
            )
            .col_expr(
                vols::Column::PointsRedeemed,
                Expr::col(vols::Column::PointsRedeemed).add(req.points),
            )
            .filter(vols::Column::Id.eq(id))
            .filter(vols::Column::PointsBalance.gte(req.points))
            .exec(txn)
            .await?;
        if res.rows_affected == 0 {
            return Err(Error::precondition(
                ErrorReason::InsufficientPoints,
                "BALANCE",
                &req.volunteer,
                format!("the balance is below {} points", req.points),
            ));
        }
        let after = vols::Entity::find_by_id(id)
            .one(txn)
            .await?
            .map(|v| v.points_balance)
            .unwrap_or_default();
        let row = entries::ActiveModel {
            id: Set(names::new_id()),
            volunteer_id: Set(id),
            kind: Set(PointsEntryKind::Redeem as i32),
            points: Set(-req.points),
            balance_after: Set(after),
            service_record_id: Set(None),
            item: Set(req.item),
            create_time: Set(now),
        }
        .insert(txn)
        .await?;
        Ok(entry_proto(&row))
    })
    .await
}
