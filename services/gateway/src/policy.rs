//! The method policy: which kinds of principal may call which RPC, and
//! which RPCs change something (and so leave an audit record). Declared
//! beside each RPC in the contract (the `(cogov.common.v1.policy)` option,
//! `proto/cogov/common/v1/policy.proto`); an RPC without one does not
//! build, and an unknown path is refused to everyone.
//!
//! The rows grant coarsely; the services check every object against the
//! caller's reach (defence in depth). Partners get the reads of what their
//! agreements reach and the writes of the work they do there: reporting and
//! resolving issues, running the activities they organise, proposing
//! topics and reporting progress on their action items, and their own
//! webhook endpoints. Administration of the street, its councils and the
//! gateway stays with staff. Residents get
//! the public information of the street and what they do as themselves:
//! reporting and following their issues, signing up, their hours and
//! points, their councils' topics, discussions and polls. The sign-in
//! steps are public: they take no credential (any sent is ignored, so an
//! expired access token does not stand in the way of its renewal).

use cogov_proto::common::Audience;

/// A set of principal kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kinds(u8);

impl Kinds {
    /// Street admins.
    pub const STREET: Kinds = Kinds(1);
    /// Community admins.
    pub const COMMUNITY: Kinds = Kinds(2);
    /// Partner organisations.
    pub const PARTNER: Kinds = Kinds(4);
    /// Signed-in residents.
    pub const RESIDENT: Kinds = Kinds(8);
    /// Anyone, credentials or not (and unread): only the sign-in steps.
    pub const PUBLIC: Kinds = Kinds(16);
    /// Nobody through the gateway (internal services' own calls).
    pub const NOBODY: Kinds = Kinds(0);

    /// Whether `kind` is in the set.
    pub fn contains(self, kind: Kinds) -> bool {
        kind.0 != 0 && self.0 & kind.0 == kind.0
    }

    const fn or(self, other: Kinds) -> Kinds {
        Kinds(self.0 | other.0)
    }
}

/// What the policy says of one RPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Who may call it.
    pub kinds: Kinds,
    /// Whether it changes something (audited).
    pub mutates: bool,
}

/// The rule of a full method path (`/package.Service/Method`), if any: the
/// contract's `(cogov.common.v1.policy)` option on the RPC.
pub fn rule(path: &str) -> Option<Rule> {
    cogov_proto::method_policy(path).map(|p| Rule {
        kinds: kinds(p.audience),
        mutates: p.mutates,
    })
}

/// The principal kinds an audience admits.
fn kinds(audience: Audience) -> Kinds {
    let staff = Kinds::STREET.or(Kinds::COMMUNITY);
    match audience {
        Audience::StreetStaff => Kinds::STREET,
        Audience::Staff => staff,
        Audience::StaffAndPartners => staff.or(Kinds::PARTNER),
        Audience::Residents => Kinds::RESIDENT,
        Audience::StaffAndResidents => staff.or(Kinds::RESIDENT),
        Audience::Everyone => staff.or(Kinds::PARTNER).or(Kinds::RESIDENT),
        Audience::Public => Kinds::PUBLIC,
        Audience::Internal | Audience::Unspecified => Kinds::NOBODY,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use prost::Message;

    use super::*;

    #[test]
    fn every_rpc_declares_its_policy() {
        let fds = prost_types::FileDescriptorSet::decode(cogov_proto::FILE_DESCRIPTOR_SET)
            .expect("descriptor set");
        let methods: BTreeSet<String> = fds
            .file
            .iter()
            .filter(|f| f.package().starts_with("cogov."))
            .flat_map(|f| {
                f.service.iter().flat_map(move |s| {
                    s.method
                        .iter()
                        .map(move |m| format!("/{}.{}/{}", f.package(), s.name(), m.name()))
                })
            })
            .collect();
        let rows: Vec<&str> = cogov_proto::METHOD_POLICIES
            .iter()
            .map(|p| p.path)
            .collect();
        let mut sorted = rows.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(rows, sorted, "rows sorted, once each");
        let rows: BTreeSet<String> = rows.into_iter().map(str::to_owned).collect();
        assert_eq!(rows, methods, "one policy per RPC of the descriptor set");
        for path in &methods {
            let rule = rule(path).expect("declared");
            let internal =
                cogov_proto::method_policy(path).is_some_and(|p| p.audience == Audience::Internal);
            assert_eq!(rule.kinds == Kinds::NOBODY, internal, "{path}");
        }
    }

    #[test]
    fn partners_never_administer() {
        for p in cogov_proto::METHOD_POLICIES {
            let (path, kinds) = (p.path, kinds(p.audience));
            // A partner's own: who it is, its event stream, its webhooks.
            let admin = path.starts_with("/cogov.gateway.v1.GatewayService/")
                && !path.ends_with("/GetCaller")
                && !path.ends_with("/WatchEvents")
                && !path.contains("Webhook");
            if admin
                || path.contains("/Create")
                    && (path.contains("Street") || path.contains("Agreement"))
                || path.ends_with("/DispatchIssue")
                || path.ends_with("/CreatePoll")
            {
                assert!(!kinds.contains(Kinds::PARTNER), "{path}");
            }
        }
        assert!(rule("/cogov.issues.v1.IssuesService/ReportIssue").is_some_and(|r| r.mutates));
        assert!(rule("/cogov.issues.v1.IssuesService/GetIssue").is_some_and(|r| !r.mutates));
        assert!(rule("/cogov.issues.v1.IssuesService/Nope").is_none());
        // Reads are the Get, List and the few named queries; anything else
        // changes something and is audited.
        const QUERIES: [&str; 7] = [
            "CheckCouncilComposition",
            "CheckQuorum",
            "ComputeIssueStatistics",
            "ComputeVolunteerHours",
            "FindSimilarIssues",
            "MatchVolunteers",
            "ResolveReach",
        ];
        for p in cogov_proto::METHOD_POLICIES {
            let (path, mutates) = (p.path, &p.mutates);
            let method = path.rsplit('/').next().unwrap();
            let read = method.starts_with("Get")
                || method.starts_with("List")
                || method.starts_with("Watch")
                || QUERIES.contains(&method);
            assert_eq!(*mutates, !read, "{path}");
        }
    }
}
