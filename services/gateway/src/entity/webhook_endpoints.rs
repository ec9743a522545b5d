use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub partner_id: Uuid,
    pub organization_id: Uuid,
    pub url: String,
    pub description: String,
    /// The wanted event types, space-separated; every type when empty.
    pub event_types: String,
    pub state: i32,
    pub disabled_reason: String,
    /// `whsec_…`: kept as it is, since every delivery is signed with it.
    pub secret: String,
    /// The secret before the last rotation, signing beside the new one
    /// until `previous_secret_expire_time`.
    pub previous_secret: Option<String>,
    pub previous_secret_expire_time: Option<DateTimeUtc>,
    pub failing_since: Option<DateTimeUtc>,
    pub revision: i64,
    pub create_time: DateTimeUtc,
    pub update_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
