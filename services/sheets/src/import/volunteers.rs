//! Volunteer rosters (志愿者名册): the community's persons who volunteer,
//! keyed by the person's phone, with their skills and the service team they
//! serve in.

use cogov_proto::volunteers::*;

use super::columns::{Column, Layout};
use super::places;
use super::send::{Op, VolunteerSave, mask, request_id};
use super::{Planned, Problems, State};

/// The columns of a volunteers roster.
pub const COLUMNS: &[Column] = &[
    Column {
        key: "phone",
        names: &["手机号", "手机", "电话", "phone", "mobile"],
        required: true,
    },
    Column {
        key: "display_name",
        names: &["姓名", "名字", "name", "display_name"],
        required: false,
    },
    Column {
        key: "skills",
        names: &["技能", "特长", "skills"],
        required: false,
    },
    Column {
        key: "team",
        names: &["服务队", "志愿服务队", "队伍", "team"],
        required: false,
    },
];

/// Skills as rosters write them in Chinese, with the tag each is stored as.
const SKILLS: &[(&str, &[&str])] = &[
    ("first_aid", &["急救"]),
    ("repair", &["维修", "修理"]),
    ("plumbing", &["水暖", "水管"]),
    ("electrics", &["电工", "水电"]),
    ("gardening", &["园艺", "绿化"]),
    ("cooking", &["烹饪", "厨艺", "做饭"]),
    ("painting", &["绘画", "粉刷", "书画"]),
    ("persuasion", &["劝导", "宣传"]),
    ("mediation", &["调解", "矛盾调解"]),
    ("elderly_care", &["助老", "养老护理", "为老服务"]),
];

/// The skill tags in `text` (separated by commas, 、 or spaces): a tag as
/// the service stores it, or one of the Chinese words above.
pub fn skills(text: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    let words = text
        .split(|c: char| matches!(c, ',' | '，' | '、' | ';' | '；' | '/') || c.is_whitespace())
        .filter(|w| !w.is_empty());
    for word in words {
        let tag = SKILLS
            .iter()
            .find(|(_, words)| words.contains(&word))
            .map(|(tag, _)| (*tag).to_owned())
            .unwrap_or_else(|| word.to_lowercase());
        let valid = (1..=40).contains(&tag.len())
            && tag
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            let known: Vec<&str> = SKILLS.iter().flat_map(|(_, w)| w.iter().copied()).collect();
            return Err(format!(
                "“{word}” is not a skill: write a tag of a-z, 0-9 and _ (first_aid) or one of {}",
                known.join(" ")
            ));
        }
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    if out.len() > 50 {
        return Err(format!("{} skills: at most 50", out.len()));
    }
    Ok(out)
}

/// What one row asks for.
pub fn plan(layout: &Layout, state: &State, cells: &[String]) -> Result<Planned, Problems> {
    let get = |k| layout.get(cells, k);
    let mut problems = Problems::new();
    let person = state.person_by_phone(get("phone"), &mut problems);
    if let Some(p) = person
        && !get("display_name").is_empty()
        && !places::names(&p.display_name, get("display_name"))
    {
        // The name is there to catch a mistyped phone, not to rename.
        problems.push((
            "display_name",
            format!(
                "this phone is {}'s, not {}'s",
                p.display_name,
                get("display_name")
            ),
        ));
    }
    let skills = skills(get("skills")).unwrap_or_else(|e| {
        problems.push(("skills", e));
        Vec::new()
    });
    let team = if get("team").is_empty() {
        None
    } else {
        match state.teams.get(&places::key(get("team"))) {
            Some(t) => Some(t),
            None => {
                let known: std::collections::BTreeSet<&str> = state
                    .teams
                    .values()
                    .map(|t| t.display_name.as_str())
                    .collect();
                let known: Vec<&str> = known.into_iter().collect();
                problems.push((
                    "team",
                    format!(
                        "no team “{}” in {}; teams: {}",
                        get("team"),
                        state.places.community.display_name,
                        if known.is_empty() {
                            "none".into()
                        } else {
                            known.join(", ")
                        }
                    ),
                ));
                None
            }
        }
    };
    let Some(person) = person.filter(|_| problems.is_empty()) else {
        return Err(problems);
    };
    let key = person.name.clone();
    let existing = state.volunteers.get(&person.name);
    let join = |volunteer: &str| CreateTeamMemberRequest {
        parent: team.map(|t| t.name.clone()).unwrap_or_default(),
        member: Some(TeamMember {
            volunteer: volunteer.to_owned(),
            role: TeamRole::Member as i32,
            ..Default::default()
        }),
        request_id: request_id(),
    };
    let save = match existing {
        None => VolunteerSave::Create(CreateVolunteerRequest {
            volunteer: Some(Volunteer {
                person: person.name.clone(),
                community: state.places.community.name.clone(),
                skills,
                phone: person.phone.clone(),
                ..Default::default()
            }),
            request_id: request_id(),
        }),
        // Listed skills are added to those the volunteer has: a roster
        // never takes away what a volunteer entered themselves.
        Some(v) if skills.iter().any(|s| !v.skills.contains(s)) => {
            let mut all = v.skills.clone();
            all.extend(skills.into_iter().filter(|s| !v.skills.contains(s)));
            VolunteerSave::Update(UpdateVolunteerRequest {
                volunteer: Some(Volunteer {
                    name: v.name.clone(),
                    skills: all,
                    ..Default::default()
                }),
                update_mask: mask(vec!["skills"]),
            })
        }
        Some(v) => VolunteerSave::Keep(v.name.clone()),
    };
    let joins = match (team, existing) {
        (None, _) => None,
        (Some(t), Some(v)) if state.members.contains(&(t.name.clone(), v.name.clone())) => None,
        (Some(_), Some(v)) => Some(join(&v.name)),
        // Filled in with the new volunteer's name once it is created.
        (Some(_), None) => Some(join("")),
    };
    let op = match (save, joins) {
        (VolunteerSave::Keep(_), None) => None,
        (save, join) => Some(Op::Volunteer {
            save: Box::new(save),
            join,
        }),
    };
    Ok(Planned { key, op })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skills_read_tags_and_chinese_words() {
        assert_eq!(
            skills("急救、plumbing, Cooking 急救").unwrap(),
            ["first_aid", "plumbing", "cooking"]
        );
        assert_eq!(skills("").unwrap(), Vec::<String>::new());
        let e = skills("急救、开锁").unwrap_err();
        assert!(e.contains("“开锁” is not a skill"), "{e}");
    }
}
