//! Shared resources (共享资源) units open to the community: rooms, yards,
//! equipment, services, parking, keyed by owner and name.

use cogov_proto::organizations::*;

use super::columns::{self, Column, Layout, one_of, whole, yes_no};
use super::places::key;
use super::send::{Op, mask, request_id};
use super::{Planned, Problems, State};

/// The columns of a shared resources roster.
pub const COLUMNS: &[Column] = &[
    Column {
        key: "display_name",
        names: &["名称", "资源名称", "name"],
        required: true,
    },
    Column {
        key: "kind",
        names: &["类型", "类别", "kind", "type"],
        required: true,
    },
    Column {
        key: "owner",
        names: &["提供单位", "所属单位", "单位", "owner"],
        required: true,
    },
    Column {
        key: "courtyard",
        names: &["楼院", "院落", "courtyard"],
        required: false,
    },
    Column {
        key: "description",
        names: &["说明", "描述", "description"],
        required: false,
    },
    Column {
        key: "capacity",
        names: &["容纳人数", "容量", "capacity"],
        required: false,
    },
    Column {
        key: "availability",
        names: &["开放时间", "availability"],
        required: false,
    },
    Column {
        key: "open",
        names: &["开放", "可预约", "open"],
        required: false,
    },
];

const KINDS: &[(SharedResourceKind, &[&str])] = &[
    (
        SharedResourceKind::Room,
        &["场地", "活动室", "会议室", "room"],
    ),
    (SharedResourceKind::Yard, &["院落", "空地", "yard"]),
    (
        SharedResourceKind::Equipment,
        &["设备", "器材", "equipment"],
    ),
    (SharedResourceKind::Service, &["服务", "service"]),
    (SharedResourceKind::Parking, &["停车", "车位", "parking"]),
    (SharedResourceKind::Other, &["其他", "other"]),
];

/// What one row asks for.
pub fn plan(layout: &Layout, state: &State, cells: &[String]) -> Result<Planned, Problems> {
    let get = |k| layout.get(cells, k);
    let mut problems = Problems::new();
    let places = &state.places;
    let display_name = get("display_name");
    if let Some(problem) = columns::display_name(display_name) {
        problems.push(("display_name", problem));
    }
    let kind = one_of(get("kind"), KINDS, None).unwrap_or_else(|e| {
        problems.push(("kind", e));
        SharedResourceKind::Unspecified
    });
    let owner = places
        .organization(get("owner"))
        .map_err(|e| problems.push(("owner", e)))
        .ok();
    let mut courtyard = String::new();
    if !get("courtyard").is_empty() {
        match places.courtyard(get("courtyard")) {
            Ok(c) => courtyard = c.name.clone(),
            Err(e) => problems.push(("courtyard", e)),
        }
    }
    let capacity = whole(get("capacity"), 0, 100_000).unwrap_or_else(|e| {
        problems.push(("capacity", e));
        0
    });
    let open = yes_no(get("open")).unwrap_or_else(|e| {
        problems.push(("open", e));
        false
    });
    let Some(owner) = owner.filter(|_| problems.is_empty()) else {
        return Err(problems);
    };
    let natural = format!("{}/{}", owner.name, key(display_name));
    let wanted = SharedResource {
        display_name: display_name.to_owned(),
        kind: kind as i32,
        owner: owner.name.clone(),
        community: places.community.name.clone(),
        courtyard,
        description: get("description").to_owned(),
        capacity,
        availability: get("availability").to_owned(),
        open,
        ..Default::default()
    };
    let op = match state.shared_resources.get(&natural) {
        None => Some(Op::CreateSharedResource(CreateSharedResourceRequest {
            shared_resource: Some(wanted),
            request_id: request_id(),
        })),
        Some(r) => {
            let filled = |k| !get(k).is_empty();
            let mut paths = Vec::new();
            if wanted.kind != r.kind {
                paths.push("kind");
            }
            if filled("courtyard") && wanted.courtyard != r.courtyard {
                paths.push("courtyard");
            }
            if filled("description") && wanted.description != r.description {
                paths.push("description");
            }
            if filled("capacity") && wanted.capacity != r.capacity {
                paths.push("capacity");
            }
            if filled("availability") && wanted.availability != r.availability {
                paths.push("availability");
            }
            if filled("open") && wanted.open != r.open {
                paths.push("open");
            }
            (!paths.is_empty()).then(|| {
                Op::UpdateSharedResource(UpdateSharedResourceRequest {
                    shared_resource: Some(SharedResource {
                        name: r.name.clone(),
                        ..wanted
                    }),
                    update_mask: mask(paths),
                })
            })
        }
    };
    Ok(Planned { key: natural, op })
}
