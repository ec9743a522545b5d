use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "console_sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// SHA-256 of the cookie's value, hex; the value itself is kept nowhere.
    #[sea_orm(unique)]
    pub token_hash: String,
    pub account_id: Uuid,
    /// The form token every POST of this session must carry.
    pub csrf_token: String,
    pub create_time: DateTimeUtc,
    pub expire_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
