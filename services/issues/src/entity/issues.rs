use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "issues")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub courtyard_id: Uuid,
    pub community_id: Uuid,
    pub building_id: Option<Uuid>,
    pub sub_item_id: String,
    pub category_id: String,
    pub title: String,
    pub description: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub address_text: String,
    /// JSON list of media.
    pub media: String,
    pub channel: i32,
    pub priority: i32,
    pub reporter_id: Option<Uuid>,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_address: String,
    pub state: i32,
    pub respond_by: DateTimeUtc,
    pub resolve_by: DateTimeUtc,
    /// When the issue falls overdue: the earlier deadline while reported,
    /// the resolve-by time while open, none once handled. Kept by
    /// [`crate::issues::due_at`] so that `overdue` is one indexed range.
    pub due_at: Option<DateTimeUtc>,
    pub acknowledge_time: Option<DateTimeUtc>,
    pub assignee_id: Option<Uuid>,
    pub dispatch_count: i32,
    pub resolution_note: String,
    /// JSON list of media.
    pub resolution_media: String,
    pub resolver_id: Option<Uuid>,
    pub resolve_time: Option<DateTimeUtc>,
    /// 0 until confirmed.
    pub satisfaction: i32,
    pub confirm_comment: String,
    pub confirmer_id: Option<Uuid>,
    pub confirm_time: Option<DateTimeUtc>,
    pub close_time: Option<DateTimeUtc>,
    pub reject_reason: i32,
    pub duplicate_of: Option<Uuid>,
    pub duplicate_count: i32,
    pub return_count: i32,
    pub reopen_count: i32,
    pub cluster_id: Option<Uuid>,
    pub escalated_to: Option<Uuid>,
    pub topic_id: Option<Uuid>,
    pub action_item: String,
    pub revision: i64,
    pub create_time: DateTimeUtc,
    pub update_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
