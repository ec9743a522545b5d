//! `cogov events`: follow the events in your reach as they happen, one
//! line each (or one JSON object each with `--json`), from a cursor.

use cogov_proto::gateway::gateway_service_client::GatewayServiceClient;
use cogov_proto::gateway::*;
use cogov_sheets::export::beijing;
use cogov_sheets::export::names::Names;

use super::{Session, failed, table};

/// `cogov events`'s arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this event type, e.g. `cogov.issues.v1.IssueReported` (repeat).
    #[arg(long = "type")]
    types: Vec<String>,
    /// Resume after this cursor (printed with each event by `--json`).
    #[arg(long, default_value = "")]
    cursor: String,
    /// Stop after this many events (0: follow until interrupted).
    #[arg(long, default_value_t = 0)]
    count: usize,
}

/// Runs `cogov events`.
pub async fn run(s: &Session, args: Args) -> Result<(), String> {
    let (channel, bearer) = s.signed();
    let mut c = GatewayServiceClient::with_interceptor(channel, bearer);
    let mut stream = c
        .watch_events(WatchEventsRequest {
            event_types: args.types,
            cursor: args.cursor,
        })
        .await
        .map_err(failed("watching events"))?
        .into_inner();
    let mut names = Names::new(s.clients());
    let mut seen = 0;
    while let Some(message) = stream.message().await.map_err(failed("watching events"))? {
        let Some(event) = message.event.as_ref() else {
            continue;
        };
        if s.json() {
            s.print("cogov.gateway.v1.WatchEventsResponse", &message, || {
                table(&[])
            })?;
        } else {
            println!(
                "{}  {}  {}  {}",
                beijing(event.time),
                event.r#type,
                event.subject,
                names.of(&event.courtyard).await
            );
        }
        seen += 1;
        if args.count > 0 && seen >= args.count {
            break;
        }
    }
    Ok(())
}
