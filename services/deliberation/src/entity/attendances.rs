use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "attendances")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub meeting_id: Uuid,
    pub person_id: Uuid,
    /// The seat in force at sign-in, if any.
    pub seat_id: Option<Uuid>,
    /// JSON list of the SeatKind numbers the person held at sign-in.
    pub seat_kinds: String,
    pub voting: bool,
    pub mode: i32,
    pub sign_in_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
