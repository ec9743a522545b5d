//! Talent rosters (能人库): what a person can offer, keyed by the person's
//! phone and the talent's category.

use cogov_proto::organizations::*;

use super::columns::{Column, Layout, one_of, yes_no};
use super::send::{Op, mask, request_id};
use super::{Planned, Problems, State};

/// The columns of a talents roster.
pub const COLUMNS: &[Column] = &[
    Column {
        key: "phone",
        names: &["手机号", "手机", "电话", "phone", "mobile"],
        required: true,
    },
    Column {
        key: "category",
        names: &["类别", "特长类别", "category"],
        required: true,
    },
    Column {
        key: "description",
        names: &["特长", "描述", "说明", "description", "talent"],
        required: true,
    },
    Column {
        key: "available",
        names: &["可提供", "有空", "available"],
        required: false,
    },
];

const CATEGORIES: &[(TalentCategory, &[&str])] = &[
    (TalentCategory::Repair, &["维修", "repair"]),
    (TalentCategory::Cooking, &["烹饪", "厨艺", "cooking"]),
    (TalentCategory::Arts, &["书画", "手工", "arts"]),
    (TalentCategory::Health, &["医疗", "健康", "health"]),
    (TalentCategory::Legal, &["法律", "legal"]),
    (TalentCategory::Education, &["教育", "辅导", "education"]),
    (TalentCategory::Gardening, &["园艺", "gardening"]),
    (TalentCategory::Technology, &["技术", "电脑", "technology"]),
    (TalentCategory::Culture, &["文化", "文艺", "culture"]),
    (TalentCategory::Sports, &["体育", "sports"]),
];

/// What one row asks for.
pub fn plan(layout: &Layout, state: &State, cells: &[String]) -> Result<Planned, Problems> {
    let get = |k| layout.get(cells, k);
    let mut problems = Problems::new();
    let person = state.person_by_phone(get("phone"), &mut problems);
    let category = one_of(get("category"), CATEGORIES, None).unwrap_or_else(|e| {
        problems.push(("category", e));
        TalentCategory::Unspecified
    });
    let description = get("description");
    if description.is_empty() || description.chars().count() > 2000 {
        problems.push((
            "description",
            "a description of 1 to 2000 characters is required".into(),
        ));
    }
    // Listed in a roster, a talent is on offer unless the cell says no.
    let available = if get("available").is_empty() {
        true
    } else {
        yes_no(get("available")).unwrap_or_else(|e| {
            problems.push(("available", e));
            false
        })
    };
    let Some(person) = person.filter(|_| problems.is_empty()) else {
        return Err(problems);
    };
    let key = format!("{}/{}", person.name, category.as_str_name());
    let wanted = Talent {
        person: person.name.clone(),
        category: category as i32,
        description: description.to_owned(),
        available,
        ..Default::default()
    };
    let op = match state.talents.get(&key) {
        None => Some(Op::CreateTalent(CreateTalentRequest {
            talent: Some(wanted),
            request_id: request_id(),
        })),
        Some(t) => {
            let mut paths = Vec::new();
            if wanted.description != t.description {
                paths.push("description");
            }
            if !get("available").is_empty() && wanted.available != t.available {
                paths.push("available");
            }
            (!paths.is_empty()).then(|| {
                Op::UpdateTalent(UpdateTalentRequest {
                    talent: Some(Talent {
                        name: t.name.clone(),
                        ..wanted
                    }),
                    update_mask: mask(paths),
                })
            })
        }
    };
    Ok(Planned { key, op })
}
