use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inspections")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub courtyard_id: Uuid,
    pub community_id: Uuid,
    pub sub_item_id: String,
    pub result: i32,
    pub inspector: String,
    pub notes: String,
    /// JSON list of media.
    pub media: String,
    pub inspect_time: DateTimeUtc,
    pub create_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
