//! The last computed two-nos status of each courtyard, kept so the date it
//! was last met survives.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "two_nos_status")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub courtyard_id: Uuid,
    pub community_id: Uuid,
    pub met: bool,
    pub last_met_time: Option<DateTimeUtc>,
    pub update_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
