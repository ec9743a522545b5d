//! cogov's protobuf contracts, compiled for Rust.
//!
//! Every package under `proto/` appears here as a module of the same path,
//! e.g. `cogov.issues.v1` is [`cogov::issues::v1`].

#![allow(
    clippy::large_enum_variant,
    clippy::doc_lazy_continuation,
    clippy::doc_overindented_list_items
)]

/// The encoded `FileDescriptorSet` of every contract, with imports, for
/// gRPC reflection and for tools that decode messages dynamically.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/cogov_descriptor.bin"));

/// What the contract declares of one RPC with the
/// `(cogov.common.v1.policy)` method option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodPolicy {
    /// `/cogov.issues.v1.IssuesService/GetIssue`.
    pub path: &'static str,
    /// `IssuesService`.
    pub service: &'static str,
    /// `get_issue`: the method of the service's Rust trait.
    pub method: &'static str,
    /// Who may call it through the gateway.
    pub audience: common::Audience,
    /// Whether it may change stored state.
    pub mutates: bool,
}

include!(concat!(env!("OUT_DIR"), "/method_policy.rs"));

/// The policy of a full method path (`/package.Service/Method`), if the
/// contract has such an RPC.
pub fn method_policy(path: &str) -> Option<&'static MethodPolicy> {
    METHOD_POLICIES
        .binary_search_by(|p| p.path.cmp(path))
        .ok()
        .map(|i| &METHOD_POLICIES[i])
}

/// The policy of a service's method by the names its Rust trait uses
/// (`IssuesService`, `get_issue`), for the services' own lookups.
pub fn method_policy_of(service: &str, method: &str) -> Option<&'static MethodPolicy> {
    METHOD_POLICIES
        .iter()
        .find(|p| p.service == service && p.method == method)
}

pub mod cogov {
    pub mod common {
        pub mod v1 {
            tonic::include_proto!("cogov.common.v1");
        }
    }
    pub mod organizations {
        pub mod v1 {
            tonic::include_proto!("cogov.organizations.v1");
        }
    }
    pub mod issues {
        pub mod v1 {
            tonic::include_proto!("cogov.issues.v1");
        }
    }
    pub mod volunteers {
        pub mod v1 {
            tonic::include_proto!("cogov.volunteers.v1");
        }
    }
    pub mod deliberation {
        pub mod v1 {
            tonic::include_proto!("cogov.deliberation.v1");
        }
    }
    pub mod gateway {
        pub mod v1 {
            tonic::include_proto!("cogov.gateway.v1");
        }
    }
}

pub mod google {
    pub mod api {
        tonic::include_proto!("google.api");
    }
    pub mod rpc {
        tonic::include_proto!("google.rpc");
    }
}

pub use cogov::common::v1 as common;
pub use cogov::deliberation::v1 as deliberation;
pub use cogov::gateway::v1 as gateway;
pub use cogov::issues::v1 as issues;
pub use cogov::organizations::v1 as organizations;
pub use cogov::volunteers::v1 as volunteers;
