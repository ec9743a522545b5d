//! The one error type of every service, and its single mapping to
//! `tonic::Status` with google.rpc details (AIP-193).
//!
//! Every error carries an `ErrorInfo` whose `reason` is a value of the
//! contract's `cogov.common.v1.ErrorReason` (the one catalog, listed in the
//! README), stable for clients to switch on; the message is for people and
//! may change.

use std::collections::HashMap;
use std::time::Duration;

pub use cogov_proto::common::ErrorReason;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, PreconditionViolation, StatusExt};

/// The `ErrorInfo.domain` of every cogov error.
pub const ERROR_DOMAIN: &str = "cogov.dev";

/// One bad field of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Path of the field in the request, e.g. `courtyard.display_name`.
    pub field: String,
    /// What is wrong, for people.
    pub description: String,
}

/// One failed precondition, e.g. an illegal state transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Precondition {
    /// The kind of precondition, e.g. `STATE` or `HAS_CHILDREN`.
    pub kind: String,
    /// What it is about, e.g. `issues/018f…`.
    pub subject: String,
    /// What failed, for people.
    pub description: String,
}

/// Everything a cogov handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is malformed; nothing was changed.
    #[error("invalid request: {}", describe(.0))]
    InvalidArgument(Vec<Violation>),

    /// The page token is forged, corrupted or belongs to another query.
    #[error("invalid page token: {0}")]
    InvalidPageToken(&'static str),

    /// An idempotency key was reused with a different request.
    #[error("request_id {0} was already used for a different request")]
    RequestIdReused(String),

    /// The named resource does not exist.
    #[error("{resource_type} {name} not found")]
    NotFound {
        resource_type: &'static str,
        name: String,
    },

    /// A resource with the same identity exists.
    #[error("{resource_type} {name} already exists")]
    AlreadyExists {
        resource_type: &'static str,
        name: String,
    },

    /// The resource is not in a state that allows the operation.
    #[error("{message}")]
    FailedPrecondition {
        reason: ErrorReason,
        message: String,
        violations: Vec<Precondition>,
    },

    /// The caller's etag is stale, or a concurrent writer won.
    #[error("{name} was changed by someone else (etag mismatch); read it again and retry")]
    EtagMismatch { name: String },

    /// The caller is authenticated but may not do this.
    #[error("{message}")]
    PermissionDenied {
        reason: ErrorReason,
        message: String,
    },

    /// The caller could not be authenticated.
    #[error("{message}")]
    Unauthenticated {
        reason: ErrorReason,
        message: String,
    },

    /// Too many requests; retry after the delay.
    #[error("rate limit exceeded; retry after {retry_after:?}")]
    ResourceExhausted { retry_after: Duration },

    /// A dependency (the database) is unavailable; retrying may help.
    #[error("unavailable: {0}")]
    Unavailable(String),

    /// The write met a concurrent one in a way the database resolved by
    /// undoing it (a deadlock, a serialization failure): nothing changed,
    /// and the caller may retry, with the same request_id.
    #[error("conflict: {0}")]
    Conflict(String),

    /// A bug or an unexpected failure. Details are logged, not returned.
    #[error("internal error: {0}")]
    Internal(String),
}

