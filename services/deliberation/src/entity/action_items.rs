use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "action_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub resolution_id: Uuid,
    pub council_id: Uuid,
    pub description: String,
    pub owner_id: Uuid,
    pub due_date: Date,
    pub status: i32,
    pub progress: i32,
    pub issue: String,
    pub notes: String,
    pub done_time: Option<DateTimeUtc>,
    /// The carrying issue's revision this item last followed.
    pub issue_revision: i64,
    pub revision: i64,
    pub create_time: DateTimeUtc,
    pub update_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
