//! `rpcs!`: a service's gRPC surface as a table. Every RPC does the same
//! things — read the caller's principal, resolve what it may reach, call the
//! handler, publish the events a changing call committed — so the table
//! names only what differs: the handler and whether it needs the principal
//! too. Errors become statuses through `From<Error> for Status`, in one
//! place. Whether an RPC changes anything is not the table's to say: the
//! contract declares it (`(cogov.common.v1.policy)`, [`mutates`]).
//!
//! ```ignore
//! cogov_kit::rpcs! {
//!     impl IssuesService for Issues;
//!     scope |svc, principal| Scope::of(principal, &svc.directory).await?;
//!     scoped get_issue(GetIssueRequest) -> Issue => issues::get;
//!     authored report_issue(ReportIssueRequest) -> Issue => issues::report;
//! }
//! ```
//!
//! `scoped` handlers are called as `handler(svc, &scope, request)`;
//! `authored` handlers as `handler(svc, &scope, principal, request)`, for
//! idempotency keys and authorship.

/// Implements a tonic service trait from a table of handlers; see the module
/// documentation.
#[macro_export]
macro_rules! rpcs {
    (
        impl $service:ident for $svc_ty:ty;
        scope |$svc:ident, $principal:ident| $scope:expr;
        $( $kind:ident $method:ident($req:ty) -> $resp:ty => $handler:path; )*
    ) => {
        #[::tonic::async_trait]
        impl $service for $svc_ty {
            $(
                async fn $method(
                    &self,
                    request: ::tonic::Request<$req>,
                ) -> ::std::result::Result<::tonic::Response<$resp>, ::tonic::Status> {
                    let caller = $crate::auth::principal(&request)?;
                    let $principal = &caller;
                    let $svc = self;
                    let scope = $scope;
                    let request = request.into_inner();
                    let reply = $crate::write::scope(async {
                        ::std::result::Result::<_, ::tonic::Status>::Ok($crate::__rpc_call!(
                            $kind, $handler, $svc, &scope, $principal, request
                        ))
                    })
                    .await?;
                    static MUTATES: ::std::sync::LazyLock<bool> = ::std::sync::LazyLock::new(|| {
                        $crate::rpcs::mutates(stringify!($service), stringify!($method))
                    });
                    if *MUTATES {
                        // It may have committed events: publish them now.
                        $svc.ctx.db.outbox_committed();
                    }
                    Ok(::tonic::Response::new(reply))
                }
            )*
        }
    };
}

/// Whether a service's method may change stored state (and so append
/// events), as its contract declares; a method the contract does not know
/// is taken to change state, so its events are never held back.
pub fn mutates(service: &str, method: &str) -> bool {
    cogov_proto::method_policy_of(service, method).is_none_or(|p| p.mutates)
}

#[doc(hidden)]
#[macro_export]
macro_rules! __rpc_call {
    (scoped, $handler:path, $svc:expr, $scope:expr, $principal:expr, $req:expr) => {
        $handler($svc, $scope, $req).await?
    };
    (authored, $handler:path, $svc:expr, $scope:expr, $principal:expr, $req:expr) => {
        $handler($svc, $scope, $principal, $req).await?
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn mutability_is_the_contracts() {
        assert!(super::mutates("IssuesService", "report_issue"));
        assert!(!super::mutates("IssuesService", "get_issue"));
        // Named queries read, whatever their verb.
        assert!(!super::mutates("DeliberationService", "check_quorum"));
        assert!(!super::mutates("IssuesService", "compute_issue_statistics"));
        assert!(!super::mutates("VolunteersService", "match_volunteers"));
        assert!(super::mutates("IssuesService", "follow_issue"));
        assert!(super::mutates("NoSuchService", "get_thing"));
    }
}
