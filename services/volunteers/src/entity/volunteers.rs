use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "volunteers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: Uuid,
    pub display_name: String,
    pub community_id: Uuid,
    /// JSON list of lower-case tags.
    pub skills: String,
    /// JSON list of talents.
    pub talents: String,
    /// JSON list of weekly windows.
    pub availability: String,
    /// JSON list of unavailable intervals.
    pub unavailable: String,
    pub state: i32,
    pub phone: String,
    pub approved_minutes: i64,
    pub points_balance: i64,
    pub points_earned: i64,
    pub points_redeemed: i64,
    pub revision: i64,
    pub create_time: DateTimeUtc,
    pub update_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
