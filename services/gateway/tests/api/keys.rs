//! API keys: shown once, stored hashed, expiring, revocable on the very
//! next call, rotated with an overlap; a suspended partner is refused.

use cogov_proto::gateway::*;
use cogov_proto::issues::ListIssuesRequest;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(keys_live_and_die);

async fn keys_live_and_die(env: Env) {
    let w = World::build(&env).await;
    // Staff tokens last an hour and the clock moves: a fresh one each time.
    let admin = || env.admin();
    let works = async |k: &str| {
        env.issues(key(k))
            .list_issues(ListIssuesRequest::default())
            .await
            .map(|_| ())
    };
    works(&w.key_a).await.unwrap();
    assert!(w.key_a.starts_with("cgk_"));

    // Never the secret again, not on a list and not on a retry.
    let listed = admin()
        .list_api_keys(ListApiKeysRequest {
            parent: w.partner_a.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .api_keys;
    assert_eq!(listed.len(), 1);
    assert!(w.key_a.starts_with(&listed[0].prefix));
    assert_eq!(listed[0].state, ApiKeyState::Active as i32);
    let create = CreateApiKeyRequest {
        parent: w.partner_a.clone(),
        api_key: Some(ApiKey {
            display_name: "second".into(),
            ..Default::default()
        }),
        request_id: request_id(),
    };
    let first = admin()
        .create_api_key(create.clone())
        .await
        .unwrap()
        .into_inner();
    let retry = admin().create_api_key(create).await.unwrap().into_inner();
    assert!(!first.secret.is_empty());
    assert_eq!(retry.secret, "", "shown once");
    assert_eq!(retry.api_key, first.api_key);
    works(&first.secret).await.unwrap();

    // A wrong key, a key with its secret changed, no key.
    for bad in [
        "cgk_nonsense",
        &format!("{}x", &w.key_a[..w.key_a.len() - 1]),
        "not-a-key",
    ] {
        let status = works(bad).await.unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{bad}: {status:?}");
    }
    assert_status(
        env.issues(Bearer(None))
            .list_issues(ListIssuesRequest::default())
            .await,
        Code::Unauthenticated,
        "CREDENTIALS_MISSING",
    );

    // Revoked: refused on the very next call.
    let revoked = admin()
        .revoke_api_key(RevokeApiKeyRequest {
            name: first.api_key.unwrap().name,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(revoked.state, ApiKeyState::Revoked as i32);
    assert_status(
        works(&first.secret).await,
        Code::Unauthenticated,
        "KEY_REVOKED",
    );

    // Rotated with a day's overlap: both work, then only the new one.
    let rotated = admin()
        .rotate_api_key(RotateApiKeyRequest {
            name: w.key_a_name.clone(),
            overlap: Some(prost_types::Duration {
                seconds: 86_400,
                nanos: 0,
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rotated.api_key.as_ref().unwrap().rotated_from, w.key_a_name);
    works(&w.key_a).await.unwrap();
    works(&rotated.secret).await.unwrap();
    env.clock.advance(chrono::Duration::hours(25));
    assert_status(works(&w.key_a).await, Code::Unauthenticated, "KEY_REVOKED");
    works(&rotated.secret).await.unwrap();

    // Keys expire: 90 days by default.
    env.clock.advance(chrono::Duration::days(91));
    assert_status(
        works(&rotated.secret).await,
        Code::Unauthenticated,
        "KEY_EXPIRED",
    );
    assert_bad_field(
        admin()
            .create_api_key(CreateApiKeyRequest {
                parent: w.partner_b.clone(),
                api_key: Some(ApiKey {
                    expire_time: Some(cogov_kit::convert::timestamp(
                        env.clock.now() + chrono::Duration::days(800),
                    )),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await,
        "api_key.expire_time",
    );

    // A suspended partner's keys stop; resumed, they work again.
    let b = admin()
        .get_partner(GetPartnerRequest {
            name: w.partner_b.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let fresh = admin()
        .create_api_key(CreateApiKeyRequest {
            parent: w.partner_b.clone(),
            api_key: None,
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .secret;
    works(&fresh).await.unwrap();
    let suspended = admin()
        .update_partner(UpdatePartnerRequest {
            partner: Some(Partner {
                name: w.partner_b.clone(),
                state: PartnerState::Suspended as i32,
                etag: b.etag,
                ..Default::default()
            }),
            update_mask: mask(&["state"]),
        })
        .await
        .unwrap()
        .into_inner();
    assert_status(
        works(&fresh).await,
        Code::PermissionDenied,
        "PARTNER_SUSPENDED",
    );
    admin()
        .update_partner(UpdatePartnerRequest {
            partner: Some(Partner {
                name: w.partner_b.clone(),
                state: PartnerState::Active as i32,
                etag: suspended.etag,
                ..Default::default()
            }),
            update_mask: mask(&["state"]),
        })
        .await
        .unwrap();
    works(&fresh).await.unwrap();

    // One partner per organisation, of the organisation's kind.
    assert_status(
        admin()
            .create_partner(CreatePartnerRequest {
                partner: Some(Partner {
                    organization: w.firm_a.clone(),
                    display_name: "again".into(),
                    kind: PartnerKind::PropertyFirm as i32,
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await,
        Code::AlreadyExists,
        "RESOURCE_ALREADY_EXISTS",
    );
    assert_bad_field(
        admin()
            .create_partner(CreatePartnerRequest {
                partner: Some(Partner {
                    organization: w.unit.clone(),
                    display_name: "wrong kind".into(),
                    kind: PartnerKind::PropertyFirm as i32,
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await,
        "partner.kind",
    );
}
