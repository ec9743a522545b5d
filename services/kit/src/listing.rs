//! Keyset pagination of sea-orm queries: stable under concurrent inserts
//! (no offsets), ordered by an optional sort column with the id (UUIDv7, so
//! creation order) as tie-breaker.
//!
//! A page is a search: it runs on [`Db::search`], whose plans follow the
//! values of its filter and its limit.

use sea_orm::sea_query::{Condition, IntoCondition};
use sea_orm::{ColumnTrait, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, Select};
use uuid::Uuid;

use crate::db::Db;
use crate::error::{Error, Result};
use crate::paging::{self, Cursor, PageTokens, SortKey};

/// A list's order: by `column` then id, or by id alone (creation order).
#[derive(Debug, Clone, Copy)]
pub struct Sort<C> {
    /// The sort column; `None` sorts by id (`create_time`).
    pub column: Option<C>,
    /// Descending.
    pub desc: bool,
}

/// Parses `order_by` (AIP-132): empty, `create_time`, or one of `columns`,
/// each optionally followed by ` desc`. `default_desc` applies to an empty
/// `order_by`.
pub fn sort<C: Copy>(order_by: &str, columns: &[(&str, C)], default_desc: bool) -> Result<Sort<C>> {
    let words: Vec<&str> = order_by.split_whitespace().collect();
    let (field, desc) = match words.as_slice() {
        [] => {
            return Ok(Sort {
                column: None,
                desc: default_desc,
            });
        }
        [f] => (*f, false),
        [f, d] if d.eq_ignore_ascii_case("desc") => (*f, true),
        [f, a] if a.eq_ignore_ascii_case("asc") => (*f, false),
        _ => {
            return Err(Error::invalid(
                "order_by",
                "expected `field` or `field desc`",
            ));
        }
    };
    if field == "create_time" {
        return Ok(Sort { column: None, desc });
    }
    columns
        .iter()
        .find(|(name, _)| *name == field)
        .map(|(_, c)| Sort {
            column: Some(*c),
            desc,
        })
        .ok_or_else(|| {
            let mut known: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
            known.push("create_time");
            Error::invalid(
                "order_by",
                format!("cannot order by `{field}`; use one of {}", known.join(", ")),
            )
        })
}

/// One list request's paging state.
#[derive(Debug)]
pub struct Page<'a, C> {
    tokens: &'a PageTokens,
    fingerprint: Vec<u8>,
    cursor: Option<Cursor>,
    size: u64,
    sort: Sort<C>,
}

impl<'a, C: ColumnTrait> Page<'a, C> {
    /// Reads `page_size` and `page_token`; `query` names everything that
    /// shapes the results (method, parent, filter, order), so a token is
    /// refused with any other query.
    pub fn new(
        tokens: &'a PageTokens,
        query: &[&str],
        page_size: i32,
        page_token: &str,
        sort: Sort<C>,
    ) -> Result<Self> {
        let fingerprint = paging::fingerprint(query);
        let size = paging::page_size(page_size)?;
        let cursor = tokens.decode(&fingerprint, page_token)?;
        if let Some(c) = &cursor {
            let kind_matches = matches!(
                (&c.key, sort.column.is_some()),
                (SortKey::None, false)
                    | (SortKey::Text(_) | SortKey::Int(_) | SortKey::Time(_), true)
            );
            if !kind_matches {
                return Err(Error::InvalidPageToken("issued for a different order"));
            }
        }
        Ok(Self {
            tokens,
            fingerprint,
            cursor,
            size,
            sort,
        })
    }

    /// Runs `select` for this page. `id` is the primary key column, `key`
    /// gives a row's sort key (ignored when sorting by id) and id.
    pub async fn fetch<E>(
        &self,
        db: &Db,
        select: Select<E>,
        id: C,
        key: impl Fn(&E::Model) -> (SortKey, Uuid),
    ) -> Result<(Vec<E::Model>, String)>
    where
        E: EntityTrait<Column = C>,
    {
        let order = if self.sort.desc {
            Order::Desc
        } else {
            Order::Asc
        };
        let mut select = select;
        if let Some(cursor) = &self.cursor {
            select = select.filter(self.after(cursor, id));
        }
        if let Some(col) = self.sort.column {
            select = select.order_by(col, order.clone());
        }
        let mut rows = select
            .order_by(id, order)
            .limit(self.size + 1)
            .all(db.search())
            .await?;
        let next = if rows.len() as u64 > self.size {
            rows.truncate(self.size as usize);
            let last = rows.last().expect("a full page has a last row");
            let (sort_key, last_id) = key(last);
            let sort_key = if self.sort.column.is_some() {
                sort_key
            } else {
                SortKey::None
            };
            self.tokens.encode(
                &self.fingerprint,
                &Cursor {
                    key: sort_key,
                    id: last_id,
                },
            )
        } else {
            String::new()
        };
        Ok((rows, next))
    }

