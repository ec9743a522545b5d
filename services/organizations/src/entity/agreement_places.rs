//! The courtyards (service) or communities (co-building) of an agreement.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agreement_places")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub agreement_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub place_id: Uuid,
    /// `places.kind` of the place: courtyard or community.
    pub place_kind: i16,
    /// The place's community (itself for a community).
    pub community_id: Uuid,
    /// Position in the agreement's list, to return it as entered.
    pub position: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
