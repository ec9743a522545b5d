//! Staff accounts for the console: CreateStaffAccount, ListStaffAccounts,
//! UpdateStaffAccount, DeleteStaffAccount. Passwords are kept as Argon2id
//! hashes and never returned.

use argon2::Argon2;
use argon2::password_hash::PasswordHasher;
use cogov_kit::auth::Principal;
use cogov_kit::fieldmask::{Fields, Input};
use cogov_kit::filter::{Field, Kind};
use cogov_kit::idempotency::{self, Key};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::store::Versioned;
use cogov_kit::validate::{Check, read_id, required};
use cogov_kit::{Error, Result, convert, etag, names};
use cogov_proto::common::StaffRole;
use cogov_proto::gateway::*;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::Gateway;
use crate::entity::staff_accounts::{self as rows, Column, Entity, Model};

const COLLECTION: &str = "staffAccounts";
const VERSIONED: Versioned<Column> = Versioned {
    id: Column::Id,
    revision: Column::Revision,
    update_time: Some(Column::UpdateTime),
};

fn name(id: Uuid) -> String {
    names::format(COLLECTION, id)
}

fn to_proto(m: &Model) -> StaffAccount {
    StaffAccount {
        name: name(m.id),
        username: m.username.clone(),
        display_name: m.display_name.clone(),
        role: m.role,
        community: m
            .community_id
            .map(|c| names::format("communities", c))
            .unwrap_or_default(),
        password: String::new(),
        disabled: m.disabled,
        locked_until: convert::opt_timestamp(m.locked_until),
        create_time: Some(convert::timestamp(m.create_time)),
        update_time: Some(convert::timestamp(m.update_time)),
        etag: etag::format(m.revision),
    }
}

fn hash(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("hashing a password: {e}")))
}

fn check_password(c: &mut Check, password: &str) {
    let n = password.chars().count();
    if !(12..=128).contains(&n) {
        c.add("staff_account.password", "12 to 128 characters");
    }
}

/// Role and community agree: a community admin has one community, a
/// street admin none.
fn check_role(c: &mut Check, role: i32, community: &str) -> (StaffRole, Option<Uuid>) {
    let role: StaffRole = c.enumeration("staff_account.role", role, true);
    let community = c.optional_name("staff_account.community", community, "communities");
    match (role, community) {
        (StaffRole::CommunityAdmin, None) => c.add(
            "staff_account.community",
            "a community admin needs a community",
        ),
        (StaffRole::StreetAdmin, Some(_)) => c.add(
            "staff_account.community",
            "a street admin covers the whole street; leave it empty",
        ),
        _ => {}
    }
    (role, community)
}

async fn find<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Model> {
    Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::NotFound {
            resource_type: "StaffAccount",
            name: name(id),
        })
}

/// CreateStaffAccount.
pub async fn create(
    gw: &Gateway,
    _caller: &Principal,
    principal: &Principal,
    req: CreateStaffAccountRequest,
) -> Result<StaffAccount> {
    let key = Key::new("CreateStaffAccount", &req.request_id, principal, &req);
    let a = required("staff_account", req.staff_account)?;
    let mut c = Check::new();
    let username_ok = (3..=64).contains(&a.username.len())
        && a.username
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ".-_".contains(ch));
    if !username_ok {
        c.add(
            "staff_account.username",
            "3 to 64 characters of a-z, 0-9, ., _ and -",
        );
    }
    c.line("staff_account.display_name", &a.display_name, 1, 100);
    let (role, community) = check_role(&mut c, a.role, &a.community);
    check_password(&mut c, &a.password);
    c.request_id(&req.request_id);
    c.finish()?;
    let password_hash = hash(&a.password)?;
    let now = gw.ctx.clock.now();
    idempotency::create(&gw.ctx.db, &key, now, async move |txn| {
        if let Some(existing) = Entity::find()
            .filter(Column::Username.eq(a.username.as_str()))
            .one(txn)
            .await?
        {
            return Err(Error::AlreadyExists {
                resource_type: "StaffAccount",
                name: name(existing.id),
            });
        }
        let row = rows::ActiveModel {
            id: Set(names::new_id()),
            username: Set(a.username),
            display_name: Set(a.display_name),
            role: Set(role as i32),
            community_id: Set(community),
            password_hash: Set(password_hash),
            disabled: Set(a.disabled),
            failed_attempts: Set(0),
            locked_until: Set(None),
            revision: Set(1),
            create_time: Set(now),
            update_time: Set(now),
        }
        .insert(txn)
        .await?;
        Ok(to_proto(&row))
    })
    .await
}

