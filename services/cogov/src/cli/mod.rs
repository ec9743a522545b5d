//! The `cogov` CLI for people: daily work against the gateway — issues,
//! activities, topics and votes, partner keys, webhooks. Human tables by default,
//! `--json` (protobuf's JSON mapping) for scripts. Credentials come from
//! `--key` / `COGOV_KEY` (a partner's API key) or `--token` /
//! `COGOV_TOKEN` (a staff token); with `--for-resident persons/{id}` staff
//! act for a resident at the service station (the call is the resident's,
//! and the records name both).

mod activities;
mod audit;
mod events;
mod export;
mod import;
mod inspections;
mod issues;
mod keys;
mod meetings;
mod persons;
mod reflect;
mod resolutions;
mod statistics;
mod topics;
mod volunteers;
mod webhooks;

use comfy_table::{Table, presets};
use prost_reflect::{DescriptorPool, DynamicMessage};
use tonic::service::Interceptor;
use tonic::transport::{Channel, Endpoint};

/// Where and as whom the CLI calls.
#[derive(Debug, clap::Args)]
pub struct Connection {
    /// The gateway.
    #[arg(
        long,
        global = true,
        env = "COGOV_GATEWAY",
        default_value = "http://127.0.0.1:50050"
    )]
    gateway: String,
    /// A partner's API key.
    #[arg(long, global = true, env = "COGOV_KEY", hide_env_values = true)]
    key: Option<String>,
    /// A staff token.
    #[arg(long, global = true, env = "COGOV_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Staff acting for this resident (`persons/{id}`) at the service station.
    #[arg(long, global = true, env = "COGOV_FOR_RESIDENT")]
    for_resident: Option<String>,
    /// Print protobuf JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
}

/// The CLI's commands.
#[derive(Debug, clap::Subcommand)]
pub enum Work {
    /// Report, list and work issues through every step; comments and
    /// timelines.
    #[command(subcommand)]
    Issues(issues::Command),
    /// Inspections of courtyards on the 两无 sub-items.
    #[command(subcommand)]
    Inspections(inspections::InspectionCommand),
    /// Each courtyard's two-nos standing.
    #[command(subcommand, name = "two-nos")]
    TwoNos(inspections::TwoNosCommand),
    /// The register of persons: list, look up, register, change.
    #[command(subcommand)]
    Persons(persons::PersonCommand),
    /// Organisations: list, look up, register.
    #[command(subcommand)]
    Organizations(persons::OrganizationCommand),
    /// Volunteers, teams and the hours they served.
    #[command(subcommand)]
    Volunteers(volunteers::Command),
    /// List activities and sign volunteers up.
    #[command(subcommand)]
    Activities(activities::Command),
    /// List topics and polls, and vote.
    #[command(subcommand)]
    Topics(topics::Command),
    /// Hands counted at a meeting, and a poll's result.
    #[command(subcommand)]
    Polls(resolutions::PollCommand),
    /// Council meetings: schedule, start, sign in, end.
    #[command(subcommand)]
    Meetings(meetings::Command),
    /// Resolutions and the action items that carry them out.
    #[command(subcommand)]
    Resolutions(resolutions::ResolutionCommand),
    /// Partners and their API keys: register, issue, rotate, revoke
    /// (street admins).
    #[command(subcommand)]
    Keys(keys::Command),
    /// A partner's webhook endpoints: register, test, rotate, deliveries.
    #[command(subcommand)]
    Webhooks(webhooks::Command),
    /// Issue rates and volunteer hours, as tables.
    #[command(subcommand)]
    Statistics(statistics::Command),
    /// The audit log, newest first (street admins).
    Audit(audit::Args),
    /// Follow the events in your reach as they happen.
    Events(events::Args),
    /// Import a roster (persons, courtyards, buildings, talents, shared
    /// resources) from CSV or XLSX.
    Import(import::Args),
    /// Export issues, statistics, volunteer hours or councils as CSV or XLSX.
    #[command(subcommand)]
    Export(export::Command),
}

