//! Streets, communities, courtyards and buildings, in one table so the
//! hierarchy is one query. Each row carries the ids of its street,
//! community and courtyard (itself included), so reach and scope filters
//! are plain column comparisons.

use sea_orm::entity::prelude::*;

/// What level of the hierarchy a place is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i16)]
pub enum PlaceKind {
    Street = 1,
    Community = 2,
    Courtyard = 3,
    Building = 4,
}

impl PlaceKind {
    /// The collection of its resource names.
    pub fn collection(self) -> &'static str {
        match self {
            PlaceKind::Street => "streets",
            PlaceKind::Community => "communities",
            PlaceKind::Courtyard => "courtyards",
            PlaceKind::Building => "buildings",
        }
    }

    /// The resource type, for errors.
    pub fn resource_type(self) -> &'static str {
        match self {
            PlaceKind::Street => "Street",
            PlaceKind::Community => "Community",
            PlaceKind::Courtyard => "Courtyard",
            PlaceKind::Building => "Building",
        }
    }

    /// The kind stored as `kind`.
    pub fn from_i16(v: i16) -> Option<PlaceKind> {
        [
            PlaceKind::Street,
            PlaceKind::Community,
            PlaceKind::Courtyard,
            PlaceKind::Building,
        ]
        .into_iter()
        .find(|k| *k as i16 == v)
    }

    /// The kind of a place name's collection.
    pub fn from_collection(c: &str) -> Option<PlaceKind> {
        [
            PlaceKind::Street,
            PlaceKind::Community,
            PlaceKind::Courtyard,
            PlaceKind::Building,
        ]
        .into_iter()
        .find(|k| k.collection() == c)
    }
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "places")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: i16,
    pub parent_id: Option<Uuid>,
    pub street_id: Option<Uuid>,
    pub community_id: Option<Uuid>,
    pub courtyard_id: Option<Uuid>,
    pub display_name: String,
    pub code: String,
    pub district: String,
    pub address: String,
    pub courtyard_kind: i32,
    pub household_count: i32,
    pub floor_count: i32,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub theme: String,
    pub pairing_community_id: Option<Uuid>,
    pub pilot: bool,
    pub two_nos_met: bool,
    pub two_nos_last_met_time: Option<DateTimeUtc>,
    pub two_nos_update_time: Option<DateTimeUtc>,
    pub revision: i64,
    pub create_time: DateTimeUtc,
    pub update_time: DateTimeUtc,
}

impl Model {
    /// The place's kind.
    pub fn place_kind(&self) -> PlaceKind {
        PlaceKind::from_i16(self.kind).expect("kind is written by this service")
    }

    /// Its resource name.
    pub fn name(&self) -> String {
        cogov_kit::names::format(self.place_kind().collection(), self.id)
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
