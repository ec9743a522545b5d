//! The timeline: every transition, assignment, check-in and comment.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "issue_updates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub issue_id: Uuid,
    pub kind: i32,
    pub from_state: i32,
    pub to_state: i32,
    pub author: String,
    pub text: String,
    pub organization_id: Option<Uuid>,
    pub reason_code: String,
    pub internal: bool,
    /// JSON list of media.
    pub media: String,
    pub create_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