fn describe(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    /// A request with one bad field.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        Error::InvalidArgument(vec![Violation {
            field: field.into(),
            description: description.into(),
        }])
    }

    /// An illegal step in a state machine.
    pub fn illegal_transition(subject: impl Into<String>, from: &str, action: &str) -> Self {
        let subject = subject.into();
        Error::FailedPrecondition {
            reason: ErrorReason::IllegalStateTransition,
            message: format!("{subject} is {from}; it cannot be {action}"),
            violations: vec![Precondition {
                kind: "STATE".into(),
                subject,
                description: format!("current state {from} does not allow {action}"),
            }],
        }
    }

    /// A precondition other than state, with its own reason.
    pub fn precondition(
        reason: ErrorReason,
        kind: &str,
        subject: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        let subject = subject.into();
        let description = description.into();
        Error::FailedPrecondition {
            reason,
            message: format!("{subject}: {description}"),
            violations: vec![Precondition {
                kind: kind.into(),
                subject,
                description,
            }],
        }
    }

    /// The caller may not see or touch `name`.
    pub fn out_of_reach(name: impl std::fmt::Display) -> Self {
        Error::PermissionDenied {
            reason: ErrorReason::OutOfReach,
            message: format!("{name} is not in the caller's reach, or does not exist"),
        }
    }

    /// The caller's kind may not call this at all.
    pub fn forbidden(what: impl std::fmt::Display) -> Self {
        Error::PermissionDenied {
            reason: ErrorReason::Forbidden,
            message: format!("the caller may not {what}"),
        }
    }

    /// The stable reason of this error.
    pub fn reason(&self) -> &'static str {
        self.reason_code().as_str_name()
    }

    /// The stable reason of this error, as the catalog's value.
    pub fn reason_code(&self) -> ErrorReason {
        match self {
            Error::InvalidArgument(_) => ErrorReason::InvalidField,
            Error::InvalidPageToken(_) => ErrorReason::InvalidPageToken,
            Error::RequestIdReused(_) => ErrorReason::RequestIdReused,
            Error::NotFound { .. } => ErrorReason::ResourceNotFound,
            Error::AlreadyExists { .. } => ErrorReason::ResourceAlreadyExists,
            Error::FailedPrecondition { reason, .. } => *reason,
            Error::EtagMismatch { .. } => ErrorReason::EtagMismatch,
            Error::PermissionDenied { reason, .. } => *reason,
            Error::Unauthenticated { reason, .. } => *reason,
            Error::ResourceExhausted { .. } => ErrorReason::RateLimited,
            Error::Unavailable(_) => ErrorReason::BackendUnavailable,
            Error::Conflict(_) => ErrorReason::WriteConflict,
            Error::Internal(_) => ErrorReason::Internal,
        }
    }

    /// The gRPC code this error maps to.
    pub fn code(&self) -> Code {
        match self {
            Error::InvalidArgument(_) | Error::InvalidPageToken(_) | Error::RequestIdReused(_) => {
                Code::InvalidArgument
            }
            Error::NotFound { .. } => Code::NotFound,
            Error::AlreadyExists { .. } => Code::AlreadyExists,
            Error::FailedPrecondition { .. } => Code::FailedPrecondition,
            Error::EtagMismatch { .. } | Error::Conflict(_) => Code::Aborted,
            Error::PermissionDenied { .. } => Code::PermissionDenied,
            Error::Unauthenticated { .. } => Code::Unauthenticated,
            Error::ResourceExhausted { .. } => Code::ResourceExhausted,
            Error::Unavailable(_) => Code::Unavailable,
            Error::Internal(_) => Code::Internal,
        }
    }
}

