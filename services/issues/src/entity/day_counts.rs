use sea_orm::entity::prelude::*;

/// What the statistics add up, per courtyard and day of report (the
/// street's local date, `YYYY-MM-DD`), kept in step with every issue write.
/// A courtyard's day may be spread over several shards, which the
/// statistics sum: on PostgreSQL a write adds to a shard no other open
/// write holds, so writes in one courtyard do not queue behind one row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "issue_day_counts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub courtyard_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub shard: i16,
    pub community_id: Uuid,
    pub reported: i32,
    pub responded_in_time: i32,
    pub resolved: i32,
    pub rated: i32,
    pub satisfied: i32,
    pub dispatched: i32,
    pub returned: i32,
    pub ever_resolved: i32,
    pub reopened: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
