use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sub_items")]
pub struct Model {
    /// The code and Open311 service_code, e.g. `chaotic_parking`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub category_id: String,
    pub display_name: String,
    pub english_name: String,
    pub respond_within_hours: i32,
    pub resolve_within_days: i32,
    pub active: bool,
    pub sort_order: i32,
    pub two_nos: bool,
    pub revision: i64,
    pub create_time: DateTimeUtc,
    pub update_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
