//! Building rosters, keyed by courtyard and display name.

use cogov_proto::organizations::*;

use super::columns::{self, Column, Layout, whole};
use super::places::key;
use super::send::{Op, mask, request_id};
use super::{Planned, Problems, State};

/// The columns of a buildings roster.
pub const COLUMNS: &[Column] = &[
    Column {
        key: "courtyard",
        names: &["楼院", "院落", "小区", "courtyard"],
        required: true,
    },
    Column {
        key: "display_name",
        names: &["楼栋", "楼门", "楼号", "名称", "building", "name"],
        required: true,
    },
    Column {
        key: "floor_count",
        names: &["层数", "楼层", "floors", "floor count"],
        required: false,
    },
    Column {
        key: "household_count",
        names: &["户数", "households", "household count"],
        required: false,
    },
];

/// What one row asks for.
pub fn plan(layout: &Layout, state: &State, cells: &[String]) -> Result<Planned, Problems> {
    let get = |k| layout.get(cells, k);
    let mut problems = Problems::new();
    let places = &state.places;
    let courtyard = places
        .courtyard(get("courtyard"))
        .map_err(|e| problems.push(("courtyard", e)))
        .ok();
    let display_name = get("display_name");
    if let Some(problem) = columns::display_name(display_name) {
        problems.push(("display_name", problem));
    }
    let floors = whole(get("floor_count"), 0, 200).unwrap_or_else(|e| {
        problems.push(("floor_count", e));
        0
    });
    let households = whole(get("household_count"), 0, 10_000).unwrap_or_else(|e| {
        problems.push(("household_count", e));
        0
    });
    let existing = courtyard.and_then(|c| {
        places.find_building(c, display_name).unwrap_or_else(|e| {
            problems.push(("display_name", e));
            None
        })
    });
    let Some(courtyard) = courtyard.filter(|_| problems.is_empty()) else {
        return Err(problems);
    };
    let wanted = Building {
        courtyard: courtyard.name.clone(),
        display_name: display_name.to_owned(),
        floor_count: floors,
        household_count: households,
        ..Default::default()
    };
    let natural = existing.map_or_else(|| key(display_name), |b| b.name.clone());
    let op = match existing {
        None => Some(Op::CreateBuilding(CreateBuildingRequest {
            building: Some(wanted),
            request_id: request_id(),
        })),
        Some(b) => {
            let filled = |k| !get(k).is_empty();
            let mut paths = Vec::new();
            if filled("floor_count") && wanted.floor_count != b.floor_count {
                paths.push("floor_count");
            }
            if filled("household_count") && wanted.household_count != b.household_count {
                paths.push("household_count");
            }
            (!paths.is_empty()).then(|| {
                Op::UpdateBuilding(UpdateBuildingRequest {
                    building: Some(Building {
                        name: b.name.clone(),
                        ..wanted
                    }),
                    update_mask: mask(paths),
                })
            })
        }
    };
    Ok(Planned {
        key: format!("{}/{natural}", courtyard.name),
        op,
    })
}
