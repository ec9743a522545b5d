//! Importing rosters through the public APIs, as the caller.
//!
//! A run reads the file ([`crate::read`]), matches its headers
//! ([`columns`]), loads what the rows are compared with (the community's
//! places, organisations, persons: [`State`]), plans every row (create,
//! update the filled-in cells that differ, or nothing), and unless it is a
//! dry run sends the calls a few at a time ([`send`]). A row is refused
//! with its row, column and reason, by the planner or by the service (its
//! field violations mapped back to the file's columns); the other rows go
//! on. Natural keys make a second import of the same file change nothing:
//! a person's phone, a courtyard's name in its community, a building's
//! name in its courtyard.

pub mod buildings;
pub mod columns;
pub mod courtyards;
pub mod persons;
pub mod places;
pub mod report;
pub mod send;
pub mod shared_resources;
pub mod talents;
pub mod volunteers;

use std::collections::{HashMap, HashSet};

use cogov_proto::organizations::{
    ListPersonsRequest, ListSharedResourcesRequest, ListTalentsRequest, Person, SharedResource,
    Talent, TalentCategory,
};
use cogov_proto::volunteers::{
    ListTeamMembersRequest, ListTeamsRequest, ListVolunteersRequest, Team, Volunteer,
};
use futures_util::StreamExt;
use tonic::Status;
use tonic_types::StatusExt;

use crate::link::Clients;
use crate::read::{self, Limits, ReadError, Sheet};
use columns::{Column, Layout};
use places::{Places, every};
use send::{Op, fatal};

/// What a roster holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Persons (residents, party members, building heads…).
    Persons,
    /// Courtyards of the community.
    Courtyards,
    /// Buildings of its courtyards.
    Buildings,
    /// Talents of its persons (能人库).
    Talents,
    /// Resources units share with it.
    SharedResources,
    /// Its volunteers and the teams they serve in.
    Volunteers,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 6] = [
        Kind::Persons,
        Kind::Courtyards,
        Kind::Buildings,
        Kind::Talents,
        Kind::SharedResources,
        Kind::Volunteers,
    ];

    /// Its columns.
    pub fn columns(self) -> &'static [Column] {
        match self {
            Kind::Persons => persons::COLUMNS,
            Kind::Courtyards => courtyards::COLUMNS,
            Kind::Buildings => buildings::COLUMNS,
            Kind::Talents => talents::COLUMNS,
            Kind::SharedResources => shared_resources::COLUMNS,
            Kind::Volunteers => volunteers::COLUMNS,
        }
    }

    /// `persons`, `courtyards`, `buildings`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Persons => "persons",
            Kind::Courtyards => "courtyards",
            Kind::Buildings => "buildings",
            Kind::Talents => "talents",
            Kind::SharedResources => "shared-resources",
            Kind::Volunteers => "volunteers",
        }
    }

    /// The kind called `name`.
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    fn plan(self, layout: &Layout, state: &State, cells: &[String]) -> Result<Planned, Problems> {
        match self {
            Kind::Persons => persons::plan(layout, state, cells),
            Kind::Courtyards => courtyards::plan(layout, state, cells),
            Kind::Buildings => buildings::plan(layout, state, cells),
            Kind::Talents => talents::plan(layout, state, cells),
            Kind::SharedResources => shared_resources::plan(layout, state, cells),
            Kind::Volunteers => volunteers::plan(layout, state, cells),
        }
    }
}

/// How to import.
#[derive(Debug, Clone)]
pub struct Options {
    /// The community: `communities/{id}`, its display name, or empty for the
    /// only one the caller sees.
    pub community: String,
    /// Plan and report, change nothing.
    pub dry_run: bool,
    /// Calls in flight at once.
    pub concurrency: usize,
    /// What the file may hold.
    pub limits: Limits,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            community: String::new(),
            dry_run: false,
            concurrency: 16,
            limits: Limits::default(),
        }
    }
}

