//! Categories and sub-items: GetCategory, ListCategories, CreateCategory,
//! UpdateCategory, GetSubItem, ListSubItems, CreateSubItem, UpdateSubItem.
//!
//! The taxonomy is small data (tens of rows) keyed by codes, so lists read
//! it whole in `sort_order` and page through it with signed tokens.

use cogov_kit::ErrorReason;
use cogov_kit::auth::Principal;
use cogov_kit::fieldmask::{Fields, Input, UpdateMask};
use cogov_kit::filter::{self, Field, Kind};
use cogov_kit::idempotency::{self, Key};
use cogov_kit::paging::{self, Cursor, SortKey};
use cogov_kit::store::Versioned;
use cogov_kit::validate::Check;
use cogov_kit::{Error, Result, convert, etag};
use cogov_proto::issues::*;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};

use crate::entity::{categories, sub_items};
use crate::{Issues, read_code, required, valid_code};
use cogov_kit::scope::Scope;

/// Most rows a taxonomy table may hold.
const MAX_ROWS: u64 = 500;

fn category_proto(m: &categories::Model) -> Category {
    Category {
        name: format!("categories/{}", m.id),
        display_name: m.display_name.clone(),
        english_name: m.english_name.clone(),
        sort_order: m.sort_order,
        create_time: Some(convert::timestamp(m.create_time)),
        update_time: Some(convert::timestamp(m.update_time)),
        etag: etag::format(m.revision),
    }
}

/// The proto of a sub-item row.
pub fn sub_item_proto(m: &sub_items::Model) -> SubItem {
    SubItem {
        name: format!("subItems/{}", m.id),
        category: format!("categories/{}", m.category_id),
        display_name: m.display_name.clone(),
        english_name: m.english_name.clone(),
        respond_within_hours: m.respond_within_hours,
        resolve_within_days: m.resolve_within_days,
        active: m.active,
        sort_order: m.sort_order,
        two_nos: m.two_nos,
        create_time: Some(convert::timestamp(m.create_time)),
        update_time: Some(convert::timestamp(m.update_time)),
        etag: etag::format(m.revision),
    }
}

/// Loads a sub-item; `None` if there is none.
pub async fn find_sub_item<C: ConnectionTrait>(
    conn: &C,
    code: &str,
) -> Result<Option<sub_items::Model>> {
    Ok(sub_items::Entity::find_by_id(code.to_owned())
        .one(conn)
        .await?)
}

/// One page of `rows` (already in order) after the token's position.
fn page_of<T>(
    svc: &Issues,
    method: &str,
    filter: &str,
    page_size: i32,
    page_token: &str,
    rows: Vec<T>,
    key: impl Fn(&T) -> String,
) -> Result<(Vec<T>, String)> {
    let size = paging::page_size(page_size)? as usize;
    let fingerprint = paging::fingerprint(&[method, filter]);
    let after = match svc.ctx.tokens.decode(&fingerprint, page_token)? {
        None => None,
        Some(Cursor {
            key: SortKey::Text(k),
            ..
        }) => Some(k),
        Some(_) => return Err(Error::InvalidPageToken("issued for a different query")),
    };
    let mut rest: Vec<T> = rows
        .into_iter()
        .filter(|r| after.as_ref().is_none_or(|a| key(r) > *a))
        .collect();
    let next = if rest.len() > size {
        rest.truncate(size);
        let last = key(rest.last().expect("a full page"));
        svc.ctx.tokens.encode(
            &fingerprint,
            &Cursor {
                key: SortKey::Text(last),
                id: uuid::Uuid::nil(),
            },
        )
    } else {
        String::new()
    };
    Ok((rest, next))
}

fn position(sort_order: i32, code: &str) -> String {
    // Sorts as (sort_order, code) in text order; sort_order may be negative.
    format!("{:011}:{code}", i64::from(sort_order) + 5_000_000_000)
}

/// GetCategory.
pub async fn get_category(
    svc: &Issues,
    _scope: &Scope,
    req: GetCategoryRequest,
) -> Result<Category> {
    let code = read_code("name", &req.name, "categories")?;
    categories::Entity::find_by_id(code)
        .one(svc.ctx.db.read())
        .await?
        .map(|m| category_proto(&m))
        .ok_or(Error::NotFound {
            resource_type: "Category",
            name: req.name,
        })
}

