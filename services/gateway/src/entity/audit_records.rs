use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The principal in words (`partner:organizations/…`).
    pub subject: String,
    /// The principal, encoded cogov.common.v1.Principal.
    pub principal: Vec<u8>,
    pub partner_id: Option<Uuid>,
    pub method: String,
    pub target: String,
    pub code: i32,
    pub request_id: String,
    pub peer: String,
    pub time: DateTimeUtc,
    pub duration_micros: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
