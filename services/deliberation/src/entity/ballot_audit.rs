use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "ballot_audit")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub poll_id: Uuid,
    pub ballot_id: Uuid,
    pub channel: i32,
    /// Who held the proxy (kept even on anonymous polls; never in a response).
    pub proxy_holder_id: Option<Uuid>,
    /// Who cast it: the principal's description.
    pub recorder: String,
    pub time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