/// ListCategories.
pub async fn list_categories(
    svc: &Issues,
    _scope: &Scope,
    req: ListCategoriesRequest,
) -> Result<ListCategoriesResponse> {
    let rows = categories::Entity::find()
        .order_by_asc(categories::Column::SortOrder)
        .order_by_asc(categories::Column::Id)
        .all(svc.ctx.db.read())
        .await?;
    let (rows, next_page_token) = page_of(
        svc,
        "ListCategories",
        "",
        req.page_size,
        &req.page_token,
        rows,
        |m| position(m.sort_order, &m.id),
    )?;
    Ok(ListCategoriesResponse {
        categories: rows.iter().map(category_proto).collect(),
        next_page_token,
    })
}

fn check_category(c: &mut Check, m: &Category, mask: Option<&UpdateMask>) {
    let want = |f: &str| mask.is_none_or(|m| m.has(f));
    if want("display_name") {
        c.line("category.display_name", &m.display_name, 1, 100);
    }
    if want("english_name") {
        c.line("category.english_name", &m.english_name, 0, 100);
    }
}

fn require_room(rows: u64) -> Result<()> {
    if rows >= MAX_ROWS {
        return Err(Error::precondition(
            ErrorReason::TaxonomyFull,
            "SIZE",
            "taxonomy",
            format!("at most {MAX_ROWS} entries"),
        ));
    }
    Ok(())
}

/// CreateCategory.
pub async fn create_category(
    svc: &Issues,
    scope: &Scope,
    principal: &Principal,
    req: CreateCategoryRequest,
) -> Result<Category> {
    if !matches!(scope, Scope::All) {
        return Err(Error::forbidden("edit the taxonomy"));
    }
    let key = Key::new("CreateCategory", &req.request_id, principal, &req);
    let m = required("category", req.category)?;
    let mut c = Check::new();
    if !valid_code(&req.category_id) {
        c.add(
            "category_id",
            "must be 2 to 40 characters of a-z, 0-9 and _, starting with a letter",
        );
    }
    check_category(&mut c, &m, None);
    c.request_id(&req.request_id);
    c.finish()?;
    let now = svc.ctx.clock.now();
    let code = req.category_id;
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        require_room(categories::Entity::find().count(txn).await?)?;
        if categories::Entity::find_by_id(code.clone())
            .one(txn)
            .await?
            .is_some()
        {
            return Err(Error::AlreadyExists {
                resource_type: "Category",
                name: format!("categories/{code}"),
            });
        }
        let row = categories::ActiveModel {
            id: Set(code),
            display_name: Set(m.display_name),
            english_name: Set(m.english_name),
            sort_order: Set(m.sort_order),
            revision: Set(1),
            create_time: Set(now),
            update_time: Set(now),
        };
        Ok(category_proto(&row.insert(txn).await?))
    })
    .await
}

const CATEGORY_VERSIONS: Versioned<categories::Column> = Versioned {
    id: categories::Column::Id,
    revision: categories::Column::Revision,
    update_time: Some(categories::Column::UpdateTime),
};

const CATEGORY_FIELDS: Fields<Category, categories::ActiveModel> = Fields::new(&[
    ("display_name", |am, m| {
        am.display_name = Set(m.display_name.clone())
    }),
    ("english_name", |am, m| {
        am.english_name = Set(m.english_name.clone())
    }),
    ("sort_order", |am, m| am.sort_order = Set(m.sort_order)),
]);

const SUB_ITEM_VERSIONS: Versioned<sub_items::Column> = Versioned {
    id: sub_items::Column::Id,
    revision: sub_items::Column::Revision,
    update_time: Some(sub_items::Column::UpdateTime),
};

