use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "meetings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub council_id: Uuid,
    pub title: String,
    pub mode: i32,
    pub location: String,
    pub online_url: String,
    pub start_time: DateTimeUtc,
    pub end_time: Option<DateTimeUtc>,
    /// JSON list of topic ids, in order.
    pub agenda: String,
    /// JSON quorum policy; empty for the council's default.
    pub quorum: String,
    pub state: i32,
    pub minutes: String,
    pub attendance_count: i32,
    pub revision: i64,
    pub create_time: DateTimeUtc,
    pub update_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
