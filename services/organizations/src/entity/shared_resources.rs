//! Rooms, yards, equipment and services opened for shared use.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shared_resources")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub display_name: String,
    pub kind: i32,
    pub owner_id: Uuid,
    pub community_id: Uuid,
    pub courtyard_id: Option<Uuid>,
    pub description: String,
    pub capacity: i32,
    pub availability: String,
    pub open: bool,
    pub revision: i64,
    pub create_time: DateTimeUtc,
    pub update_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