/// Setters read the sub-item sent and the category code it names.
const SUB_ITEM_FIELDS: Fields<Input<SubItem, Option<String>>, sub_items::ActiveModel> =
    Fields::new(&[
        ("category", |am, i| {
            if let Some(category) = &i.checked {
                am.category_id = Set(category.clone());
            }
        }),
        ("display_name", |am, i| {
            am.display_name = Set(i.sent.display_name.clone())
        }),
        ("english_name", |am, i| {
            am.english_name = Set(i.sent.english_name.clone())
        }),
        ("respond_within_hours", |am, i| {
            am.respond_within_hours = Set(i.sent.respond_within_hours)
        }),
        ("resolve_within_days", |am, i| {
            am.resolve_within_days = Set(i.sent.resolve_within_days)
        }),
        ("active", |am, i| am.active = Set(i.sent.active)),
        ("sort_order", |am, i| am.sort_order = Set(i.sent.sort_order)),
        ("two_nos", |am, i| am.two_nos = Set(i.sent.two_nos)),
    ]);

/// UpdateCategory.
pub async fn update_category(
    svc: &Issues,
    scope: &Scope,
    req: UpdateCategoryRequest,
) -> Result<Category> {
    if !matches!(scope, Scope::All) {
        return Err(Error::forbidden("edit the taxonomy"));
    }
    let m = required("category", req.category)?;
    let code = read_code("category.name", &m.name, "categories")?;
    let mask = CATEGORY_FIELDS.mask(req.update_mask.as_ref())?;
    let mut c = Check::new();
    check_category(&mut c, &m, Some(&mask));
    c.finish()?;
    let txn = svc.ctx.db.begin_write().await?;
    let row = categories::Entity::find_by_id(code.clone())
        .one(&txn)
        .await?
        .ok_or_else(|| Error::NotFound {
            resource_type: "Category",
            name: m.name.clone(),
        })?;
    let mut edit = CATEGORY_VERSIONS.edit(row, &m.etag, &m.name, svc.ctx.clock.now())?;
    edit.apply(&CATEGORY_FIELDS, &mask, &m);
    let saved = edit.save(&txn).await?;
    txn.commit().await?;
    Ok(category_proto(&saved))
}

/// GetSubItem.
pub async fn get_sub_item(svc: &Issues, _scope: &Scope, req: GetSubItemRequest) -> Result<SubItem> {
    let code = read_code("name", &req.name, "subItems")?;
    find_sub_item(svc.ctx.db.read(), &code)
        .await?
        .map(|m| sub_item_proto(&m))
        .ok_or(Error::NotFound {
            resource_type: "SubItem",
            name: req.name,
        })
}

/// ListSubItems.
pub async fn list_sub_items(
    svc: &Issues,
    _scope: &Scope,
    req: ListSubItemsRequest,
) -> Result<ListSubItemsResponse> {
    let fields = [
        Field::custom("category", |op, value| {
            let code = value
                .strip_prefix("categories/")
                .filter(|c| valid_code(c))
                .ok_or("expected a `categories/{code}` name")?;
            match op {
                filter::Op::Eq | filter::Op::Has => Ok(sub_items::Column::CategoryId.eq(code)),
                filter::Op::Ne => Ok(sub_items::Column::CategoryId.ne(code)),
                _ => Err("only `=`, `!=` and `:` apply".into()),
            }
        }),
        Field::column("active", sub_items::Column::Active, Kind::Bool),
        Field::column("two_nos", sub_items::Column::TwoNos, Kind::Bool),
    ];
    let condition = filter::condition(&req.filter, &fields)?;
    let rows = sub_items::Entity::find()
        .filter(condition)
        .order_by_asc(sub_items::Column::SortOrder)
        .order_by_asc(sub_items::Column::Id)
        .all(svc.ctx.db.read())
        .await?;
    let (rows, next_page_token) = page_of(
        svc,
        "ListSubItems",
        &req.filter,
        req.page_size,
        &req.page_token,
        rows,
        |m| position(m.sort_order, &m.id),
    )?;
    Ok(ListSubItemsResponse {
        sub_items: rows.iter().map(sub_item_proto).collect(),
        next_page_token,
    })
}

