//! `rpcs!`: a service's gRPC surface as a table. Every RPC does the same
//! three things — read the caller's principal, resolve what it may reach,
//! call the handler — so the table names only what differs: the handler and
//! whether it needs the principal too. Errors become statuses through
//! `From<Error> for Status`, in one place.
//!
//! ```ignore
//! cogov_kit::rpcs! {
//!     impl IssuesService for Issues;
//!     scope |svc, principal| Scope::of(principal, &svc.directory).await?;
//!     read get_issue(GetIssueRequest) -> Issue => issues::get;
//!     act report_issue(ReportIssueRequest) -> Issue => issues::report;
//! }
//! ```
//!
//! `read` handlers are called as `handler(svc, &scope, request)`; `act`
//! handlers as `handler(svc, &scope, principal, request)`, for idempotency
//! keys and authorship.

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
                    let reply = $crate::__rpc_call!(
                        $kind, $handler, $svc, &scope, $principal, request.into_inner()
                    );
                    if $crate::rpcs::may_write(stringify!($method)) {
                        // It may have committed events: publish them now.
                        $svc.ctx.db.outbox_committed();
                    }
                    Ok(::tonic::Response::new(reply))
                }
            )*
        }
    };
}

/// Whether an RPC may change state (and so append events): everything but
/// AIP's reads.
pub fn may_write(method: &str) -> bool {
    const READS: [&str; 6] = [
        "get_",
        "list_",
        "batch_get_",
        "search_",
        "find_",
        "resolve_",
    ];
    !READS.iter().any(|prefix| method.starts_with(prefix))
}

#[doc(hidden)]
#[macro_export]
macro_rules! __rpc_call {
    (read, $handler:path, $svc:expr, $scope:expr, $principal:expr, $req:expr) => {
        $handler($svc, $scope, $req).await?
    };
    (act, $handler:path, $svc:expr, $scope:expr, $principal:expr, $req:expr) => {
        $handler($svc, $scope, $principal, $req).await?
    };
}
