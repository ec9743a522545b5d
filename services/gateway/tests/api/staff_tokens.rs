//! Staff tokens at the door: pinned algorithm, issuer, audience, expiry.

use base64::Engine;
use cogov_kit::auth::Principal;
use cogov_proto::gateway::GetCallerRequest;
use cogov_proto::issues::ListIssuesRequest;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(tokens_are_checked);

async fn tokens_are_checked(env: Env) {
    let w = World::build(&env).await;
    let me = env
        .gateway_as(Bearer(Some(env.token("community_admin", &w.community_a))))
        .get_caller(GetCallerRequest {})
        .await
        .unwrap()
        .into_inner();
    let principal = Principal::from_proto(me.principal.as_ref().unwrap()).unwrap();
    assert!(matches!(principal, Principal::CommunityAdmin { .. }));
    assert_eq!(me.communities, [w.community_a.clone()]);

    let refused = async |token: String| {
        env.issues(Bearer(Some(token)))
            .list_issues(ListIssuesRequest::default())
            .await
    };
    let now = env.clock.now().timestamp();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let claims = |aud: &str, exp: i64| {
        b64.encode(format!(
            r#"{{"sub":"m","role":"street_admin","iss":"cogov","aud":"{aud}","exp":{exp},"iat":{now}}}"#
        ))
    };
    let alg_none = format!(
        "{}.{}.",
        b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
        claims(AUDIENCE, now + 600)
    );
    let status = refused(alg_none).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(
        status.message(),
        "staff token refused: it is malformed (not a signed JWT)",
        "the caller learns what was wrong, not the library's account of it"
    );
    assert_status(
        refused("not.a.token".into()).await,
        Code::Unauthenticated,
        "TOKEN_MALFORMED",
    );
    let other_audience = cogov_gateway::StaffTokens::shared_secret(
        JWT_SECRET,
        ISSUER,
        "elsewhere",
        env.clock.clone(),
    )
    .issue("m", "street_admin", "", 600)
    .unwrap();
    assert_status(
        refused(other_audience).await,
        Code::Unauthenticated,
        "TOKEN_WRONG_AUDIENCE",
    );
    let other_key =
        cogov_gateway::StaffTokens::shared_secret(b"not ours", ISSUER, AUDIENCE, env.clock.clone())
            .issue("m", "street_admin", "", 600)
            .unwrap();
    assert_status(
        refused(other_key).await,
        Code::Unauthenticated,
        "TOKEN_SIGNATURE_INVALID",
    );
    // The gateway's clock decides expiry (the token lasts an hour).
    let token = env.token("street_admin", "");
    refused(token.clone()).await.unwrap();
    env.clock.advance(chrono::Duration::hours(2));
    assert_status(refused(token).await, Code::Unauthenticated, "TOKEN_EXPIRED");
}
