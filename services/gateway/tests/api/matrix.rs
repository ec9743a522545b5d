//! The door's matrix: every RPC of every public service, enumerated from
//! the descriptor set, called by every kind of principal — street admin,
//! community admins of A and of B, firms A and B, the area unit, and
//! callers with no credentials, a bad key, an expired key and a revoked
//! key, a signed-in resident, and community staff acting for that
//! resident at the service station (the resident's row, always). Each call either passes the door
//! (whatever the service then says),
//! is refused by the method policy, or is unauthenticated. The services'
//! own matrices check object-level reach behind the door.

use std::str::FromStr;

use cogov_proto::gateway::*;
use prost::Message;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(every_rpc_as_every_principal);

/// Every RPC of the cogov packages: `/package.Service/Method`.
fn every_rpc() -> Vec<String> {
    let fds = prost_types::FileDescriptorSet::decode(cogov_proto::FILE_DESCRIPTOR_SET).unwrap();
    fds.file
        .iter()
        .filter(|f| f.package().starts_with("cogov."))
        .flat_map(|f| {
            f.service.iter().flat_map(move |s| {
                s.method
                    .iter()
                    .map(move |m| format!("/{}.{}/{}", f.package(), s.name(), m.name()))
            })
        })
        .collect()
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Seen {
    /// Passed the gateway; the service answered.
    Door,
    /// Refused by the method policy.
    Deny,
    /// Not authenticated.
    Anon,
}

/// Calls `path` with an empty message as `who` (acting for a resident,
/// when one is named).
async fn call(env: &Env, path: &str, who: &Bearer, for_resident: Option<&str>) -> Seen {
    let mut grpc = tonic::client::Grpc::new(env.gateway.channel.clone());
    grpc.ready().await.unwrap();
    let mut request = tonic::Request::new(());
    if let Some(credential) = &who.0 {
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {credential}").parse().unwrap(),
        );
    }
    if let Some(person) = for_resident {
        request
            .metadata_mut()
            .insert("x-cogov-for-resident", person.parse().unwrap());
    }
    let codec = tonic_prost::ProstCodec::<(), ()>::default();
    let path = http::uri::PathAndQuery::from_str(path).unwrap();
    // The one server-streaming RPC answers with headers, then streams on.
    let outcome = if path.path().ends_with("/WatchEvents") {
        grpc.server_streaming(request, path, codec).await.map(drop)
    } else {
        grpc.unary(request, path, codec).await.map(drop)
    };
    match outcome {
        // The sign-in steps refuse bad codes, tickets and refresh tokens
        // themselves: that is their answer, past the door.
        Err(s) if s.code() == Code::Unauthenticated && answered_by_sign_in(&s) => Seen::Door,
        Err(s) if s.code() == Code::Unauthenticated => Seen::Anon,
        Err(s)
            if s.code() == Code::PermissionDenied
                && s.message().starts_with("the caller may not call /") =>
        {
            Seen::Deny
        }
        _ => Seen::Door,
    }
}

fn answered_by_sign_in(s: &tonic::Status) -> bool {
    use tonic_types::StatusExt;
    s.get_details_error_info().is_some_and(|i| {
        i.reason.starts_with("CODE_")
            || i.reason.starts_with("TICKET_")
            || i.reason.starts_with("REFRESH_TOKEN_")
    })
}

