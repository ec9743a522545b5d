//! Persons rosters: residents, party members, double-report members and
//! building heads, keyed by phone number within the community.

use cogov_proto::organizations::*;

use super::columns::{self, Column, Layout, yes_no};
use super::send::{Op, mask, request_id};
use super::{Planned, Problems, State};

/// The columns of a persons roster.
pub const COLUMNS: &[Column] = &[
    Column {
        key: "display_name",
        names: &["姓名", "名字", "name", "display name"],
        required: true,
    },
    Column {
        key: "phone",
        names: &[
            "手机",
            "手机号",
            "手机号码",
            "电话",
            "联系电话",
            "phone",
            "mobile",
        ],
        required: true,
    },
    Column {
        key: "courtyard",
        names: &["楼院", "院落", "小区", "courtyard"],
        required: false,
    },
    Column {
        key: "building",
        names: &["楼栋", "楼门", "楼号", "building"],
        required: false,
    },
    Column {
        key: "address",
        names: &["住址", "地址", "家庭住址", "address"],
        required: false,
    },
    Column {
        key: "party_member",
        names: &["党员", "是否党员", "party member"],
        required: false,
    },
    Column {
        key: "double_report_unit",
        names: &["双报到单位", "报到单位", "double report unit", "work unit"],
        required: false,
    },
    Column {
        key: "building_head",
        names: &["楼门长", "是否楼门长", "building head"],
        required: false,
    },
    Column {
        key: "backbone",
        names: &["骨干", "社区骨干", "backbone"],
        required: false,
    },
];

/// What one row asks for.
pub fn plan(layout: &Layout, state: &State, cells: &[String]) -> Result<Planned, Problems> {
    let get = |k| layout.get(cells, k);
    let mut problems = Problems::new();
    let display_name = get("display_name");
    if let Some(problem) = columns::display_name(display_name) {
        problems.push(("display_name", problem));
    }
    let phone = match cogov_kit::phone::normalize(get("phone")) {
        Ok(p) => p,
        Err(expected) => {
            problems.push(("phone", format!("“{}”: expected {expected}", get("phone"))));
            String::new()
        }
    };
    let places = &state.places;
    let mut courtyard = None;
    if !get("courtyard").is_empty() {
        match places.courtyard(get("courtyard")) {
            Ok(c) => courtyard = Some(c),
            Err(e) => problems.push(("courtyard", e)),
        }
    }
    let mut building = None;
    if !get("building").is_empty() {
        match courtyard {
            Some(c) => match places.building(c, get("building")) {
                Ok(b) => building = Some(b),
                Err(e) => problems.push(("building", e)),
            },
            None => problems.push(("building", "a building needs its courtyard".into())),
        }
    }
    let mut flag = |key: &'static str| match yes_no(get(key)) {
        Ok(b) => b,
        Err(e) => {
            problems.push((key, e));
            false
        }
    };
    let party_member = flag("party_member");
    let building_head = flag("building_head");
    let backbone = flag("backbone");
    let mut unit = String::new();
    if !get("double_report_unit").is_empty() {
        match places.organization(get("double_report_unit")) {
            Ok(o) => unit = o.name.clone(),
            Err(e) => problems.push(("double_report_unit", e)),
        }
    }
    let existing = state.persons.get(&phone);
    let party =
        party_member || existing.is_some_and(|p| p.party_member && get("party_member").is_empty());
    if !unit.is_empty() && !party {
        problems.push((
            "double_report_unit",
            "only a party member reports to a work unit: mark them 党员".into(),
        ));
    }
    if let Some(p) = existing.filter(|p| p.community != places.community.name) {
        problems.push((
            "phone",
            format!("this phone belongs to {} in another community", p.name),
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let wanted = Person {
        display_name: display_name.to_owned(),
        community: places.community.name.clone(),
        courtyard: courtyard.map(|c| c.name.clone()).unwrap_or_default(),
        building: building.map(|b| b.name.clone()).unwrap_or_default(),
        phone: get("phone").to_owned(),
        address: get("address").to_owned(),
        party_member,
        double_report_unit: unit,
        building_head,
        backbone,
        ..Default::default()
    };
    let op = match existing {
        None => Some(Op::CreatePerson(CreatePersonRequest {
            person: Some(wanted),
            request_id: request_id(),
        })),
        Some(p) => changes(layout, cells, p, wanted),
    };
    Ok(Planned { key: phone, op })
}

/// The update that brings `p` to `wanted`: only the columns the file has
/// and fills in (an empty cell never erases what is stored).
fn changes(layout: &Layout, cells: &[String], p: &Person, mut wanted: Person) -> Option<Op> {
    let filled = |k| !layout.get(cells, k).is_empty();
    let mut paths = Vec::new();
    if wanted.display_name != p.display_name {
        paths.push("display_name");
    }
    if filled("courtyard") && wanted.courtyard != p.courtyard {
        paths.push("courtyard");
    }
    if filled("building") && wanted.building != p.building {
        paths.push("building");
    }
    if filled("address") && wanted.address != p.address {
        paths.push("address");
    }
    let flags = [
        ("party_member", wanted.party_member, p.party_member),
        ("building_head", wanted.building_head, p.building_head),
        ("backbone", wanted.backbone, p.backbone),
    ];
    for (key, new, old) in flags {
        if filled(key) && new != old {
            paths.push(key);
        }
    }
    if filled("double_report_unit") && wanted.double_report_unit != p.double_report_unit {
        paths.push("double_report_unit");
    }
    if paths.is_empty() {
        return None;
    }
    wanted.name = p.name.clone();
    Some(Op::UpdatePerson(UpdatePersonRequest {
        person: Some(wanted),
        update_mask: mask(paths),
    }))
}