fn check_sub_item(c: &mut Check, m: &SubItem, mask: Option<&UpdateMask>) -> Option<String> {
    let want = |f: &str| mask.is_none_or(|m| m.has(f));
    if want("display_name") {
        c.line("sub_item.display_name", &m.display_name, 1, 100);
    }
    if want("english_name") {
        c.line("sub_item.english_name", &m.english_name, 0, 100);
    }
    if want("respond_within_hours") {
        c.range(
            "sub_item.respond_within_hours",
            m.respond_within_hours.into(),
            1,
            720,
        );
    }
    if want("resolve_within_days") {
        c.range(
            "sub_item.resolve_within_days",
            m.resolve_within_days.into(),
            1,
            365,
        );
    }
    if want("category") {
        match read_code("sub_item.category", &m.category, "categories") {
            Ok(code) => return Some(code),
            Err(_) => c.add("sub_item.category", "must be a `categories/{code}` name"),
        }
    }
    None
}

async fn require_category<C: ConnectionTrait>(conn: &C, code: &str) -> Result<()> {
    if categories::Entity::find_by_id(code.to_owned())
        .one(conn)
        .await?
        .is_none()
    {
        return Err(Error::invalid(
            "sub_item.category",
            format!("categories/{code} does not exist"),
        ));
    }
    Ok(())
}

/// CreateSubItem. New sub-items are active.
pub async fn create_sub_item(
    svc: &Issues,
    scope: &Scope,
    principal: &Principal,
    req: CreateSubItemRequest,
) -> Result<SubItem> {
    if !matches!(scope, Scope::All) {
        return Err(Error::forbidden("edit the taxonomy"));
    }
    let key = Key::new("CreateSubItem", &req.request_id, principal, &req);
    let m = required("sub_item", req.sub_item)?;
    let mut c = Check::new();
    if !valid_code(&req.sub_item_id) {
        c.add(
            "sub_item_id",
            "must be 2 to 40 characters of a-z, 0-9 and _, starting with a letter",
        );
    }
    let category = check_sub_item(&mut c, &m, None).unwrap_or_default();
    c.request_id(&req.request_id);
    c.finish()?;
    let now = svc.ctx.clock.now();
    let code = req.sub_item_id;
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        require_room(sub_items::Entity::find().count(txn).await?)?;
        require_category(txn, &category).await?;
        if find_sub_item(txn, &code).await?.is_some() {
            return Err(Error::AlreadyExists {
                resource_type: "SubItem",
                name: format!("subItems/{code}"),
            });
        }
        let row = sub_items::ActiveModel {
            id: Set(code),
            category_id: Set(category),
            display_name: Set(m.display_name),
            english_name: Set(m.english_name),
            respond_within_hours: Set(m.respond_within_hours),
            resolve_within_days: Set(m.resolve_within_days),
            active: Set(true),
            sort_order: Set(m.sort_order),
            two_nos: Set(m.two_nos),
            revision: Set(1),
            create_time: Set(now),
            update_time: Set(now),
        };
        Ok(sub_item_proto(&row.insert(txn).await?))
    })
    .await
}

/// UpdateSubItem. A changed SLA applies to issues reported afterwards.
pub async fn update_sub_item(
    svc: &Issues,
    scope: &Scope,
    req: UpdateSubItemRequest,
) -> Result<SubItem> {
    if !matches!(scope, Scope::All) {
        return Err(Error::forbidden("edit the taxonomy"));
    }
    let m = required("sub_item", req.sub_item)?;
    let code = read_code("sub_item.name", &m.name, "subItems")?;
    let mask = SUB_ITEM_FIELDS.mask(req.update_mask.as_ref())?;
    let mut c = Check::new();
    let category = check_sub_item(&mut c, &m, Some(&mask));
    c.finish()?;
    let txn = svc.ctx.db.begin_write().await?;
    let row = find_sub_item(&txn, &code)
        .await?
        .ok_or_else(|| Error::NotFound {
            resource_type: "SubItem",
            name: m.name.clone(),
        })?;
    let mut edit = SUB_ITEM_VERSIONS.edit(row, &m.etag, &m.name, svc.ctx.clock.now())?;
    if let Some(category) = &category {
        require_category(&txn, category).await?;
    }
    edit.apply(
        &SUB_ITEM_FIELDS,
        &mask,
        &Input {
            sent: m,
            checked: category,
        },
    );
    let saved = edit.save(&txn).await?;
    txn.commit().await?;
    svc.sub_items.forget(&code);
    Ok(sub_item_proto(&saved))
}
