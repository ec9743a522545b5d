//! `cogov persons …` and `cogov organizations …`: the registry staff keep.

use cogov_proto::organizations::organizations_service_client::OrganizationsServiceClient;
use cogov_proto::organizations::*;

use super::reflect::{Column, print_one};
use super::{Paging, Session, call, enum_arg, failed, mask_of, show_list};

const PERSON_COLUMNS: &[Column] = &[
    ("NAME", "name"),
    ("DISPLAY NAME", "display_name"),
    ("PHONE", "phone"),
    ("COMMUNITY", "community"),
    ("COURTYARD", "courtyard"),
    ("BUILDING", "building"),
    ("PARTY", "party_member"),
    ("HEAD", "building_head"),
];

const ORGANIZATION_COLUMNS: &[Column] = &[
    ("NAME", "name"),
    ("KIND", "kind"),
    ("DISPLAY NAME", "display_name"),
    ("PARENT", "parent"),
    ("PLACE", "place"),
];

/// What a person's record may say, for `create` and `update`.
#[derive(Debug, clap::Args)]
pub struct PersonFields {
    /// Their name.
    #[arg(long)]
    display_name: Option<String>,
    /// Their mobile number.
    #[arg(long)]
    phone: Option<String>,
    /// `courtyards/{id}` they live in.
    #[arg(long)]
    courtyard: Option<String>,
    /// `buildings/{id}` they live in.
    #[arg(long)]
    building: Option<String>,
    /// A party member.
    #[arg(long)]
    party_member: Option<bool>,
    /// `organizations/{id}` a party member reports to (双报到).
    #[arg(long)]
    double_report_unit: Option<String>,
    /// A building head (楼门长).
    #[arg(long)]
    building_head: Option<bool>,
    /// A community backbone (骨干).
    #[arg(long)]
    backbone: Option<bool>,
}

impl PersonFields {
    /// The person these fields describe, and the fields given.
    fn person(self) -> (Person, Vec<&'static str>) {
        let mut p = Person::default();
        let mut given = Vec::new();
        macro_rules! take {
            ($($field:ident),*) => {$(
                if let Some(v) = self.$field {
                    p.$field = v;
                    given.push(stringify!($field));
                }
            )*};
        }
        take!(
            display_name,
            phone,
            courtyard,
            building,
            party_member,
            double_report_unit,
            building_head,
            backbone
        );
        (p, given)
    }
}

/// Person work.
#[derive(Debug, clap::Subcommand)]
pub enum PersonCommand {
    /// List persons in your reach.
    List {
        /// AIP-160 filter, e.g. `community = "communities/…" AND party_member = true`.
        #[arg(long, default_value = "")]
        filter: String,
        #[command(flatten)]
        paging: Paging,
    },
    /// One person.
    Get {
        /// `persons/{id}`.
        person: String,
    },
    /// Register a person in a community.
    Create {
        /// `communities/{id}`.
        #[arg(long)]
        community: String,
        #[command(flatten)]
        fields: PersonFields,
    },
    /// Change the fields given, nothing else.
    Update {
        /// `persons/{id}`.
        person: String,
        #[command(flatten)]
        fields: PersonFields,
    },
}

/// Organisation work.
#[derive(Debug, clap::Subcommand)]
pub enum OrganizationCommand {
    /// List organisations in your reach.
    List {
        /// AIP-160 filter, e.g. `kind = PROPERTY_FIRM`.
        #[arg(long, default_value = "")]
        filter: String,
        #[command(flatten)]
        paging: Paging,
    },
    /// One organisation.
    Get {
        /// `organizations/{id}`.
        organization: String,
    },
    /// Register an organisation (street admins).
    Create {
        /// Its name.
        #[arg(long)]
        display_name: String,
        /// property-firm, social-unit, owners-committee, party-group,
        /// department, volunteer-team, other…
        #[arg(long)]
        kind: String,
        /// The organisation it belongs to: `organizations/{id}`.
        #[arg(long, default_value = "")]
        parent: String,
        /// Where it works: `communities/{id}` or `courtyards/{id}`.
        #[arg(long, default_value = "")]
        place: String,
    },
}

/// Runs `cogov persons …`.
pub async fn persons(s: &Session, command: PersonCommand) -> Result<(), String> {
    let (channel, bearer) = s.signed();
    let c = OrganizationsServiceClient::with_interceptor(channel, bearer);
    let person = match command {
        PersonCommand::List { filter, paging } => {
            let request = ListPersonsRequest {
                filter,
                ..Default::default()
            };
            return show_list!(
                s,
                c,
                list_persons,
                request,
                persons,
                paging,
                "listing persons",
                PERSON_COLUMNS
            );
        }
        PersonCommand::Get { person } => call!(c, get_person, GetPersonRequest { name: person })
            .await
            .map_err(failed("getting the person"))?,
        PersonCommand::Create { community, fields } => {
            let (person, _) = fields.person();
            let request = CreatePersonRequest {
                person: Some(Person {
                    community,
                    ..person
                }),
                request_id: uuid::Uuid::new_v4().to_string(),
            };
            call!(c, create_person, request)
                .await
                .map_err(failed("registering the person"))?
        }
        PersonCommand::Update { person, fields } => {
            let (fields, given) = fields.person();
            let request = UpdatePersonRequest {
                person: Some(Person {
                    name: person,
                    ..fields
                }),
                update_mask: mask_of(&given)?,
            };
            call!(c, update_person, request)
                .await
                .map_err(failed("updating the person"))?
        }
    };
    print_one(s, &person).await
}

/// Runs `cogov organizations …`.
pub async fn organizations(s: &Session, command: OrganizationCommand) -> Result<(), String> {
    let (channel, bearer) = s.signed();
    let c = OrganizationsServiceClient::with_interceptor(channel, bearer);
    let organization = match command {
        OrganizationCommand::List { filter, paging } => {
            let request = ListOrganizationsRequest {
                filter,
                ..Default::default()
            };
            return show_list!(
                s,
                c,
                list_organizations,
                request,
                organizations,
                paging,
                "listing organisations",
                ORGANIZATION_COLUMNS
            );
        }
        OrganizationCommand::Get { organization } => call!(
            c,
            get_organization,
            GetOrganizationRequest { name: organization }
        )
        .await
        .map_err(failed("getting the organisation"))?,
        OrganizationCommand::Create {
            display_name,
            kind,
            parent,
            place,
        } => {
            let kind = enum_arg(
                "--kind",
                &kind,
                "ORGANIZATION_KIND_",
                OrganizationKind::from_str_name,
            )?;
            let request = CreateOrganizationRequest {
                organization: Some(Organization {
                    display_name,
                    kind: kind as i32,
                    parent,
                    place,
                    ..Default::default()
                }),
                request_id: uuid::Uuid::new_v4().to_string(),
            };
            call!(c, create_organization, request)
                .await
                .map_err(failed("registering the organisation"))?
        }
    };
    print_one(s, &organization).await
}
