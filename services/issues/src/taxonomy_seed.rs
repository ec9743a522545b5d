//! The default taxonomy (DOMAIN.md): 5 categories, 27 sub-items, each with
//! its service-level agreement. Seeded by a migration; staff edit it later.

/// (code, Chinese name, English name).
pub const CATEGORIES: [(&str, &str, &str); 5] = [
    ("environment", "环境卫生", "Environment"),
    ("parking_traffic", "停车交通", "Parking and traffic"),
    ("infrastructure", "基础设施", "Infrastructure"),
    ("safety", "安全隐患", "Safety"),
    ("services", "服务管理", "Services"),
];

/// A default sub-item.
#[derive(Debug, Clone, Copy)]
pub struct SubItemSeed {
    pub code: &'static str,
    pub category: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    /// Respond within this many hours.
    pub respond_hours: i32,
    /// Resolve within this many days.
    pub resolve_days: i32,
    /// Counts for the two-nos goal.
    pub two_nos: bool,
}

const fn s(
    code: &'static str,
    category: &'static str,
    zh: &'static str,
    en: &'static str,
    respond_hours: i32,
    resolve_days: i32,
    two_nos: bool,
) -> SubItemSeed {
    SubItemSeed {
        code,
        category,
        zh,
        en,
        respond_hours,
        resolve_days,
        two_nos,
    }
}

/// The 27 sub-items.
pub const SUB_ITEMS: [SubItemSeed; 27] = [
    s(
        "clutter_piling",
        "environment",
        "楼道堆物",
        "Clutter piling",
        24,
        7,
        true,
    ),
    s(
        "garbage_sorting",
        "environment",
        "垃圾分类",
        "Garbage sorting",
        24,
        3,
        false,
    ),
    s(
        "illegal_construction",
        "environment",
        "违法建设",
        "Illegal construction",
        48,
        30,
        false,
    ),
    s(
        "greening",
        "environment",
        "绿化养护",
        "Greening",
        48,
        14,
        false,
    ),
    s(
        "public_hygiene",
        "environment",
        "公共卫生",
        "Public hygiene",
        24,
        3,
        false,
    ),
    s("pests", "environment", "病媒害虫", "Pests", 24, 7, false),
    s(
        "chaotic_parking",
        "parking_traffic",
        "乱停乱放",
        "Chaotic parking",
        12,
        3,
        true,
    ),
    s(
        "ebike_parking_charging",
        "parking_traffic",
        "电动车停放充电",
        "E-bike parking and charging",
        12,
        7,
        false,
    ),
    s(
        "road_surface",
        "parking_traffic",
        "路面破损",
        "Road surface",
        48,
        30,
        false,
    ),
    s(
        "parking_spaces",
        "parking_traffic",
        "停车位",
        "Parking spaces",
        48,
        30,
        false,
    ),
    s(
        "bicycle_sheds",
        "parking_traffic",
        "自行车棚",
        "Bicycle sheds",
        48,
        14,
        false,
    ),
    s(
        "roof_leak",
        "infrastructure",
        "屋顶漏雨",
        "Roof leak",
        12,
        7,
        false,
    ),
    s(
        "water_drainage",
        "infrastructure",
        "上下水",
        "Water and drainage",
        6,
        3,
        false,
    ),
    s("heating", "infrastructure", "供暖", "Heating", 6, 2, false),
    s(
        "elevator",
        "infrastructure",
        "电梯",
        "Elevator",
        2,
        2,
        false,
    ),
    s(
        "lighting",
        "infrastructure",
        "照明",
        "Lighting",
        24,
        5,
        false,
    ),
    s(
        "facade_windows",
        "infrastructure",
        "外墙门窗",
        "Facade and windows",
        48,
        30,
        false,
    ),
    s(
        "overhead_wires",
        "infrastructure",
        "架空线",
        "Overhead wires",
        24,
        14,
        false,
    ),
    s(
        "fire_lane_blocked",
        "safety",
        "消防通道堵塞",
        "Fire lane blocked",
        2,
        1,
        false,
    ),
    s(
        "fire_hazard",
        "safety",
        "火灾隐患",
        "Fire hazard",
        2,
        2,
        false,
    ),
    s(
        "falling_objects",
        "safety",
        "高空坠物",
        "Falling objects",
        2,
        3,
        false,
    ),
    s(
        "access_control",
        "safety",
        "门禁",
        "Access control",
        24,
        7,
        false,
    ),
    s(
        "property_service",
        "services",
        "物业服务",
        "Property service",
        24,
        7,
        false,
    ),
    s(
        "elderly_care",
        "services",
        "养老助老",
        "Elderly care",
        24,
        7,
        false,
    ),
    s(
        "neighbor_dispute",
        "services",
        "邻里纠纷",
        "Neighbour dispute",
        24,
        14,
        false,
    ),
    s(
        "convenience_facilities",
        "services",
        "便民设施",
        "Convenience facilities",
        48,
        30,
        false,
    ),
    s("noise", "services", "噪声扰民", "Noise", 12, 3, false),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_categories_twenty_seven_sub_items_two_for_two_nos() {
        assert_eq!(CATEGORIES.len(), 5);
        assert_eq!(SUB_ITEMS.len(), 27);
        for item in SUB_ITEMS {
            assert!(
                CATEGORIES.iter().any(|c| c.0 == item.category),
                "{}",
                item.code
            );
        }
        let two_nos: Vec<_> = SUB_ITEMS
            .iter()
            .filter(|s| s.two_nos)
            .map(|s| s.code)
            .collect();
        assert_eq!(two_nos, ["clutter_piling", "chaotic_parking"]);
        let mut codes: Vec<_> = SUB_ITEMS.iter().map(|s| s.code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), 27);
    }
}
