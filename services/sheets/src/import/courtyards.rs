//! Courtyard rosters, keyed by display name within the community.

use cogov_proto::organizations::*;

use super::columns::{self, Column, Layout, one_of, whole, yes_no};
use super::places::key;
use super::send::{Op, mask, request_id};
use super::{Planned, Problems, State};

/// The columns of a courtyards roster.
pub const COLUMNS: &[Column] = &[
    Column {
        key: "display_name",
        names: &["楼院", "院落", "楼院名称", "名称", "courtyard", "name"],
        required: true,
    },
    Column {
        key: "kind",
        names: &["类型", "类别", "kind", "type"],
        required: false,
    },
    Column {
        key: "household_count",
        names: &["户数", "households", "household count"],
        required: false,
    },
    Column {
        key: "address",
        names: &["地址", "address"],
        required: false,
    },
    Column {
        key: "theme",
        names: &["主题", "主题楼院", "theme"],
        required: false,
    },
    Column {
        key: "pilot",
        names: &["试点", "两无试点", "pilot"],
        required: false,
    },
];

const KINDS: &[(CourtyardKind, &[&str])] = &[
    (CourtyardKind::Estate, &["小区", "楼房", "estate"]),
    (CourtyardKind::Bungalow, &["平房", "平房院", "bungalow"]),
    (CourtyardKind::Mixed, &["混合", "mixed"]),
];

/// What one row asks for.
pub fn plan(layout: &Layout, state: &State, cells: &[String]) -> Result<Planned, Problems> {
    let get = |k| layout.get(cells, k);
    let mut problems = Problems::new();
    let display_name = get("display_name");
    if let Some(problem) = columns::display_name(display_name) {
        problems.push(("display_name", problem));
    }
    let kind = one_of(get("kind"), KINDS, Some(CourtyardKind::Estate)).unwrap_or_else(|e| {
        problems.push(("kind", e));
        CourtyardKind::Unspecified
    });
    let households = whole(get("household_count"), 0, 100_000).unwrap_or_else(|e| {
        problems.push(("household_count", e));
        0
    });
    let pilot = yes_no(get("pilot")).unwrap_or_else(|e| {
        problems.push(("pilot", e));
        false
    });
    let places = &state.places;
    let existing = places.find_courtyard(display_name).unwrap_or_else(|e| {
        problems.push(("display_name", e));
        None
    });
    if !problems.is_empty() {
        return Err(problems);
    }
    let wanted = Courtyard {
        community: places.community.name.clone(),
        display_name: display_name.to_owned(),
        kind: kind as i32,
        household_count: households,
        address: get("address").to_owned(),
        theme: get("theme").to_owned(),
        pilot,
        ..Default::default()
    };
    let natural = existing.map_or_else(|| key(display_name), |c| c.name.clone());
    let op = match existing {
        None => Some(Op::CreateCourtyard(CreateCourtyardRequest {
            courtyard: Some(wanted),
            request_id: request_id(),
        })),
        Some(c) => {
            let filled = |k| !get(k).is_empty();
            let mut paths = Vec::new();
            if filled("kind") && wanted.kind != c.kind {
                paths.push("kind");
            }
            if filled("household_count") && wanted.household_count != c.household_count {
                paths.push("household_count");
            }
            if filled("address") && wanted.address != c.address {
                paths.push("address");
            }
            if filled("theme") && wanted.theme != c.theme {
                paths.push("theme");
            }
            if filled("pilot") && wanted.pilot != c.pilot {
                paths.push("pilot");
            }
            (!paths.is_empty()).then(|| {
                Op::UpdateCourtyard(UpdateCourtyardRequest {
                    courtyard: Some(Courtyard {
                        name: c.name.clone(),
                        ..wanted
                    }),
                    update_mask: mask(paths),
                })
            })
        }
    };
    Ok(Planned { key: natural, op })
}
