use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    /// Also the `webhook-id` (`msg_` and its simple form).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub partner_id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    /// The request body: the event in protobuf's JSON mapping.
    pub body: Vec<u8>,
    pub state: i32,
    pub attempts: i32,
    /// Failed attempts since the retry schedule last started (at the
    /// first attempt, or at a redelivery).
    pub retries: i32,
    pub response_code: i32,
    pub latency_micros: i64,
    pub last_error: String,
    pub next_attempt_time: DateTimeUtc,
    pub last_attempt_time: Option<DateTimeUtc>,
    pub create_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