/// Problems with a row: (column key, reason).
pub type Problems = Vec<(&'static str, String)>;

/// What a row asks for.
#[derive(Debug)]
pub struct Planned {
    /// Its natural key (no two rows of a file may share one).
    pub key: String,
    /// The call it needs; none when nothing changes.
    pub op: Option<Op>,
}

/// What the rows are compared with.
#[derive(Debug, Default)]
pub struct State {
    /// The community's places and the organisations in reach.
    pub places: Places,
    /// The community's persons by phone (E.164), for persons and talents.
    pub persons: HashMap<String, Person>,
    /// Its talents by `persons/{id}/CATEGORY`, for a talents roster.
    pub talents: HashMap<String, Talent>,
    /// Its shared resources by `organizations/{id}/` and [`places::key`]
    /// of the name, for a shared resources roster.
    pub shared_resources: HashMap<String, SharedResource>,
    /// Its volunteers by person (`persons/{id}`), for a volunteers roster.
    pub volunteers: HashMap<String, Volunteer>,
    /// Its teams by [`places::key`] of their display name (and of its first
    /// word).
    pub teams: HashMap<String, Team>,
    /// Team memberships: (`teams/{id}`, `volunteers/{id}`).
    pub members: HashSet<(String, String)>,
}

impl State {
    /// The community's person with the phone in `text`, or a problem with
    /// the phone column.
    pub fn person_by_phone(&self, text: &str, problems: &mut Problems) -> Option<&Person> {
        match cogov_kit::phone::normalize(text) {
            Ok(phone) => {
                let found = self.persons.get(&phone);
                if found.is_none() {
                    problems.push((
                        "phone",
                        format!(
                            "nobody in {} has this phone: import persons first",
                            self.places.community.display_name
                        ),
                    ));
                }
                found
            }
            Err(expected) => {
                problems.push(("phone", format!("“{text}”: expected {expected}")));
                None
            }
        }
    }

    async fn load(clients: &Clients, kind: Kind, community: &str) -> Result<State, Status> {
        let community = places::community(clients, community).await?;
        let persons = matches!(kind, Kind::Persons | Kind::Talents | Kind::Volunteers);
        let organizations = matches!(kind, Kind::Persons | Kind::SharedResources);
        let places = Places::load(clients, community, kind == Kind::Persons, organizations).await?;
        let filter = format!("community = \"{}\"", places.community.name);
        let mut state = State {
            places,
            ..Default::default()
        };
        if persons {
            let list = every!(clients, list_persons, ListPersonsRequest, persons, filter).await?;
            for p in list {
                if let Ok(phone) = cogov_kit::phone::normalize(&p.phone) {
                    state.persons.insert(phone, p);
                }
            }
        }
        if kind == Kind::Talents {
            let list = every!(clients, list_talents, ListTalentsRequest, talents, filter).await?;
            for t in list {
                let category = TalentCategory::try_from(t.category).unwrap_or_default();
                state
                    .talents
                    .insert(format!("{}/{}", t.person, category.as_str_name()), t);
            }
        }
        if kind == Kind::SharedResources {
            let list = every!(
                clients,
                list_shared_resources,
                ListSharedResourcesRequest,
                shared_resources,
                filter
            )
            .await?;
            for r in list {
                state
                    .shared_resources
                    .insert(format!("{}/{}", r.owner, places::key(&r.display_name)), r);
            }
        }
        if kind == Kind::Volunteers {
            state.load_volunteers(clients, &filter).await?;
        }
        Ok(state)
    }

    async fn load_volunteers(&mut self, clients: &Clients, filter: &str) -> Result<(), Status> {
        let list = every!(
            clients.volunteers,
            list_volunteers,
            ListVolunteersRequest,
            volunteers,
            filter
        )
        .await?;
        for v in list {
            self.volunteers.insert(v.person.clone(), v);
        }
        let teams = every!(
            clients.volunteers,
            list_teams,
            ListTeamsRequest,
            teams,
            filter
        )
        .await?;
        for t in teams {
            let members = places::all(|page_token| {
                let mut c = clients.volunteers.clone();
                let parent = t.name.clone();
                async move {
                    let r = c
                        .list_team_members(ListTeamMembersRequest {
                            parent,
                            page_size: 1000,
                            page_token,
                        })
                        .await?
                        .into_inner();
                    Ok((r.members, r.next_page_token))
                }
            })
            .await?;
            for m in members {
                self.members.insert((t.name.clone(), m.volunteer));
            }
            self.teams
                .entry(places::first_word_key(&t.display_name))
                .or_insert_with(|| t.clone());
            self.teams.insert(places::key(&t.display_name), t);
        }
        Ok(())
    }
}

/// A refused row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Its row number as the spreadsheet shows it.
    pub row: usize,
    /// The file's headers of the columns at fault (none when the row as a
    /// whole is).
    pub columns: Vec<String>,
    /// Why, in words.
    pub reason: String,
}

/// What a run did (or, dry, would do).
#[derive(Debug, Clone)]
pub struct Report {
    /// What was imported.
    pub kind: Kind,
    /// The community, by its display name.
    pub community: String,
    /// How the file was read.
    pub format: read::Format,
    /// Nothing was changed.
    pub dry_run: bool,
    /// Rows below the header that are not blank.
    pub rows: usize,
    /// Rows that created (or would create) a record.
    pub created: usize,
    /// Rows that updated (or would update) one.
    pub updated: usize,
    /// Rows that matched what is stored.
    pub unchanged: usize,
    /// Refused rows, in row order.
    pub problems: Vec<Problem>,
    /// Headers that name nothing this import reads.
    pub ignored_columns: Vec<String>,
    /// The file's headers, for the report file.
    pub headers: Vec<String>,
    /// The refused rows' cells, by row number, for the report file.
    pub refused: HashMap<usize, Vec<String>>,
}

/// Why nothing was imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// Required columns are missing.
    #[error("the file lacks the column(s) {}", .0.join(", "))]
    MissingColumns(Vec<&'static str>),
    /// The services refused (the caller, the community, a lookup).
    #[error("{:?}: {}", .0.code(), .0.message())]
    Refused(Status),
}

