use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "ballots")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub poll_id: Uuid,
    /// The voter's id, or a salted hash of it on anonymous polls: one ballot each.
    pub voter_key: String,
    /// None on anonymous polls.
    pub voter_id: Option<Uuid>,
    /// JSON list of choices.
    pub choices: String,
    pub reason: String,
    pub channel: i32,
    /// None on anonymous polls.
    pub proxy_holder_id: Option<Uuid>,
    pub create_time: DateTimeUtc,
    pub update_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
