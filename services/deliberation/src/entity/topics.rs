use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "topics")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub council_id: Uuid,
    /// The council's community, for filters and statistics.
    pub community_id: Uuid,
    pub title: String,
    pub description: String,
    pub source: i32,
    /// The proposer's resource name or staff subject.
    pub proposer: String,
    /// The proposing person, when a resident proposed it.
    pub proposer_person: Option<Uuid>,
    /// The proposing organisation, when a partner proposed it.
    pub proposer_organization: Option<Uuid>,
    /// JSON list of issue names.
    pub evidence_issues: String,
    pub cluster: String,
    pub support_count: i32,
    pub support_threshold: i32,
    pub state: i32,
    pub close_reason: String,
    pub revision: i64,
    pub create_time: DateTimeUtc,
    pub update_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
