//! What the contract declares a read changes nothing: every RPC whose
//! `(cogov.common.v1.policy)` says `mutates: false` is called through the
//! gateway of `cogov up` — empty, and with the name of a real demo resource
//! of every collection — as street staff, as the demo property firm and as a
//! signed-in resident, and every table of every database reads the same
//! afterwards. (The other way round — a declared write that changes
//! nothing — is each write's own tests' business.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use prost::Message;
use prost_reflect::{
    DescriptorPool, DynamicMessage, Kind, MethodDescriptor, ReflectMessage, Value,
};
use sea_orm::{ConnectionTrait, Database, Statement};

use crate::console::{Up, start_up};

/// Columns that change with every authenticated call, not with what the
/// call does: a key's last use, shown to its partner (`db`, table, column).
const BOOKKEEPING: &[(&str, &str, &str)] = &[("gateway", "api_keys", "last_use_time")];

/// Every table of every database under `dir`, as text: `db.table` → rows.
async fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "db"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "one database per role: {files:?}");
    for file in files {
        let db = Database::connect(format!("sqlite://{}?mode=ro", file.display()))
            .await
            .unwrap();
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let tables = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
            ))
            .await
            .unwrap();
        for t in tables {
            let table: String = t.try_get_by_index(0).unwrap();
            let columns = db
                .query_all_raw(Statement::from_string(
                    db.get_database_backend(),
                    format!("SELECT name FROM pragma_table_info('{table}')"),
                ))
                .await
                .unwrap();
            let row = columns
                .iter()
                .map(|c| c.try_get_by_index::<String>(0).unwrap())
                .filter(|c| !BOOKKEEPING.contains(&(stem.as_str(), table.as_str(), c.as_str())))
                .map(|c| format!("quote(\"{c}\")"))
                .collect::<Vec<_>>()
                .join(" || ',' || ");
            let rows = db
                .query_one_raw(Statement::from_string(
                    db.get_database_backend(),
                    format!(
                        "SELECT group_concat(r, char(10)) FROM \
                         (SELECT {row} AS r FROM \"{table}\" ORDER BY 1)"
                    ),
                ))
                .await
                .unwrap()
                .and_then(|r| r.try_get_by_index::<Option<String>>(0).unwrap())
                .unwrap_or_default();
            out.insert(format!("{stem}.{table}"), rows);
        }
        db.close().await.unwrap();
    }
    out
}

/// The tables that differ between two snapshots.
fn changed(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> Vec<String> {
    before
        .keys()
        .chain(after.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|t| before.get(*t) != after.get(*t))
        .cloned()
        .collect()
}

/// A snapshot once the system has settled (the demo's events relayed).
async fn settled(dir: &Path) -> BTreeMap<String, String> {
    let mut last = snapshot(dir).await;
    for _ in 0..60 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = snapshot(dir).await;
        if now == last {
            return now;
        }
        last = now;
    }
    panic!("the databases kept changing with nobody calling");
}

/// Every resource name in a message, by collection (`issues` → names).
fn harvest(message: &DynamicMessage, names: &mut BTreeMap<String, BTreeSet<String>>) {
    for (field, value) in message.fields() {
        let values: Vec<&Value> = match value {
            Value::List(items) => items.iter().collect(),
            other => vec![other],
        };
        for v in values {
            match v {
                Value::Message(inner) => harvest(inner, names),
                Value::String(s) if field.name() == "name" && s.contains('/') => {
                    let collection = s.split('/').next().unwrap().to_owned();
                    let kept = names.entry(collection).or_default();
                    if kept.len() < 2 {
                        kept.insert(s.clone());
                    }
                }
                _ => {}
            }
        }
    }
}

/// Calls `method` with `request` as `bearer`; the answer, if any.
async fn call(
    up: &Up,
    method: &MethodDescriptor,
    request: DynamicMessage,
    bearer: &str,
) -> Option<DynamicMessage> {
    let mut grpc = tonic::client::Grpc::new(up.gateway.clone());
    grpc.ready().await.unwrap();
    let mut r = tonic::Request::new(request.encode_to_vec());
    if !bearer.is_empty() {
        r.metadata_mut()
            .insert("authorization", format!("Bearer {bearer}").parse().unwrap());
    }
    let path = format!("/{}/{}", method.parent_service().full_name(), method.name());
    let path = tonic::codegen::http::uri::PathAndQuery::from_str(&path).unwrap();
    let reply = grpc.unary(r, path, Bytes).await.ok()?;
    DynamicMessage::decode(method.output(), reply.into_inner().as_slice()).ok()
}

/// Sends and receives a message's encoded bytes as they are.
#[derive(Clone, Copy, Default)]
struct Bytes;

impl tonic::codec::Codec for Bytes {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Bytes;
    type Decoder = Bytes;
    fn encoder(&mut self) -> Bytes {
        Bytes
    }
    fn decoder(&mut self) -> Bytes {
        Bytes
    }
}

