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
    // Ids out of reach stay hidden inside filters and page tokens: firm A
    // asking for b1's issues gets none, and a page token taken from a
    // street admin's list pages only through firm A's own.
    let report = |courtyard: &str| ReportIssueRequest {
        issue: Some(Issue {
            courtyard: courtyard.into(),
            sub_item: "subItems/clutter_piling".into(),
            title: "boxes".into(),
            ..Default::default()
        }),
        request_id: String::new(),
    };
    let mut admin = env.issues(env.street_admin());
    for courtyard in [&w.b1, &w.a1, &w.b1, &w.a1, &w.b1] {
        admin.report_issue(report(courtyard)).await.unwrap();
    }
    let mut firm = env.issues(key(&w.key_a));
    let filtered = firm
        .list_issues(ListIssuesRequest {
            filter: format!("courtyard = {}", w.b1),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(filtered.issues.is_empty(), "{filtered:?}");
    let first = admin
        .list_issues(ListIssuesRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!first.next_page_token.is_empty());
    let mut token = first.next_page_token;
    let mut seen = Vec::new();
    while !token.is_empty() {
        let page = firm
            .list_issues(ListIssuesRequest {
                page_size: 1,
                page_token: token,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        seen.extend(page.issues);
        token = page.next_page_token;
    }
    assert!(!seen.is_empty());
    assert!(seen.iter().all(|i| i.courtyard == w.a1), "{seen:?}");

    // Nor does the caller's `authorization` travel on: the service sees the
    // partner, not a bearer.
    assert!(
        smuggler
            .list_issues(ListIssuesRequest::default())
            .await
            .is_ok()
    );
}