impl From<Error> for Status {
    fn from(err: Error) -> Status {
        let code = err.code();
        let mut details = ErrorDetails::new();
        let mut metadata = HashMap::new();
        match &err {
            Error::InvalidArgument(violations) => {
                details.set_bad_request(
                    violations
                        .iter()
                        .map(|v| FieldViolation::new(&v.field, &v.description))
                        .collect::<Vec<_>>(),
                );
            }
            Error::InvalidPageToken(why) => {
                details.add_bad_request_violation("page_token", *why);
            }
            Error::RequestIdReused(id) => {
                details.add_bad_request_violation(
                    "request_id",
                    "already used for a different request; use a new request_id",
                );
                metadata.insert("request_id".to_owned(), id.clone());
            }
            Error::NotFound {
                resource_type,
                name,
            } => {
                details.set_resource_info(*resource_type, name, "", "not found");
            }
            Error::AlreadyExists {
                resource_type,
                name,
            } => {
                details.set_resource_info(*resource_type, name, "", "already exists");
            }
            Error::FailedPrecondition { violations, .. } => {
                details.set_precondition_failure(
                    violations
                        .iter()
                        .map(|v| PreconditionViolation::new(&v.kind, &v.subject, &v.description))
                        .collect::<Vec<_>>(),
                );
            }
            Error::EtagMismatch { name } => {
                details.set_resource_info("", name, "", "etag mismatch");
            }
            Error::ResourceExhausted { retry_after } => {
                details.set_retry_info(Some(*retry_after));
            }
            Error::Internal(cause) => {
                // The cause may hold SQL or paths: log it, never return it.
                tracing::error!(error = %cause, "internal error");
            }
            Error::Unavailable(cause) => {
                tracing::warn!(error = %cause, "backend unavailable");
                details.set_retry_info(Some(Duration::from_secs(1)));
            }
            Error::Conflict(cause) => {
                tracing::warn!(error = %cause, "write undone in a conflict");
                details.set_retry_info(Some(Duration::from_millis(50)));
            }
            Error::PermissionDenied { .. } | Error::Unauthenticated { .. } => {}
        }
        details.set_error_info(err.reason(), ERROR_DOMAIN, metadata);
        let message = match &err {
            Error::Internal(_) => "internal error".to_owned(),
            Error::Unavailable(_) => "a backend is unavailable; retry later".to_owned(),
            Error::Conflict(_) => "the write met a concurrent one and was undone; retry".to_owned(),
            other => other.to_string(),
        };
        Status::with_error_details(code, message, details)
    }
}

impl From<sea_orm::DbErr> for Error {
    fn from(err: sea_orm::DbErr) -> Self {
        use sea_orm::sqlx::Error as Sqlx;
        use sea_orm::{DbErr, RuntimeErr};
        // The database went away (restart, failover, network): the caller
        // may retry, with the same request_id.
        let lost = |e: &Sqlx| {
            matches!(
                e,
                Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed
            )
        };
        // PostgreSQL undid the transaction to end a conflict with another
        // (class 40: serialization_failure, deadlock_detected): whole
        // again, it may succeed.
        let undone = |e: &Sqlx| {
            e.as_database_error()
                .and_then(|d| d.code())
                .is_some_and(|code| matches!(&*code, "40001" | "40P01"))
        };
        match &err {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(RuntimeErr::SqlxError(_)) => {
                Error::Unavailable(err.to_string())
            }
            DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))
                if lost(e) =>
            {
                Error::Unavailable(err.to_string())
            }
            DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))
                if undone(e) =>
            {
                Error::Conflict(err.to_string())
            }
            _ => Error::Internal(err.to_string()),
        }
    }
}

impl<E: Into<Error>> From<sea_orm::TransactionError<E>> for Error
where
    E: std::error::Error,
{
    fn from(err: sea_orm::TransactionError<E>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(e) => e.into(),
        }
    }
}

