//! `cogov activities …`.

use cogov_proto::volunteers::volunteers_service_client::VolunteersServiceClient;
use cogov_proto::volunteers::*;

use super::{Paging, Session, failed, list, short, table};

/// Activity work.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List activities (soonest first).
    List {
        /// AIP-160 filter, e.g. `state = PUBLISHED`.
        #[arg(long, default_value = "")]
        filter: String,
        #[command(flatten)]
        paging: Paging,
    },
    /// Sign a volunteer up; past capacity they join the waitlist.
    SignUp {
        /// `activities/{id}`.
        activity: String,
        /// `volunteers/{id}`.
        #[arg(long)]
        volunteer: String,
    },
}

/// Runs `cogov activities …`.
pub async fn run(s: &Session, command: Command) -> Result<(), String> {
    let (channel, bearer) = s.signed();
    let mut c = VolunteersServiceClient::with_interceptor(channel, bearer);
    match command {
        Command::List { filter, paging } => {
            let request = ListActivitiesRequest {
                filter,
                ..Default::default()
            };
            let r = list!(
                c,
                list_activities,
                request,
                activities,
                paging,
                "listing activities"
            );
            s.print("cogov.volunteers.v1.ListActivitiesResponse", &r, || {
                let mut t = table(&["NAME", "STATE", "START", "PLACES", "TITLE"]);
                for a in &r.activities {
                    t.add_row(vec![
                        a.name.clone(),
                        short(
                            ActivityState::try_from(a.state)
                                .unwrap_or_default()
                                .as_str_name(),
                            "ACTIVITY_STATE_",
                        ),
                        a.start_time
                            .as_ref()
                            .and_then(cogov_kit::convert::from_timestamp)
                            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                            .unwrap_or_default(),
                        format!("{}/{}", a.confirmed_count, a.capacity),
                        a.title.clone(),
                    ]);
                }
                t
            })
        }
        Command::SignUp {
            activity,
            volunteer,
        } => {
            let signup = c
                .create_signup(CreateSignupRequest {
                    parent: activity,
                    signup: Some(Signup {
                        volunteer,
                        ..Default::default()
                    }),
                    request_id: uuid::Uuid::new_v4().to_string(),
                })
                .await
                .map_err(failed("signing up"))?
                .into_inner();
            s.print("cogov.volunteers.v1.Signup", &signup, || {
                let mut t = table(&["NAME", "STATE", "WAITLIST"]);
                t.add_row(vec![
                    signup.name.clone(),
                    short(
                        SignupState::try_from(signup.state)
                            .unwrap_or_default()
                            .as_str_name(),
                        "SIGNUP_STATE_",
                    ),
                    signup.waitlist_position.to_string(),
                ]);
                t
            })
        }
    }
}