/// Sends the credential (and the resident staff act for).
#[derive(Clone)]
pub struct Bearer {
    credential: Option<String>,
    for_resident: Option<String>,
}

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(credential) = &self.credential {
            let value = format!("Bearer {credential}")
                .parse()
                .map_err(|_| tonic::Status::invalid_argument("the credential is not ASCII"))?;
            request.metadata_mut().insert("authorization", value);
        }
        if let Some(person) = &self.for_resident {
            let value = person
                .parse()
                .map_err(|_| tonic::Status::invalid_argument("--for-resident is not ASCII"))?;
            request.metadata_mut().insert("x-cogov-for-resident", value);
        }
        Ok(request)
    }
}

/// What a command needs: a channel and the output choice.
pub struct Session {
    channel: Channel,
    bearer: Bearer,
    json: bool,
}

impl Session {
    /// The channel with the caller's credential.
    pub fn signed(&self) -> (Channel, Bearer) {
        (self.channel.clone(), self.bearer.clone())
    }

    /// The services' clients over the same channel, for spreadsheets.
    pub fn clients(&self) -> cogov_sheets::link::Clients {
        let (channel, bearer) = self.signed();
        cogov_sheets::link::Clients::new(cogov_sheets::link::link(
            tower::ServiceBuilder::new()
                .layer(tonic::service::InterceptorLayer::new(bearer))
                .service(channel),
        ))
    }

    /// Whether the output is JSON.
    pub fn json(&self) -> bool {
        self.json
    }

    /// Prints `message` (a `full_name` message) as JSON, or `table`.
    pub fn print<M: prost::Message>(
        &self,
        full_name: &str,
        message: &M,
        table: impl FnOnce() -> Table,
    ) -> Result<(), String> {
        if self.json {
            println!("{}", to_json(full_name, message)?);
        } else {
            println!("{}", table());
        }
        Ok(())
    }
}

/// Protobuf's JSON mapping of `message`.
fn to_json<M: prost::Message>(full_name: &str, message: &M) -> Result<String, String> {
    let pool =
        DescriptorPool::decode(cogov_proto::FILE_DESCRIPTOR_SET).map_err(|e| e.to_string())?;
    let descriptor = pool
        .get_message_by_name(full_name)
        .ok_or_else(|| format!("no message {full_name}"))?;
    let dynamic = DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())
        .map_err(|e| e.to_string())?;
    serde_json::to_string_pretty(&dynamic).map_err(|e| e.to_string())
}

/// A table with `header`.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(presets::NOTHING);
    t.set_header(header.iter().copied());
    t
}

/// A gRPC error, in words.
pub fn failed(what: &'static str) -> impl Fn(tonic::Status) -> String {
    move |s| format!("{what}: {:?}: {}", s.code(), s.message())
}

pub use cogov_sheets::link::retried;

/// `c.$method(request)`'s message, retried with the same request (and so
/// the same request id) while a retry may mend its failure.
macro_rules! call {
    ($c:expr, $method:ident, $request:expr) => {{
        let request = $request;
        let c = $c.clone();
        async move {
            $crate::cli::retried(|| {
                let mut c = c.clone();
                let request = request.clone();
                async move { c.$method(request).await.map(tonic::Response::into_inner) }
            })
            .await
        }
    }};
}
pub(crate) use call;

/// How much of a list to show.
#[derive(Debug, Clone, clap::Args)]
pub struct Paging {
    /// At most this many (a page).
    #[arg(long, default_value_t = 50)]
    page_size: i32,
    /// Every page, not only the first.
    #[arg(long)]
    all: bool,
}

/// `c.$method(request)` for the first page, or with `--all` every page
/// gathered into one response (its `$items` extended); `what` names the
/// list in an error.
macro_rules! list {
    ($c:expr, $method:ident, $request:expr, $items:ident, $paging:expr, $what:literal) => {{
        let paging: &$crate::cli::Paging = &$paging;
        let mut request = $request;
        request.page_size = paging.page_size;
        let mut out = $crate::cli::call!($c, $method, request.clone())
            .await
            .map_err($crate::cli::failed($what))?;
        while paging.all && !out.next_page_token.is_empty() {
            request.page_token = std::mem::take(&mut out.next_page_token);
            let page = $crate::cli::call!($c, $method, request.clone())
                .await
                .map_err($crate::cli::failed($what))?;
            out.$items.extend(page.$items);
            out.next_page_token = page.next_page_token;
        }
        out
    }};
}
pub(crate) use list;