/// A handler's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    /// The README lists every reason of the catalog, for client authors.
    #[test]
    fn the_readme_lists_every_reason() {
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
                .expect("README.md at the repository root");
        let listed = |name: &str| readme.contains(&format!("| `{name}` |"));
        let mut count = 0;
        for value in 1.. {
            let Ok(reason) = super::ErrorReason::try_from(value) else {
                break;
            };
            assert!(
                listed(reason.as_str_name()),
                "README lacks `{}`",
                reason.as_str_name()
            );
            count += 1;
        }
        assert!(count > 80, "{count} reasons");
    }

    use super::*;

    #[test]
    fn a_lost_database_is_unavailable_not_internal() {
        use sea_orm::sqlx::Error as Sqlx;
        use sea_orm::{DbErr, RuntimeErr};
        let io = || Sqlx::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        for err in [
            DbErr::Exec(RuntimeErr::SqlxError(io().into())),
            DbErr::Query(RuntimeErr::SqlxError(Sqlx::PoolTimedOut.into())),
        ] {
            assert!(matches!(Error::from(err), Error::Unavailable(_)));
        }
        let constraint = DbErr::Exec(RuntimeErr::Internal("constraint".into()));
        assert!(matches!(Error::from(constraint), Error::Internal(_)));
    }

    /// What PostgreSQL says when it undoes a transaction to end a conflict.
    #[derive(Debug)]
    struct Undone(&'static str);

    impl std::fmt::Display for Undone {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "undone ({})", self.0)
        }
    }

    impl std::error::Error for Undone {}

    impl sea_orm::sqlx::error::DatabaseError for Undone {
        fn message(&self) -> &str {
            "deadlock detected"
        }
        fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
            Some(self.0.into())
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sea_orm::sqlx::error::ErrorKind {
            sea_orm::sqlx::error::ErrorKind::Other
        }
    }

    #[test]
    fn a_write_the_database_undid_is_a_conflict_to_retry() {
        use sea_orm::sqlx::Error as Sqlx;
        use sea_orm::{DbErr, RuntimeErr};
        let undone = |code| Sqlx::Database(Box::new(Undone(code)));
        for code in ["40P01", "40001"] {
            let err = Error::from(DbErr::Query(RuntimeErr::SqlxError(undone(code).into())));
            assert!(matches!(err, Error::Conflict(_)), "{code}: {err:?}");
            let status = Status::from(err);
            assert_eq!(status.code(), Code::Aborted);
            let details = status.get_error_details();
            assert_eq!(details.error_info().unwrap().reason, "WRITE_CONFLICT");
            assert!(details.retry_info().is_some());
            assert!(!status.message().contains("deadlock"));
        }
        let unique = DbErr::Exec(RuntimeErr::SqlxError(undone("23505").into()));
        assert!(matches!(Error::from(unique), Error::Internal(_)));
    }

    #[test]
    fn every_status_carries_error_info() {
        let cases = [
            Error::invalid("street.display_name", "must not be empty"),
            Error::InvalidPageToken("forged"),
            Error::RequestIdReused("x".into()),
            Error::NotFound {
                resource_type: "Street",
                name: "streets/1".into(),
            },
            Error::illegal_transition("issues/1", "CLOSED", "resolved"),
            Error::EtagMismatch {
                name: "streets/1".into(),
            },
            Error::out_of_reach("courtyards/1"),
            Error::ResourceExhausted {
                retry_after: Duration::from_millis(250),
            },
            Error::Internal("SELECT secret".into()),
        ];
        for err in cases {
            let reason = err.reason();
            let code = err.code();
            let status = Status::from(err);
            assert_eq!(status.code(), code);
            let details = status.get_error_details();
            let info = details.error_info().expect("ErrorInfo on every error");
            assert_eq!(info.reason, reason);
            assert_eq!(info.domain, ERROR_DOMAIN);
        }
    }

    #[test]
    fn field_violations_name_the_field() {
        let status = Status::from(Error::invalid("street.code", "too long"));
        let details = status.get_error_details();
        let bad = details.bad_request().expect("BadRequest");
        assert_eq!(bad.field_violations[0].field, "street.code");
    }

    #[test]
    fn internal_causes_are_not_returned() {
        let status = Status::from(Error::Internal("SELECT * FROM secrets".into()));
        assert!(!status.message().contains("SELECT"));
    }

    #[test]
    fn illegal_transitions_carry_a_precondition_failure() {
        let status = Status::from(Error::illegal_transition("issues/1", "CLOSED", "resolved"));
        let details = status.get_error_details();
        let pf = details.precondition_failure().expect("PreconditionFailure");
        assert_eq!(pf.violations[0].r#type, "STATE");
        assert_eq!(pf.violations[0].subject, "issues/1");
    }

    #[test]
    fn rate_limits_say_when_to_retry() {
        let status = Status::from(Error::ResourceExhausted {
            retry_after: Duration::from_millis(250),
        });
        let details = status.get_error_details();
        assert!(details.retry_info().and_then(|r| r.retry_delay).is_some());
    }
}
