//! Resource names are read one way everywhere: every RPC that takes a
//! `name` or a `parent` refuses an id that is not in the canonical form
//! (lower-case, hyphenated), top-level or nested, with INVALID_ARGUMENT
//! naming the field — never NOT_FOUND, never OK.

use std::str::FromStr;

use prost::Message;
use tonic::Code;
use tonic_types::StatusExt;

use cogov_gateway::policy::Kinds;

use crate::both;
use crate::support::*;

both!(every_name_and_parent_refuses_a_non_canonical_id);

/// Only the first field of a request: enough to send a name or a parent.
#[derive(Clone, PartialEq, prost::Message)]
struct FirstField {
    #[prost(string, tag = "1")]
    value: String,
}

/// A request whose first field is a resource, named by its first field:
/// what an Update sends.
#[derive(Clone, PartialEq, prost::Message)]
struct Wrapped {
    #[prost(message, optional, tag = "1")]
    resource: Option<FirstField>,
}

/// Every nested collection of the contract, as `(parent, child)`.
const NESTED: &[(&str, &str)] = &[
    ("activities", "signups"),
    ("councils", "seats"),
    ("courses", "completions"),
    ("issues", "updates"),
    ("meetings", "attendances"),
    ("partners", "keys"),
    ("persons", "notices"),
    ("persons", "sessions"),
    ("polls", "ballots"),
    ("polls", "offlineTallies"),
    ("resolutions", "actionItems"),
    ("teams", "members"),
    ("topics", "opinions"),
    ("volunteers", "badges"),
    ("volunteers", "pointsEntries"),
];

/// Every RPC whose request's first field is a string `name` or `parent`,
/// or a resource whose first field is its `name` (an Update): (path, field
/// path, wrapped).
fn rpcs_taking_a_name() -> Vec<(String, String, bool)> {
    let fds = prost_types::FileDescriptorSet::decode(cogov_proto::FILE_DESCRIPTOR_SET).unwrap();
    let messages: std::collections::HashMap<String, &prost_types::DescriptorProto> = fds
        .file
        .iter()
        .flat_map(|f| {
            f.message_type
                .iter()
                .map(move |m| (format!(".{}.{}", f.package(), m.name()), m))
        })
        .collect();
    let mut out = Vec::new();
    for f in fds
        .file
        .iter()
        .filter(|f| f.package().starts_with("cogov."))
    {
        for s in &f.service {
            for m in &s.method {
                use prost_types::field_descriptor_proto::Type;
                let path = format!("/{}.{}/{}", f.package(), s.name(), m.name());
                let first = |message: &str| {
                    messages[message]
                        .field
                        .iter()
                        .find(|x| x.number() == 1)
                        .cloned()
                };
                match first(m.input_type()) {
                    Some(x)
                        if x.r#type() == Type::String && matches!(x.name(), "name" | "parent") =>
                    {
                        out.push((path, x.name().to_owned(), false));
                    }
                    Some(x) if x.r#type() == Type::Message && m.name().starts_with("Update") => {
                        let inner = first(x.type_name()).expect("a resource has fields");
                        assert_eq!(inner.name(), "name", "{path}: a resource's first field");
                        out.push((path, format!("{}.name", x.name()), true));
                    }
                    _ => {}
                }
            }
        }
    }
    out
}

async fn every_name_and_parent_refuses_a_non_canonical_id(env: Env) {
    let _world = World::build(&env).await;
    let staff = env.street_admin();
    let resident = env.resident(PHONE_A1).await;
    let (p, c) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let upper = |u: uuid::Uuid| u.to_string().to_uppercase();
    let mut bad_names = Vec::new();
    for (parent, child) in NESTED {
        bad_names.push(format!("{parent}/{p}/{child}/{}", upper(c)));
        bad_names.push(format!("{parent}/{}/{child}/{c}", upper(p)));
        bad_names.push(format!("{parent}/{p}/{child}/{}", c.simple()));
        bad_names.push(format!("{parent}/{}", upper(p)));
    }
    let rpcs = rpcs_taking_a_name();
    assert!(rpcs.len() > 80, "{} RPCs take a name", rpcs.len());
    let mut failures = Vec::new();
    let updates = rpcs.iter().filter(|r| r.2).count();
    assert!(updates > 20, "{updates} Update RPCs");
    for (path, field, wrapped) in &rpcs {
        let rule = cogov_gateway::policy::rule(path).expect("every RPC has a policy row");
        let bearer = if rule.kinds.contains(Kinds::STREET) {
            &staff
        } else if rule.kinds.contains(Kinds::RESIDENT) {
            &resident
        } else {
            continue;
        };
        for bad in &bad_names {
            let status = call(&env, path, bearer, bad, *wrapped).await;
            let names_the_field = status
                .get_details_bad_request()
                .is_some_and(|b| b.field_violations.iter().any(|v| &v.field == field));
            if status.code() != Code::InvalidArgument || !names_the_field {
                failures.push(format!(
                    "{path} {field}={bad}: {:?} {}",
                    status.code(),
                    status.message()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} calls did not refuse a non-canonical id:\n{}",
        failures.len(),
        rpcs.len() * bad_names.len(),
        failures.join("\n")
    );
}

async fn call(env: &Env, path: &str, who: &Bearer, value: &str, wrapped: bool) -> tonic::Status {
    let name = FirstField {
        value: value.to_owned(),
    };
    if wrapped {
        let resource = Some(name);
        send(env, path, who, Wrapped { resource }).await
    } else {
        send(env, path, who, name).await
    }
}

async fn send<M: Message + Send + Sync + 'static>(
    env: &Env,
    path: &str,
    who: &Bearer,
    message: M,
) -> tonic::Status {
    let mut grpc = tonic::client::Grpc::new(env.gateway.channel.clone());
    grpc.ready().await.unwrap();
    let mut request = tonic::Request::new(message);
    if let Some(credential) = &who.0 {
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {credential}").parse().unwrap(),
        );
    }
    let codec = tonic_prost::ProstCodec::<M, ()>::default();
    let path = http::uri::PathAndQuery::from_str(path).unwrap();
    if path.path().ends_with("/WatchEvents") {
        return match grpc.server_streaming(request, path, codec).await {
            Ok(_) => tonic::Status::ok("streaming"),
            Err(s) => s,
        };
    }
    match grpc.unary(request, path, codec).await {
        Ok(_) => tonic::Status::ok("answered"),
        Err(s) => s,
    }
}
