use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "polls")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub topic_id: Uuid,
    pub council_id: Uuid,
    pub meeting_id: Option<Uuid>,
    pub title: String,
    pub details: String,
    pub method: i32,
    /// JSON list of options.
    pub options: String,
    pub min_choices: i32,
    pub max_choices: i32,
    pub dots_per_voter: i32,
    pub count_target: i32,
    pub close_time: DateTimeUtc,
    /// When ClosePoll closed it early.
    pub closed_time: Option<DateTimeUtc>,
    pub anonymous: bool,
    pub results_visibility: i32,
    pub eligibility: i32,
    /// JSON list of person ids named by the caller (NAMED_LIST).
    pub eligible_persons: String,
    /// How many may vote, fixed when it opened (who: `poll_voters`).
    pub eligible_count: i32,
    pub quorum_percent: i32,
    pub state: i32,
    /// Salts the voter keys of anonymous ballots.
    pub salt: String,
    pub revision: i64,
    pub create_time: DateTimeUtc,
    pub update_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
