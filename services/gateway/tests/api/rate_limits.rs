//! Per-partner token buckets: one partner's burst does not slow another,
//! and the refusal says when to retry.

use cogov_proto::gateway::*;
use cogov_proto::issues::ListCategoriesRequest;
use tonic::Code;
use tonic_types::StatusExt;

use crate::both;
use crate::support::*;

both!(one_partner_burst_does_not_slow_another);

async fn one_partner_burst_does_not_slow_another(env: Env) {
    let w = World::build(&env).await;
    let mut admin = env.admin();
    let a = admin
        .get_partner(GetPartnerRequest {
            name: w.partner_a.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    admin
        .update_partner(UpdatePartnerRequest {
            partner: Some(Partner {
                name: w.partner_a.clone(),
                rate_limit_per_second: 1,
                rate_limit_burst: 5,
                etag: a.etag,
                ..Default::default()
            }),
            update_mask: mask(&["rate_limit_per_second", "rate_limit_burst"]),
        })
        .await
        .unwrap();
    let mut firm_a = env.issues(key(&w.key_a));
    let mut firm_b = env.issues(key(&w.key_b));
    let mut ok = 0;
    let mut refused = None;
    for _ in 0..20 {
        match firm_a
            .list_categories(ListCategoriesRequest::default())
            .await
        {
            Ok(_) => ok += 1,
            Err(s) => {
                refused = Some(s);
                break;
            }
        }
    }
    assert!(
        (5..=7).contains(&ok),
        "a burst of 5 (and a token or two more): {ok}"
    );
    let refused = refused.expect("the burst ran out");
    assert_eq!(refused.code(), Code::ResourceExhausted);
    let retry = refused
        .get_error_details()
        .retry_info()
        .and_then(|r| r.retry_delay)
        .expect("RetryInfo");
    assert!(retry <= std::time::Duration::from_secs(1), "{retry:?}");
    // Firm B is untouched.
    for _ in 0..20 {
        firm_b
            .list_categories(ListCategoriesRequest::default())
            .await
            .unwrap();
    }
}
