//! The 1+4+N check and the composite quorum, as pure functions of the seats
//! in force and the people present.

use std::collections::{BTreeMap, BTreeSet};

use cogov_proto::deliberation::SeatKind;
use uuid::Uuid;

/// The "4": kinds of which a council needs at least one seat.
pub const CORE_KINDS: [SeatKind; 4] = [
    SeatKind::BuildingHead,
    SeatKind::DoubleReportMember,
    SeatKind::Backbone,
    SeatKind::PropertyManager,
];

/// A seat kind's short name, e.g. `BUILDING_HEAD`.
pub fn kind_name(kind: SeatKind) -> &'static str {
    kind.as_str_name()
        .strip_prefix("SEAT_KIND_")
        .unwrap_or("UNSPECIFIED")
}

/// Whether a seat of `kind` votes.
pub fn votes(kind: SeatKind) -> bool {
    kind != SeatKind::ExpertAdviser
}

/// What the composition check found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Composition {
    /// One secretary and every core kind filled.
    pub satisfied: bool,
    /// Seats in force by kind name.
    pub counts: BTreeMap<String, i32>,
    /// Core kinds with no seat, in `CORE_KINDS` order.
    pub missing: Vec<SeatKind>,
    /// What is wrong, in words.
    pub problems: Vec<String>,
}

/// Checks the kinds of the seats in force against 1+4+N.
pub fn check(kinds: &[SeatKind]) -> Composition {
    let mut counts = BTreeMap::new();
    for k in kinds {
        *counts.entry(kind_name(*k).to_owned()).or_insert(0) += 1;
    }
    let count = |k: SeatKind| counts.get(kind_name(k)).copied().unwrap_or(0);
    let mut problems = Vec::new();
    let secretaries = count(SeatKind::Secretary);
    if secretaries != 1 {
        problems.push(format!("{secretaries} secretaries; exactly 1 required"));
    }
    let missing: Vec<SeatKind> = CORE_KINDS.into_iter().filter(|k| count(*k) == 0).collect();
    for k in &missing {
        problems.push(format!("no {} seat; at least 1 required", kind_name(*k)));
    }
    Composition {
        satisfied: problems.is_empty(),
        counts,
        missing,
        problems,
    }
}

/// Someone signed in at a meeting.
#[derive(Debug, Clone)]
pub struct Present {
    /// The person.
    pub person: Uuid,
    /// Holds a voting seat.
    pub voting: bool,
    /// The seat kinds they hold.
    pub kinds: Vec<SeatKind>,
}

/// Whether a meeting has its quorum.
#[derive(Debug, Clone, PartialEq)]
pub struct Quorum {
    /// Share reached and every required kind present.
    pub met: bool,
    /// Distinct voting members present.
    pub voting_present: i32,
    /// Required kinds with nobody present.
    pub missing: Vec<SeatKind>,
}

/// The composite quorum: `share` of the `voting_total` voting members
/// present, and someone of each `required` kind. A council without voting
/// members has no quorum unless the share is 0.
pub fn quorum(voting_total: i32, present: &[Present], share: f64, required: &[SeatKind]) -> Quorum {
    let voting: BTreeSet<Uuid> = present
        .iter()
        .filter(|p| p.voting)
        .map(|p| p.person)
        .collect();
    let voting_present = voting.len() as i32;
    let held: BTreeSet<SeatKind> = present
        .iter()
        .flat_map(|p| p.kinds.iter().copied())
        .collect();
    let missing: Vec<SeatKind> = required
        .iter()
        .copied()
        .filter(|k| !held.contains(k))
        .collect();
    // Compare in whole seats so that 0.5 of 6 needs exactly 3.
    let needed = (share * f64::from(voting_total) - 1e-9).ceil().max(0.0) as i32;
    let share_met = if voting_total == 0 {
        share <= 0.0
    } else {
        voting_present >= needed
    };
    Quorum {
        met: share_met && missing.is_empty(),
        voting_present,
        missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SeatKind::*;

    #[test]
    fn one_plus_four_plus_n() {
        let full = [
            Secretary,
            BuildingHead,
            DoubleReportMember,
            Backbone,
            PropertyManager,
            Volunteer,
            Volunteer,
            ExpertAdviser,
        ];
        let c = check(&full);
        assert!(c.satisfied, "{c:?}");
        assert_eq!(c.counts["VOLUNTEER"], 2);
        assert!(c.problems.is_empty());

        let c = check(&[Secretary, Secretary, BuildingHead, Backbone]);
        assert!(!c.satisfied);
        assert_eq!(c.missing, [DoubleReportMember, PropertyManager]);
        assert_eq!(
            c.problems,
            [
                "2 secretaries; exactly 1 required",
                "no DOUBLE_REPORT_MEMBER seat; at least 1 required",
                "no PROPERTY_MANAGER seat; at least 1 required",
            ]
        );

        let c = check(&[]);
        assert!(!c.satisfied);
        assert_eq!(c.missing.len(), 4);
        assert_eq!(c.problems[0], "0 secretaries; exactly 1 required");
    }

    fn present(voting: bool, kinds: &[SeatKind]) -> Present {
        Present {
            person: Uuid::now_v7(),
            voting,
            kinds: kinds.to_vec(),
        }
    }

    #[test]
    fn composite_quorum() {
        let three = [
            present(true, &[Secretary]),
            present(true, &[BuildingHead]),
            present(true, &[Volunteer]),
        ];
        // Half of 6 is 3: met.
        let q = quorum(6, &three, 0.5, &[]);
        assert!(q.met);
        assert_eq!(q.voting_present, 3);
        // Two thirds of 6 is 4: not met.
        assert!(!quorum(6, &three, 2.0 / 3.0, &[]).met);
        // The property manager must be there.
        let q = quorum(6, &three, 0.5, &[PropertyManager]);
        assert!(!q.met);
        assert_eq!(q.missing, [PropertyManager]);
        // An expert adviser and a guest do not count towards the share.
        let mut with_guests = three.to_vec();
        with_guests.push(present(false, &[ExpertAdviser]));
        with_guests.push(present(false, &[]));
        assert_eq!(quorum(6, &with_guests, 0.5, &[]).voting_present, 3);
        assert!(quorum(6, &with_guests, 0.5, &[ExpertAdviser]).met);
        // No voting members: only a zero share is met.
        assert!(!quorum(0, &[], 0.5, &[]).met);
        assert!(quorum(0, &[], 0.0, &[]).met);
    }
}
