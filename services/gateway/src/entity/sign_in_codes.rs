use sea_orm::entity::prelude::*;

/// A one-time sign-in code sent to a number. The code itself is kept
/// nowhere: only its HMAC under the gateway's key, bound to this row and
/// the number.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sign_in_codes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// E.164.
    pub phone: String,
    pub code_hash: String,
    /// Wrong codes tried against it.
    pub attempts: i32,
    /// The address that asked for it (without port), for the per-address limit.
    pub peer: String,
    pub create_time: DateTimeUtc,
    pub expire_time: DateTimeUtc,
    /// When it signed someone in; it works once.
    pub consume_time: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