/// ListStaffAccounts.
pub async fn list(
    gw: &Gateway,
    _caller: &Principal,
    req: ListStaffAccountsRequest,
) -> Result<ListStaffAccountsResponse> {
    let fields = [
        Field::column(
            "role",
            Column::Role,
            Kind::Enum(
                |s| StaffRole::from_str_name(s).map(|v| v as i32),
                "STAFF_ROLE_",
            ),
        ),
        Field::column("community", Column::CommunityId, Kind::Name("communities")),
        Field::column("disabled", Column::Disabled, Kind::Bool),
    ];
    let query = ListQuery::new(
        "ListStaffAccounts",
        req.page_size,
        &req.page_token,
        &req.filter,
        "",
    );
    let spec = Spec::new(&fields, &[], Column::Id);
    let (rows, next_page_token) = listing::list(
        &gw.ctx.tokens,
        &gw.ctx.db,
        query,
        spec,
        Entity::find(),
        |m| (SortKey::None, m.id),
    )
    .await?;
    Ok(ListStaffAccountsResponse {
        staff_accounts: rows.iter().map(to_proto).collect(),
        next_page_token,
    })
}

/// What an update checked: the role as it will be, in its community (a
/// change to either is checked against the other), and the new password's
/// hash.
struct Checked {
    role_in: (StaffRole, Option<Uuid>),
    password_hash: String,
}

const FIELDS: Fields<Input<StaffAccount, Checked>, rows::ActiveModel> = Fields::new(&[
    ("display_name", |am, i| {
        am.display_name = Set(i.sent.display_name.clone())
    }),
    ("role", role_in),
    ("community", role_in),
    ("disabled", |am, i| am.disabled = Set(i.sent.disabled)),
    ("password", |am, i| {
        am.password_hash = Set(i.checked.password_hash.clone());
        am.failed_attempts = Set(0);
        am.locked_until = Set(None);
    }),
]);

fn role_in(am: &mut rows::ActiveModel, i: &Input<StaffAccount, Checked>) {
    let (role, community) = i.checked.role_in;
    am.role = Set(role as i32);
    am.community_id = Set(community);
}

/// UpdateStaffAccount: display name, role and community, disabled, a new
/// password (which also lifts a lock-out).
pub async fn update(
    gw: &Gateway,
    _caller: &Principal,
    req: UpdateStaffAccountRequest,
) -> Result<StaffAccount> {
    let a = required("staff_account", req.staff_account)?;
    let id = read_id("staff_account.name", &a.name, COLLECTION)?;
    let mask = FIELDS.mask(req.update_mask.as_ref())?;
    let txn = gw.ctx.db.begin_write().await?;
    let row = find(&txn, id).await?;
    let mut edit = VERSIONED.edit(row, &a.etag, &name(id), gw.ctx.clock.now())?;
    let row = &edit.before;
    let mut c = Check::new();
    if mask.has("display_name") {
        c.line("staff_account.display_name", &a.display_name, 1, 100);
    }
    let role = if mask.has("role") { a.role } else { row.role };
    let community = if mask.has("community") {
        a.community.clone()
    } else {
        row.community_id
            .map(|c| names::format("communities", c))
            .unwrap_or_default()
    };
    let role_in = check_role(&mut c, role, &community);
    if mask.has("password") {
        check_password(&mut c, &a.password);
    }
    c.finish()?;
    let password_hash = if mask.has("password") {
        hash(&a.password)?
    } else {
        String::new()
    };
    let checked = Checked {
        role_in,
        password_hash,
    };
    edit.apply(&FIELDS, &mask, &Input { sent: a, checked });
    let saved = edit.save(&txn).await?;
    txn.commit().await?;
    Ok(to_proto(&saved))
}

/// DeleteStaffAccount.
pub async fn delete(
    gw: &Gateway,
    _caller: &Principal,
    req: DeleteStaffAccountRequest,
) -> Result<()> {
    let id = read_id("name", &req.name, COLLECTION)?;
    let txn = gw.ctx.db.begin_write().await?;
    let row = find(&txn, id).await?;
    etag::check(&req.etag, row.revision, &name(id))?;
    VERSIONED
        .delete::<Entity, _>(&txn, id, row.revision, &name(id))
        .await?;
    txn.commit().await?;
    Ok(())
}
