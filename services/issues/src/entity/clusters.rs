//! Recurring problems: many reports of one sub-item in one courtyard.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "issue_clusters")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub courtyard_id: Uuid,
    pub community_id: Uuid,
    pub sub_item_id: String,
    pub state: i32,
    pub escalated_to: Option<Uuid>,
    pub topic_id: Option<Uuid>,
    pub note: String,
    pub revision: i64,
    pub create_time: DateTimeUtc,
    pub update_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
