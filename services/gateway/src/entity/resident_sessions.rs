use sea_orm::entity::prelude::*;

/// A resident's signed-in session. Its refresh tokens are derived from
/// `salt` and `generation` under the gateway's key, so none is stored; a
/// refresh moves `generation` on, which spends the previous token.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "resident_sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: Uuid,
    /// Random, per session, hex.
    pub salt: String,
    /// The generation of the one live refresh token.
    pub generation: i64,
    /// How the resident signed in: `phone` (other doors name themselves).
    pub door: String,
    pub device: String,
    pub peer: String,
    pub create_time: DateTimeUtc,
    pub refresh_time: DateTimeUtc,
    /// The refresh token lapses then unless renewed before.
    pub expire_time: DateTimeUtc,
    pub end_time: Option<DateTimeUtc>,
    /// `SessionEnd` as a number; 0 while open.
    pub end_reason: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
