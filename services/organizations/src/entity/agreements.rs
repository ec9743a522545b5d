//! Service and co-building agreements; their places are in
//! `agreement_places`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agreements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: i32,
    pub organization_id: Uuid,
    pub title: String,
    pub description: String,
    pub start_time: DateTimeUtc,
    pub end_time: Option<DateTimeUtc>,
    pub terminate_time: Option<DateTimeUtc>,
    pub terminate_reason: String,
    pub revision: i64,
    pub create_time: DateTimeUtc,
    pub update_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
