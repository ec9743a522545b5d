//! The principal reaches the services signed by the gateway, and only so:
//! services refuse unsigned or forged principals, and a caller cannot
//! smuggle principal metadata through the gateway.

use cogov_kit::auth::{Authenticator, Principal};
use cogov_kit::testing::SignedAs;
use cogov_proto::issues::issues_service_client::IssuesServiceClient;
use cogov_proto::issues::*;
use tonic::Code;
use tonic::service::Interceptor;

use crate::both;
use crate::support::*;

both!(principals_cannot_be_forged);

/// A key plus forged principal headers, as a dishonest partner would send.
#[derive(Clone)]
struct Smuggler {
    key: String,
    forged: SignedAs,
}

impl Interceptor for Smuggler {
    fn call(&mut self, request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let mut request = self.forged.call(request)?;
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {}", self.key).parse().unwrap(),
        );
        Ok(request)
    }
}

async fn principals_cannot_be_forged(env: Env) {
    let w = World::build(&env).await;
    let street_admin = Principal::StreetAdmin {
        subject: "mallory".into(),
    };
    // Straight to the service: no principal, or one signed with another
    // secret, is refused.
    let direct =
        |signer: SignedAs| IssuesServiceClient::with_interceptor(env.issues_direct(), signer);
    let forger = Authenticator::new(b"not the internal secret", None, env.clock.clone());
    assert_status(
        direct(SignedAs::new(forger.clone(), None))
            .list_issues(ListIssuesRequest::default())
            .await,
        Code::Unauthenticated,
        "PRINCIPAL_MISSING",
    );
    assert_status(
        direct(SignedAs::new(forger.clone(), Some(street_admin.clone())))
            .list_issues(ListIssuesRequest::default())
            .await,
        Code::Unauthenticated,
        "PRINCIPAL_INVALID",
    );

    // Through the gateway with a key and a forged street-admin assertion:
    // the gateway drops the caller's principal metadata and signs its own.
    let mut smuggler = IssuesServiceClient::with_interceptor(
        env.gateway.channel.clone(),
        Smuggler {
            key: w.key_a.clone(),
            forged: SignedAs::new(forger, Some(street_admin)),
        },
    );
    assert_status(
        smuggler
            .report_issue(ReportIssueRequest {
                issue: Some(Issue {
                    courtyard: w.b1.clone(),
                    sub_item: "subItems/clutter_piling".into(),
                    title: "out of my reach".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );
    // Nor does the caller's `authorization` travel on: the service sees the
    // partner, not a bearer.
    assert!(
        smuggler
            .list_issues(ListIssuesRequest::default())
            .await
            .is_ok()
    );
}
