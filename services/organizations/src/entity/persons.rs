//! Residents and members. Phone and address are personal data.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "persons")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub display_name: String,
    pub community_id: Uuid,
    pub courtyard_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
    pub phone: String,
    pub address: String,
    pub party_member: bool,
    pub double_report_unit_id: Option<Uuid>,
    pub building_head: bool,
    pub backbone: bool,
    pub revision: i64,
    pub create_time: DateTimeUtc,
    pub update_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
