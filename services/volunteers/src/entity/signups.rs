use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signups")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub activity_id: Uuid,
    pub volunteer_id: Uuid,
    pub state: i32,
    /// Order on the waitlist (increasing); 0 when never waitlisted.
    pub position: i32,
    /// The activity's window, copied for the overlap check.
    pub start_time: DateTimeUtc,
    pub end_time: DateTimeUtc,
    /// Sort key: confirmed first, then the waitlist in order, then cancelled.
    pub rank: i64,
    pub check_in_time: Option<DateTimeUtc>,
    pub check_out_time: Option<DateTimeUtc>,
    pub revision: i64,
    pub create_time: DateTimeUtc,
    pub update_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
