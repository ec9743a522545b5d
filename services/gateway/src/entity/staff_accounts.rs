use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: i32,
    pub community_id: Option<Uuid>,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub disabled: bool,
    pub failed_attempts: i32,
    pub locked_until: Option<DateTimeUtc>,
    pub revision: i64,
    pub create_time: DateTimeUtc,
    pub update_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
