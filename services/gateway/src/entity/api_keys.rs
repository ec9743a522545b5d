use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub partner_id: Uuid,
    pub organization_id: Uuid,
    pub display_name: String,
    pub prefix: String,
    /// SHA-256 of the secret, hex.
    pub secret_hash: String,
    pub expire_time: DateTimeUtc,
    pub revoke_time: Option<DateTimeUtc>,
    pub rotated_from: Option<Uuid>,
    pub last_use_time: Option<DateTimeUtc>,
    pub create_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
