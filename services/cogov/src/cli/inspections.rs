//! `cogov inspections …` and `cogov two-nos …`: the 两无 checks of a
//! courtyard and where each courtyard stands.

use cogov_proto::issues::issues_service_client::IssuesServiceClient;
use cogov_proto::issues::*;

use super::reflect::{Column, print_list, print_one};
use super::{Paging, Session, call, enum_arg, failed, show_list};

const INSPECTION_COLUMNS: &[Column] = &[
    ("NAME", "name"),
    ("WHEN", "inspect_time"),
    ("COURTYARD", "courtyard"),
    ("SUB-ITEM", "sub_item"),
    ("RESULT", "result"),
    ("INSPECTOR", "inspector"),
    ("NOTES", "notes"),
];

const TWO_NOS_COLUMNS: &[Column] = &[
    ("COURTYARD", "courtyard"),
    ("COMMUNITY", "community"),
    ("MET", "met"),
    ("LAST MET", "last_met_time"),
];

const ITEM_COLUMNS: &[Column] = &[
    ("SUB-ITEM", "sub_item"),
    ("OPEN ISSUES", "open_issue_count"),
    ("LAST RESULT", "last_result"),
    ("LAST INSPECTION", "last_inspection"),
];

/// Inspection work.
#[derive(Debug, clap::Subcommand)]
pub enum InspectionCommand {
    /// List inspections, newest first.
    List {
        /// AIP-160 filter, e.g. `courtyard = "courtyards/…" AND result = FAILED`.
        #[arg(long, default_value = "")]
        filter: String,
        #[command(flatten)]
        paging: Paging,
    },
    /// One inspection.
    Get {
        /// `inspections/{id}`.
        inspection: String,
    },
    /// Record an inspection of a courtyard on a 两无 sub-item.
    Create {
        /// `courtyards/{id}`.
        #[arg(long)]
        courtyard: String,
        /// `subItems/{code}`, e.g. `subItems/clutter_piling`.
        #[arg(long)]
        sub_item: String,
        /// passed or failed.
        #[arg(long)]
        result: String,
        /// What was seen.
        #[arg(long, default_value = "")]
        notes: String,
    },
}

/// Two-nos standing.
#[derive(Debug, clap::Subcommand)]
pub enum TwoNosCommand {
    /// Every courtyard's standing.
    List {
        /// AIP-160 filter, e.g. `met = false`.
        #[arg(long, default_value = "")]
        filter: String,
        #[command(flatten)]
        paging: Paging,
    },
    /// One courtyard's standing, item by item.
    Get {
        /// `courtyards/{id}`.
        courtyard: String,
    },
}

/// Runs `cogov inspections …`.
pub async fn inspections(s: &Session, command: InspectionCommand) -> Result<(), String> {
    let (channel, bearer) = s.signed();
    let c = IssuesServiceClient::with_interceptor(channel, bearer);
    let inspection = match command {
        InspectionCommand::List { filter, paging } => {
            let request = ListInspectionsRequest {
                filter,
                ..Default::default()
            };
            return show_list!(
                s,
                c,
                list_inspections,
                request,
                inspections,
                paging,
                "listing inspections",
                INSPECTION_COLUMNS
            );
        }
        InspectionCommand::Get { inspection } => {
            call!(c, get_inspection, GetInspectionRequest { name: inspection })
                .await
                .map_err(failed("getting the inspection"))?
        }
        InspectionCommand::Create {
            courtyard,
            sub_item,
            result,
            notes,
        } => {
            let result = enum_arg(
                "--result",
                &result,
                "INSPECTION_RESULT_",
                InspectionResult::from_str_name,
            )?;
            let request = CreateInspectionRequest {
                inspection: Some(Inspection {
                    courtyard,
                    sub_item,
                    result: result as i32,
                    notes,
                    ..Default::default()
                }),
                request_id: uuid::Uuid::new_v4().to_string(),
            };
            call!(c, create_inspection, request)
                .await
                .map_err(failed("recording the inspection"))?
        }
    };
    print_one(s, &inspection).await
}

/// Runs `cogov two-nos …`.
pub async fn two_nos(s: &Session, command: TwoNosCommand) -> Result<(), String> {
    let (channel, bearer) = s.signed();
    let c = IssuesServiceClient::with_interceptor(channel, bearer);
    match command {
        TwoNosCommand::List { filter, paging } => {
            let request = ListCourtyardTwoNosRequest {
                filter,
                ..Default::default()
            };
            show_list!(
                s,
                c,
                list_courtyard_two_nos,
                request,
                statuses,
                paging,
                "listing the two-nos",
                TWO_NOS_COLUMNS
            )
        }
        TwoNosCommand::Get { courtyard } => {
            let r = call!(
                c,
                get_courtyard_two_nos,
                GetCourtyardTwoNosRequest { courtyard }
            )
            .await
            .map_err(failed("getting the two-nos"))?;
            if !s.json() {
                println!("{} met: {}", r.courtyard, if r.met { "yes" } else { "no" });
            }
            print_list(s, &r, "items", ITEM_COLUMNS).await
        }
    }
}
