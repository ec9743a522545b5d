//! `cogov meetings …`: a council's meetings, from scheduling to the sign-in
//! sheet.

use cogov_proto::deliberation::deliberation_service_client::DeliberationServiceClient;
use cogov_proto::deliberation::*;

use super::reflect::{Column, print_one};
use super::{Paging, Session, beijing_arg, call, enum_arg, failed, show_list};

const MEETING_COLUMNS: &[Column] = &[
    ("NAME", "name"),
    ("START", "start_time"),
    ("STATE", "state"),
    ("COUNCIL", "council"),
    ("MODE", "mode"),
    ("PRESENT", "attendance_count"),
    ("TITLE", "title"),
];

const ATTENDANCE_COLUMNS: &[Column] = &[
    ("PERSON", "person"),
    ("SEAT", "seat"),
    ("MODE", "mode"),
    ("SIGNED IN", "sign_in_time"),
];

/// Meeting work.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List meetings.
    List {
        /// AIP-160 filter, e.g. `council = "councils/…" AND state = SCHEDULED`.
        #[arg(long, default_value = "")]
        filter: String,
        #[command(flatten)]
        paging: Paging,
    },
    /// One meeting.
    Get {
        /// `meetings/{id}`.
        meeting: String,
    },
    /// Schedule a council meeting.
    Create {
        /// `councils/{id}`.
        #[arg(long)]
        council: String,
        /// What it is about.
        #[arg(long)]
        title: String,
        /// When, Beijing time: `2026-12-10 19:30`.
        #[arg(long)]
        start: String,
        /// offline, online or hybrid.
        #[arg(long, default_value = "offline")]
        mode: String,
        /// Where.
        #[arg(long, default_value = "")]
        location: String,
        /// An agenda point, repeated.
        #[arg(long = "agenda")]
        agenda: Vec<String>,
    },
    /// Open the meeting (sign-in and quorum).
    Start {
        /// `meetings/{id}`.
        meeting: String,
    },
    /// Close the meeting.
    End {
        /// `meetings/{id}`.
        meeting: String,
    },
    /// Call the meeting off.
    Cancel {
        /// `meetings/{id}`.
        meeting: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Sign a person in.
    Attend {
        /// `meetings/{id}`.
        meeting: String,
        /// `persons/{id}`.
        #[arg(long)]
        person: String,
        /// in-person or online.
        #[arg(long, default_value = "in-person")]
        mode: String,
    },
    /// Who signed in.
    Attendances {
        /// `meetings/{id}`.
        meeting: String,
        #[command(flatten)]
        paging: Paging,
    },
}

/// Runs `cogov meetings …`.
pub async fn run(s: &Session, command: Command) -> Result<(), String> {
    let (channel, bearer) = s.signed();
    let c = DeliberationServiceClient::with_interceptor(channel, bearer);
    let meeting = match command {
        Command::List { filter, paging } => {
            let request = ListMeetingsRequest {
                filter,
                ..Default::default()
            };
            return show_list!(
                s,
                c,
                list_meetings,
                request,
                meetings,
                paging,
                "listing meetings",
                MEETING_COLUMNS
            );
        }
        Command::Get { meeting } => call!(c, get_meeting, GetMeetingRequest { name: meeting })
            .await
            .map_err(failed("getting the meeting"))?,
        Command::Create {
            council,
            title,
            start,
            mode,
            location,
            agenda,
        } => {
            let mode = enum_arg("--mode", &mode, "MEETING_MODE_", MeetingMode::from_str_name)?;
            let request = CreateMeetingRequest {
                meeting: Some(Meeting {
                    council,
                    title,
                    mode: mode as i32,
                    location,
                    agenda,
                    start_time: Some(beijing_arg("--start", &start)?),
                    ..Default::default()
                }),
                request_id: uuid::Uuid::new_v4().to_string(),
            };
            call!(c, create_meeting, request)
                .await
                .map_err(failed("scheduling the meeting"))?
        }
        Command::Start { meeting } => {
            let request = StartMeetingRequest {
                name: meeting,
                etag: String::new(),
            };
            call!(c, start_meeting, request)
                .await
                .map_err(failed("starting the meeting"))?
        }
        Command::End { meeting } => {
            let request = EndMeetingRequest {
                name: meeting,
                etag: String::new(),
            };
            call!(c, end_meeting, request)
                .await
                .map_err(failed("ending the meeting"))?
        }
        Command::Cancel { meeting, reason } => {
            let request = CancelMeetingRequest {
                name: meeting,
                etag: String::new(),
                reason,
            };
            call!(c, cancel_meeting, request)
                .await
                .map_err(failed("cancelling the meeting"))?
        }
        Command::Attend {
            meeting,
            person,
            mode,
        } => {
            let mode = enum_arg(
                "--mode",
                &mode,
                "ATTENDANCE_MODE_",
                AttendanceMode::from_str_name,
            )?;
            let request = CreateAttendanceRequest {
                parent: meeting,
                attendance: Some(Attendance {
                    person,
                    mode: mode as i32,
                    ..Default::default()
                }),
                request_id: uuid::Uuid::new_v4().to_string(),
            };
            let a = call!(c, create_attendance, request)
                .await
                .map_err(failed("signing in"))?;
            return print_one(s, &a).await;
        }
        Command::Attendances { meeting, paging } => {
            let request = ListAttendancesRequest {
                parent: meeting,
                ..Default::default()
            };
            return show_list!(
                s,
                c,
                list_attendances,
                request,
                attendances,
                paging,
                "listing attendances",
                ATTENDANCE_COLUMNS
            );
        }
    };
    print_one(s, &meeting).await
}
