use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "activities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub title: String,
    pub theme: String,
    pub description: String,
    pub community_id: Uuid,
    pub courtyard_id: Option<Uuid>,
    pub organizing_team_id: Option<Uuid>,
    pub organizing_organization_id: Option<Uuid>,
    pub shared_resource: String,
    pub start_time: DateTimeUtc,
    pub end_time: DateTimeUtc,
    pub capacity: i32,
    pub waitlist_capacity: i32,
    /// JSON list of skill tags.
    pub required_skills: String,
    /// JSON list of course ids.
    pub required_certifications: String,
    pub state: i32,
    pub confirmed_count: i32,
    pub waitlist_count: i32,
    /// Hands out waitlist positions in order.
    pub waitlist_seq: i32,
    pub cancel_reason: String,
    pub revision: i64,
    pub create_time: DateTimeUtc,
    pub update_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
