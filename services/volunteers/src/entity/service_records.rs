use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub volunteer_id: Uuid,
    pub activity_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub community_id: Uuid,
    pub start_time: DateTimeUtc,
    pub minutes: i32,
    pub description: String,
    pub source: i32,
    pub state: i32,
    pub reviewer: String,
    pub reject_reason: String,
    pub review_time: Option<DateTimeUtc>,
    pub points: i64,
    pub revision: i64,
    pub create_time: DateTimeUtc,
    pub update_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
