//! Organisations of every kind, with parent links.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organizations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub display_name: String,
    pub kind: i32,
    pub parent_id: Option<Uuid>,
    pub place_id: Option<Uuid>,
    /// The place's kind (`places.kind`), to name it without a lookup.
    pub place_kind: Option<i16>,
    /// The community of the place, when the place is in one.
    pub community_id: Option<Uuid>,
    pub description: String,
    pub credit_code: String,
    pub phone: String,
    pub address: String,
    pub revision: i64,
    pub create_time: DateTimeUtc,
    pub update_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
