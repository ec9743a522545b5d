//! Residents and members. Phone and address are personal data.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "persons")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub display_name: String,
    pub community_id: Uuid,
    pub courtyard_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
    pub phone: String,
    pub address: String,
    pub party_member: bool,
    pub double_report_unit_id: Option<Uuid>,
    pub building_head: bool,
    pub backbone: bool,
    /// `phone` in E.164, or empty when it is not a mobile number: how a
    /// resident signing in is found.
    pub phone_e164: String,
    /// `PersonVerification` as a number.
    pub verification: i32,
    /// For a person who registered themselves: the privacy notice they
    /// consented to, and when.
    pub privacy_notice_version: String,
    pub consent_time: Option<DateTimeUtc>,
    pub verify_time: Option<DateTimeUtc>,
    pub forward_notices: bool,
    pub daily_digest: bool,
    pub revision: i64,
    pub create_time: DateTimeUtc,
    pub update_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