/// [`list!`], printed as a table of `$columns` (one row for each of the
/// response's `$items`) or as JSON.
macro_rules! show_list {
    ($s:expr, $c:expr, $method:ident, $request:expr, $items:ident, $paging:expr, $what:literal, $columns:expr) => {{
        let r = $crate::cli::list!($c, $method, $request, $items, $paging, $what);
        $crate::cli::reflect::print_list($s, &r, stringify!($items), $columns).await
    }};
}
pub(crate) use show_list;

/// `text` as a value of the enum whose names start with `prefix`:
/// `not-our-duty` → `RETURN_REASON_NOT_OUR_DUTY`; `flag` names it in the
/// error.
pub fn enum_arg<T>(
    flag: &str,
    text: &str,
    prefix: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T, String> {
    parse(&format!(
        "{prefix}{}",
        text.replace('-', "_").to_uppercase()
    ))
    .ok_or_else(|| format!("{flag} {text}: see --help for the values"))
}

/// The update mask of the fields a command was given; an update with none
/// is a mistake.
pub fn mask_of(given: &[&str]) -> Result<Option<prost_types::FieldMask>, String> {
    if given.is_empty() {
        return Err("give at least one field to change".into());
    }
    Ok(Some(prost_types::FieldMask {
        paths: given.iter().map(|p| (*p).to_owned()).collect(),
    }))
}

/// A time typed on Beijing's clock: `2026-12-10 19:30`.
pub fn beijing_arg(flag: &str, text: &str) -> Result<prost_types::Timestamp, String> {
    use chrono::TimeZone;
    let local = chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M")
        .map_err(|_| format!("{flag} {text}: write YYYY-MM-DD HH:MM (Beijing time)"))?;
    let t = cogov_kit::convert::beijing()
        .from_local_datetime(&local)
        .single()
        .ok_or_else(|| format!("{flag} {text}: not a time"))?;
    Ok(cogov_kit::convert::timestamp(t.with_timezone(&chrono::Utc)))
}

/// A short state name: `ISSUE_STATE_RESOLVED` → `RESOLVED`.
pub fn short(full: &str, prefix: &str) -> String {
    full.strip_prefix(prefix).unwrap_or(full).to_owned()
}

/// Runs a command.
pub async fn run(connection: Connection, work: Work) -> Result<(), String> {
    let channel = Endpoint::from_shared(connection.gateway.clone())
        .map_err(|e| format!("gateway {}: {e}", connection.gateway))?
        .connect()
        .await
        .map_err(|e| format!("connecting to the gateway at {}: {e}", connection.gateway))?;
    let session = Session {
        channel,
        bearer: Bearer {
            credential: connection.key.or(connection.token),
            for_resident: connection.for_resident,
        },
        json: connection.json,
    };
    match work {
        Work::Issues(c) => issues::run(&session, c).await,
        Work::Inspections(c) => inspections::inspections(&session, c).await,
        Work::TwoNos(c) => inspections::two_nos(&session, c).await,
        Work::Persons(c) => persons::persons(&session, c).await,
        Work::Organizations(c) => persons::organizations(&session, c).await,
        Work::Volunteers(c) => volunteers::run(&session, c).await,
        Work::Polls(c) => resolutions::polls(&session, c).await,
        Work::Meetings(c) => meetings::run(&session, c).await,
        Work::Resolutions(c) => resolutions::resolutions(&session, c).await,
        Work::Activities(c) => activities::run(&session, c).await,
        Work::Topics(c) => topics::run(&session, c).await,
        Work::Keys(c) => keys::run(&session, c).await,
        Work::Webhooks(c) => webhooks::run(&session, c).await,
        Work::Statistics(c) => statistics::run(&session, c).await,
        Work::Audit(a) => audit::run(&session, a).await,
        Work::Events(a) => events::run(&session, a).await,
        Work::Import(a) => import::run(&session, a).await,
        Work::Export(c) => export::run(&session, c).await,
    }
}