async fn every_rpc_as_every_principal(env: Env) {
    let w = World::build(&env).await;
    let mut admin = env.admin();
    let short = admin
        .create_api_key(CreateApiKeyRequest {
            parent: w.partner_a.clone(),
            api_key: Some(ApiKey {
                expire_time: Some(cogov_kit::convert::timestamp(
                    env.clock.now() + chrono::Duration::days(1),
                )),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let revoked = admin
        .create_api_key(CreateApiKeyRequest {
            parent: w.partner_a.clone(),
            api_key: None,
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    admin
        .revoke_api_key(RevokeApiKeyRequest {
            name: revoked.api_key.unwrap().name,
        })
        .await
        .unwrap();
    env.clock.advance(chrono::Duration::days(2));

    use cogov_gateway::policy::Kinds;
    let staff_a = Bearer(Some(env.token("community_admin", &w.community_a)));
    let principals: Vec<(&str, Bearer, Option<&str>, Option<Kinds>)> = vec![
        (
            "street admin",
            env.street_admin(),
            None,
            Some(Kinds::STREET),
        ),
        (
            "community admin of A",
            staff_a.clone(),
            None,
            Some(Kinds::COMMUNITY),
        ),
        (
            "community admin of B",
            Bearer(Some(env.token("community_admin", &w.community_b))),
            None,
            Some(Kinds::COMMUNITY),
        ),
        ("firm A", key(&w.key_a), None, Some(Kinds::PARTNER)),
        ("firm B", key(&w.key_b), None, Some(Kinds::PARTNER)),
        ("area unit", key(&w.key_unit), None, Some(Kinds::PARTNER)),
        (
            "resident of a1",
            env.resident(PHONE_A1).await,
            None,
            Some(Kinds::RESIDENT),
        ),
        (
            "community admin of A for the resident of a1",
            staff_a,
            Some(w.resident_a1.as_str()),
            Some(Kinds::RESIDENT),
        ),
        ("no credentials", Bearer(None), None, None),
        (
            "a bad key",
            key("cgk_0123456789abcdef0123456789abcdef_nope"),
            None,
            None,
        ),
        ("an expired key", key(&short.secret), None, None),
        ("a revoked key", key(&revoked.secret), None, None),
    ];
    // Signing out ends the resident's session: last.
    let mut rpcs = every_rpc();
    rpcs.sort_by_key(|p| p.ends_with("/SignOut"));
    assert!(rpcs.len() > 200, "{} RPCs", rpcs.len());
    let mut failures = Vec::new();
    let (mut partner_door, mut resident_door) = (0, 0);
    for path in &rpcs {
        let rule =
            cogov_gateway::policy::rule(path).unwrap_or_else(|| panic!("{path} has no policy row"));
        for (who, bearer, for_resident, kind) in &principals {
            // The sign-in steps read no credential: every caller passes.
            let want = match kind {
                _ if rule.kinds.contains(Kinds::PUBLIC) => Seen::Door,
                None => Seen::Anon,
                Some(k) if rule.kinds.contains(*k) => Seen::Door,
                Some(_) => Seen::Deny,
            };
            let got = call(&env, path, bearer, *for_resident).await;
            if got != want {
                failures.push(format!("{path} as {who}: expected {want:?}, got {got:?}"));
            }
            if *who == "firm A" && got == Seen::Door {
                partner_door += 1;
            }
            if *who == "resident of a1" && got == Seen::Door {
                resident_door += 1;
            }
        }
    }
    assert!(failures.is_empty(), "door matrix:\n{}", failures.join("\n"));
    // Partners pass on the reads of their reach and their own work, never
    // on administration.
    assert!((80..=120).contains(&partner_door), "{partner_door}");
    // Residents pass on the street's public information and what they do
    // as themselves.
    assert!((60..=90).contains(&resident_door), "{resident_door}");
    for admin_rpc in [
        "/cogov.gateway.v1.GatewayService/CreateApiKey",
        "/cogov.gateway.v1.GatewayService/ListAuditRecords",
        "/cogov.organizations.v1.OrganizationsService/CreateAgreement",
        "/cogov.issues.v1.IssuesService/DispatchIssue",
        "/cogov.deliberation.v1.DeliberationService/CreateCouncil",
    ] {
        assert_eq!(
            call(&env, admin_rpc, &key(&w.key_a), None).await,
            Seen::Deny,
            "{admin_rpc}"
        );
    }
}
