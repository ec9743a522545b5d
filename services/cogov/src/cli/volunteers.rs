//! `cogov volunteers …`: the register, teams, and the hours volunteers
//! served (service records staff approve or reject).

use cogov_proto::volunteers::volunteers_service_client::VolunteersServiceClient;
use cogov_proto::volunteers::*;

use super::reflect::{Column, print_one};
use super::{Paging, Session, call, failed, show_list};

const VOLUNTEER_COLUMNS: &[Column] = &[
    ("NAME", "name"),
    ("DISPLAY NAME", "display_name"),
    ("COMMUNITY", "community"),
    ("STATE", "state"),
    ("SKILLS", "skills"),
    ("MINUTES", "approved_minutes"),
];

const TEAM_COLUMNS: &[Column] = &[
    ("NAME", "name"),
    ("DISPLAY NAME", "display_name"),
    ("COMMUNITY", "community"),
    ("MEMBERS", "member_count"),
    ("LEADER", "leader"),
];

const RECORD_COLUMNS: &[Column] = &[
    ("NAME", "name"),
    ("VOLUNTEER", "volunteer"),
    ("START", "start_time"),
    ("MINUTES", "minutes"),
    ("STATE", "state"),
    ("ACTIVITY", "activity"),
    ("DESCRIPTION", "description"),
];

/// Volunteer work.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List volunteers.
    List {
        /// AIP-160 filter, e.g. `skills:first_aid`.
        #[arg(long, default_value = "")]
        filter: String,
        #[command(flatten)]
        paging: Paging,
    },
    /// One volunteer.
    Get {
        /// `volunteers/{id}`.
        volunteer: String,
    },
    /// Register a person as a volunteer.
    Create {
        /// `persons/{id}`.
        #[arg(long)]
        person: String,
        /// Skill tags, e.g. `first_aid,plumbing`.
        #[arg(long, value_delimiter = ',')]
        skills: Vec<String>,
    },
    /// List teams.
    Teams {
        /// AIP-160 filter, e.g. `brand = true`.
        #[arg(long, default_value = "")]
        filter: String,
        #[command(flatten)]
        paging: Paging,
    },
    /// List service records (hours served), e.g. those waiting for review.
    Records {
        /// AIP-160 filter, e.g. `state = PENDING`.
        #[arg(long, default_value = "")]
        filter: String,
        #[command(flatten)]
        paging: Paging,
    },
    /// Approve a service record: its minutes count.
    Approve {
        /// `serviceRecords/{id}`.
        record: String,
    },
    /// Reject a service record.
    Reject {
        /// `serviceRecords/{id}`.
        record: String,
        /// Why, for the volunteer.
        #[arg(long)]
        reason: String,
    },
}

/// Runs `cogov volunteers …`.
pub async fn run(s: &Session, command: Command) -> Result<(), String> {
    let (channel, bearer) = s.signed();
    let c = VolunteersServiceClient::with_interceptor(channel, bearer);
    let record = match command {
        Command::List { filter, paging } => {
            let request = ListVolunteersRequest {
                filter,
                ..Default::default()
            };
            return show_list!(
                s,
                c,
                list_volunteers,
                request,
                volunteers,
                paging,
                "listing volunteers",
                VOLUNTEER_COLUMNS
            );
        }
        Command::Get { volunteer } => {
            let v = call!(c, get_volunteer, GetVolunteerRequest { name: volunteer })
                .await
                .map_err(failed("getting the volunteer"))?;
            return print_one(s, &v).await;
        }
        Command::Create { person, skills } => {
            let request = CreateVolunteerRequest {
                volunteer: Some(Volunteer {
                    person,
                    skills,
                    ..Default::default()
                }),
                request_id: uuid::Uuid::new_v4().to_string(),
            };
            let v = call!(c, create_volunteer, request)
                .await
                .map_err(failed("registering the volunteer"))?;
            return print_one(s, &v).await;
        }
        Command::Teams { filter, paging } => {
            let request = ListTeamsRequest {
                filter,
                ..Default::default()
            };
            return show_list!(
                s,
                c,
                list_teams,
                request,
                teams,
                paging,
                "listing teams",
                TEAM_COLUMNS
            );
        }
        Command::Records { filter, paging } => {
            let request = ListServiceRecordsRequest {
                filter,
                ..Default::default()
            };
            return show_list!(
                s,
                c,
                list_service_records,
                request,
                service_records,
                paging,
                "listing service records",
                RECORD_COLUMNS
            );
        }
        Command::Approve { record } => {
            let request = ApproveServiceRecordRequest {
                name: record,
                etag: String::new(),
            };
            call!(c, approve_service_record, request)
                .await
                .map_err(failed("approving the record"))?
        }
        Command::Reject { record, reason } => {
            let request = RejectServiceRecordRequest {
                name: record,
                etag: String::new(),
                reason,
            };
            call!(c, reject_service_record, request)
                .await
                .map_err(failed("rejecting the record"))?
        }
    };
    print_one(s, &record).await
}
