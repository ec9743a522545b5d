//! `cogov audit`: the audit log, newest first (street admins).

use cogov_proto::common::principal::Kind;
use cogov_proto::gateway::gateway_service_client::GatewayServiceClient;
use cogov_proto::gateway::*;
use cogov_sheets::export::beijing;

use super::{Paging, Session, list, table};

/// `cogov audit`'s arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// AIP-160 filter on `method`, `target`, `principal`, e.g.
    /// `method = "/cogov.issues.v1.IssuesService/DispatchIssue"`.
    #[arg(long, default_value = "")]
    filter: String,
    #[command(flatten)]
    paging: Paging,
}

/// Who acted, in words.
pub fn who(p: Option<&cogov_proto::common::Principal>) -> String {
    match p.and_then(|p| p.kind.as_ref()) {
        Some(Kind::Staff(s)) if !s.display_name.is_empty() => s.display_name.clone(),
        Some(Kind::Staff(s)) => s.subject.clone(),
        Some(Kind::Partner(p)) => format!("{} ({})", p.organization, p.key),
        Some(Kind::Resident(r)) => r.person.clone(),
        Some(Kind::Service(s)) => s.service.clone(),
        None => String::new(),
    }
}

/// Runs `cogov audit`.
pub async fn run(s: &Session, args: Args) -> Result<(), String> {
    let (channel, bearer) = s.signed();
    let c = GatewayServiceClient::with_interceptor(channel, bearer);
    let request = ListAuditRecordsRequest {
        filter: args.filter,
        ..Default::default()
    };
    let out = list!(
        c,
        list_audit_records,
        request,
        audit_records,
        args.paging,
        "reading the audit log"
    );
    s.print("cogov.gateway.v1.ListAuditRecordsResponse", &out, || {
        let mut t = table(&["TIME", "WHO", "METHOD", "TARGET", "CODE"]);
        for r in &out.audit_records {
            t.add_row(vec![
                beijing(r.time),
                who(r.principal.as_ref()),
                r.method.rsplit('/').next().unwrap_or(&r.method).to_owned(),
                r.target.clone(),
                format!("{:?}", tonic::Code::from(r.code)),
            ]);
        }
        t
    })
}
