use sea_orm::entity::prelude::*;

/// A notice in a resident's inbox, from one `ResidentNotice` event.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "resident_notices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: Uuid,
    /// The event it came from: with the person, unique, so a redelivery
    /// adds nothing.
    pub event_id: Uuid,
    /// `NoticeKind` as a number.
    pub kind: i32,
    pub subject: String,
    pub subject_title: String,
    pub detail: String,
    pub create_time: DateTimeUtc,
    pub read_time: Option<DateTimeUtc>,
    /// Sent on to the person's phone (alone, or in a digest).
    pub forwarded: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