    fn after(&self, cursor: &Cursor, id: C) -> Condition {
        let past_id = if self.sort.desc {
            id.lt(cursor.id)
        } else {
            id.gt(cursor.id)
        };
        let value: sea_orm::Value = match &cursor.key {
            SortKey::None => return past_id.into_condition(),
            SortKey::Text(s) => s.clone().into(),
            SortKey::Int(i) => (*i).into(),
            SortKey::Time(t) => (*t).into(),
        };
        let col = self.sort.column.expect("checked in new");
        let past_key = if self.sort.desc {
            col.lt(value.clone())
        } else {
            col.gt(value.clone())
        };
        Condition::any()
            .add(past_key)
            .add(Condition::all().add(col.eq(value)).add(past_id))
    }
}

/// A list request's paging, filtering and ordering parameters.
#[derive(Debug, Clone, Copy)]
pub struct ListQuery<'a> {
    /// The RPC, e.g. `ListCourtyards`; page tokens are bound to it.
    pub method: &'a str,
    /// The parent, for lists of a parent's children; empty otherwise.
    pub parent: &'a str,
    /// `page_size` as requested.
    pub page_size: i32,
    /// `page_token` as requested.
    pub page_token: &'a str,
    /// `filter` as requested.
    pub filter: &'a str,
    /// `order_by` as requested.
    pub order_by: &'a str,
}

impl<'a> ListQuery<'a> {
    /// The query of a top-level list request.
    pub fn new(
        method: &'a str,
        page_size: i32,
        page_token: &'a str,
        filter: &'a str,
        order_by: &'a str,
    ) -> Self {
        Self {
            method,
            parent: "",
            page_size,
            page_token,
            filter,
            order_by,
        }
    }
}

/// What a list may be filtered and ordered by.
pub struct Spec<'a, C> {
    /// Filterable fields.
    pub fields: &'a [crate::filter::Field],
    /// Orderable fields besides `create_time`.
    pub sorts: &'a [(&'a str, C)],
    /// Newest first when `order_by` is empty.
    pub newest_first: bool,
    /// The primary key column.
    pub id: C,
}

impl<'a, C> Spec<'a, C> {
    /// Oldest first unless `order_by` says otherwise.
    pub fn new(fields: &'a [crate::filter::Field], sorts: &'a [(&'a str, C)], id: C) -> Self {
        Self {
            fields,
            sorts,
            newest_first: false,
            id,
        }
    }
}

/// Runs a list: parses the filter and order, checks the page token, and
/// fetches one page of `base` (already narrowed to what the caller may
/// see). `key` gives a row's sort key and id.
pub async fn list<E>(
    tokens: &PageTokens,
    db: &Db,
    query: ListQuery<'_>,
    spec: Spec<'_, E::Column>,
    base: Select<E>,
    key: impl Fn(&E::Model) -> (SortKey, Uuid),
) -> Result<(Vec<E::Model>, String)>
where
    E: EntityTrait,
{
    let condition = crate::filter::condition(query.filter, spec.fields)?;
    let order = sort(query.order_by, spec.sorts, spec.newest_first)?;
    let page = Page::new(
        tokens,
        &[query.method, query.parent, query.filter, query.order_by],
        query.page_size,
        query.page_token,
        order,
    )?;
    page.fetch(db, base.filter(condition), spec.id, key).await
}

/// A page of `base` (already narrowed to a parent's children and to what
/// the caller may see), newest first, with no filter or order to choose:
/// a partner's keys, a person's notices, an endpoint's deliveries. `id`
/// is the primary key column and `id_of` reads it.
pub async fn newest_first<E>(
    tokens: &PageTokens,
    db: &Db,
    query: ListQuery<'_>,
    base: Select<E>,
    id: E::Column,
    id_of: impl Fn(&E::Model) -> Uuid,
) -> Result<(Vec<E::Model>, String)>
where
    E: EntityTrait,
{
    let mut spec = Spec::new(&[], &[], id);
    spec.newest_first = true;
    list(tokens, db, query, spec, base, |m| (SortKey::None, id_of(m))).await
}
