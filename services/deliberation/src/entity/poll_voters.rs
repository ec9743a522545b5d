use sea_orm::entity::prelude::*;

/// One person who may vote in a poll, fixed when it opened.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "poll_voters")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub poll_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub person_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