impl From<Status> for ImportError {
    fn from(s: Status) -> Self {
        ImportError::Refused(s)
    }
}

/// Rows done of rows in all, after each.
pub type Progress<'a> = &'a (dyn Fn(usize, usize) + Send + Sync);

/// Imports `bytes` as a `kind` roster.
pub async fn run(
    clients: &Clients,
    kind: Kind,
    bytes: &[u8],
    options: &Options,
    progress: Progress<'_>,
) -> Result<Report, ImportError> {
    let sheet = read::read(bytes, &options.limits)?;
    let layout =
        Layout::new(&sheet.headers, kind.columns()).map_err(ImportError::MissingColumns)?;
    let state = State::load(clients, kind, &options.community).await?;
    let Sheet {
        format,
        headers,
        rows,
    } = sheet;
    let mut report = Report {
        kind,
        community: state.places.community.display_name.clone(),
        format,
        dry_run: options.dry_run,
        rows: rows.len(),
        created: 0,
        updated: 0,
        unchanged: 0,
        problems: Vec::new(),
        ignored_columns: layout.ignored.clone(),
        headers,
        refused: HashMap::new(),
    };
    let mut first_of: HashMap<String, usize> = HashMap::new();
    let mut ops = Vec::new();
    let mut cells_of = HashMap::new();
    for row in rows {
        let problems: Vec<Problem> = if !row.bad.is_empty() {
            row.bad
                .iter()
                .map(|b| Problem {
                    row: row.number,
                    columns: vec![layout.header_at(b.column)],
                    reason: b.reason.clone(),
                })
                .collect()
        } else {
            match kind.plan(&layout, &state, &row.cells) {
                Err(problems) => problems
                    .into_iter()
                    .map(|(column, reason)| Problem {
                        row: row.number,
                        columns: vec![layout.header(column)],
                        reason,
                    })
                    .collect(),
                Ok(planned) => match first_of.get(&planned.key) {
                    Some(first) => vec![Problem {
                        row: row.number,
                        columns: vec![layout.header(key_column(kind))],
                        reason: format!("the same {} as row {first}", key_words(kind)),
                    }],
                    None => {
                        first_of.insert(planned.key, row.number);
                        match planned.op {
                            None => report.unchanged += 1,
                            Some(op) => {
                                cells_of.insert(row.number, row.cells.clone());
                                ops.push((row.number, op));
                            }
                        }
                        Vec::new()
                    }
                },
            }
        };
        if !problems.is_empty() {
            report.refused.insert(row.number, row.cells);
            report.problems.extend(problems);
        }
    }
    let total = report.rows;
    let mut done = total - ops.len();
    progress(done, total);
    if options.dry_run {
        for (_, op) in &ops {
            if op.creates() {
                report.created += 1;
            } else {
                report.updated += 1;
            }
        }
        progress(total, total);
        return Ok(report);
    }
    let mut results = futures_util::stream::iter(ops)
        .map(|(row, op)| {
            let clients = clients.clone();
            async move {
                let result = op.send(&clients).await;
                (row, op.creates(), result)
            }
        })
        .buffer_unordered(options.concurrency.max(1));
    while let Some((row, creates, result)) = results.next().await {
        done += 1;
        progress(done, total);
        match result {
            Ok(()) if creates => report.created += 1,
            Ok(()) => report.updated += 1,
            Err(s) if fatal(s.code()) => return Err(ImportError::Refused(s)),
            Err(s) => {
                report.problems.push(Problem {
                    row,
                    columns: columns_of(&s, &layout),
                    reason: s.message().to_owned(),
                });
                if let Some(cells) = cells_of.remove(&row) {
                    report.refused.insert(row, cells);
                }
            }
        }
    }
    report.problems.sort_by_key(|p| p.row);
    Ok(report)
}

/// The column that holds a kind's natural key.
fn key_column(kind: Kind) -> &'static str {
    match kind {
        Kind::Persons | Kind::Talents | Kind::Volunteers => "phone",
        Kind::Courtyards | Kind::Buildings | Kind::SharedResources => "display_name",
    }
}

/// What a kind's natural key is, in words.
fn key_words(kind: Kind) -> &'static str {
    match kind {
        Kind::Persons => "phone",
        Kind::Courtyards => "courtyard name",
        Kind::Buildings => "building in its courtyard",
        Kind::Talents => "person and category",
        Kind::SharedResources => "owner and name",
        Kind::Volunteers => "phone",
    }
}

/// The file's headers of the fields a service's field violations name
/// (`person.phone` → the phone column).
fn columns_of(status: &Status, layout: &Layout) -> Vec<String> {
    let Some(bad) = status.get_details_bad_request() else {
        return Vec::new();
    };
    bad.field_violations
        .iter()
        .map(|v| {
            let field = v.field.rsplit('.').next().unwrap_or(&v.field);
            layout.header(field)
        })
        .collect()
}
