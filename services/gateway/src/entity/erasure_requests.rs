use sea_orm::entity::prelude::*;

/// A resident's request that their personal data be erased, and what staff
/// decided.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "erasure_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: Uuid,
    /// The person's community when they asked: whose staff decide.
    pub community_id: Uuid,
    pub reason: String,
    /// `ErasureState` as a number.
    pub state: i32,
    /// Who decided, described (`community-admin:…`).
    pub decided_by: String,
    pub decline_reason: String,
    pub create_time: DateTimeUtc,
    pub decide_time: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