impl tonic::codec::Encoder for Bytes {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        prost::bytes::BufMut::put_slice(dst, &item);
        Ok(())
    }
}

impl tonic::codec::Decoder for Bytes {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<Vec<u8>>, tonic::Status> {
        use prost::bytes::Buf;
        let mut out = vec![0; src.remaining()];
        src.copy_to_slice(&mut out);
        Ok(Some(out))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_declared_read_leaves_every_table_as_it_was() {
    let dir = std::env::temp_dir().join(format!("cogov-reads-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let up = start_up(&dir).await;
    let pool = DescriptorPool::decode(cogov_proto::FILE_DESCRIPTOR_SET).unwrap();

    // A resident signs in first: that writes, and is over before the count.
    let phone = up.residents[0].clone();
    let send = pool
        .get_service_by_name("cogov.gateway.v1.ResidentsService")
        .unwrap();
    let method = |name: &str| send.methods().find(|m| m.name() == name).unwrap();
    let mut ask = DynamicMessage::new(method("SendSignInCode").input());
    ask.set_field_by_name("phone", Value::String(phone.clone()));
    call(&up, &method("SendSignInCode"), ask, "")
        .await
        .expect("a code sent");
    let code = up
        .codes
        .lock()
        .unwrap()
        .recv_timeout(Duration::from_secs(30))
        .expect("the code in the log");
    let mut sign_in = DynamicMessage::new(method("SignIn").input());
    sign_in.set_field_by_name("phone", Value::String(phone));
    sign_in.set_field_by_name("code", Value::String(code));
    let tokens = call(&up, &method("SignIn"), sign_in, "")
        .await
        .expect("signed in");
    let resident = tokens
        .get_field_by_name("tokens")
        .and_then(|t| {
            t.as_message()?
                .get_field_by_name("access_token")
                .map(|v| v.into_owned())
        })
        .and_then(|v| v.as_str().map(str::to_owned))
        .expect("an access token");
    let callers = [
        ("street staff", up.token.clone()),
        (
            "the demo firm",
            up.firm_key.clone().expect("the demo firm's key"),
        ),
        ("a resident", resident),
    ];

    let reads: Vec<MethodDescriptor> = cogov_proto::METHOD_POLICIES
        .iter()
        .filter(|p| !p.mutates)
        .map(|p| {
            let (service, method) = p.path[1..].split_once('/').unwrap();
            let service = pool.get_service_by_name(service).unwrap();
            service.methods().find(|m| m.name() == method).unwrap()
        })
        // A stream stays open; its reads are the list's.
        .filter(|m| !m.is_server_streaming())
        .collect();
    assert!(reads.len() > 70, "{} reads", reads.len());

    // Real names of every collection, from what the lists answer staff.
    let mut names = BTreeMap::new();
    for m in reads.iter().filter(|m| m.name().starts_with("List")) {
        let mut request = DynamicMessage::new(m.input());
        if request
            .descriptor()
            .get_field_by_name("page_size")
            .is_some()
        {
            request.set_field_by_name("page_size", Value::I32(50));
        }
        if let Some(reply) = call(&up, m, request, &callers[0].1).await {
            harvest(&reply, &mut names);
        }
    }
    assert!(
        names.len() >= 15,
        "names of {} collections: {:?}",
        names.len(),
        names.keys()
    );
    let all_names: Vec<String> = names.values().flatten().cloned().collect();

    let before = settled(&dir).await;
    let mut wrote = Vec::new();
    let mut silent = Vec::new();
    for m in &reads {
        let input = m.input();
        let target = ["name", "parent"].into_iter().find(|f| {
            input
                .get_field_by_name(f)
                .is_some_and(|f| f.kind() == Kind::String)
        });
        let mut requests = vec![DynamicMessage::new(input.clone())];
        if let Some(field) = target {
            for n in &all_names {
                let mut r = DynamicMessage::new(input.clone());
                r.set_field_by_name(field, Value::String(n.clone()));
                requests.push(r);
            }
        }
        let mut answered = false;
        for (_, bearer) in &callers {
            for r in &requests {
                answered |= call(&up, m, r.clone(), bearer).await.is_some();
            }
        }
        if !answered {
            silent.push(m.name().to_owned());
        }
        let after = snapshot(&dir).await;
        let tables = changed(&before, &after);
        if !tables.is_empty() {
            wrote.push(format!("{}: {}", m.full_name(), tables.join(", ")));
        }
    }
    // A read that never answers OK was not exercised past its checks.
    eprintln!("reads never answered OK: {silent:?}");
    assert!(
        silent.len() * 5 < reads.len(),
        "{} of {} reads never answered: {silent:?}",
        silent.len(),
        reads.len()
    );
    assert!(
        wrote.is_empty(),
        "declared reads that wrote:\n{}",
        wrote.join("\n")
    );
    let _ = std::fs::remove_dir_all(&dir);
}
