//! `cogov keys …`: partners' API keys, for street admins.

use cogov_proto::gateway::gateway_service_client::GatewayServiceClient;
use cogov_proto::gateway::*;

use super::reflect::print_one;
use super::{Session, call, enum_arg, failed, short, table};

/// Key administration.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List the partners.
    Partners,
    /// List a partner's keys (never the keys themselves).
    List {
        /// `partners/{id}`.
        partner: String,
    },
    /// Issue a key; it is printed this once.
    Issue {
        /// `partners/{id}`.
        partner: String,
        /// What it is for.
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Revoke a key; it stops working on the next call.
    Revoke {
        /// `partners/{id}/keys/{id}`. (Not called `key`: that is the
        /// global `--key` credential's name, and clap would read the
        /// positional value as the credential.)
        #[arg(value_name = "KEY")]
        api_key: String,
    },
    /// Replace a key: a new one is printed this once, and the old one keeps
    /// working for the overlap so the partner can switch without a gap.
    Rotate {
        /// `partners/{id}/keys/{id}`.
        #[arg(value_name = "KEY")]
        api_key: String,
        /// Hours the old key keeps working.
        #[arg(long, default_value_t = 24)]
        overlap_hours: i64,
    },
    /// Register a partner: an organisation's system that calls with keys.
    CreatePartner {
        /// `organizations/{id}` the partner acts for.
        #[arg(long)]
        organization: String,
        /// property-firm, social-unit or owners-committee.
        #[arg(long)]
        kind: String,
        /// Its name.
        #[arg(long)]
        display_name: String,
        /// Who to write to about it.
        #[arg(long, default_value = "")]
        contact_email: String,
    },
}

fn key_rows(keys: &[ApiKey]) -> comfy_table::Table {
    let mut t = table(&["NAME", "STATE", "PREFIX", "EXPIRES", "DISPLAY NAME"]);
    for k in keys {
        t.add_row(vec![
            k.name.clone(),
            short(
                ApiKeyState::try_from(k.state)
                    .unwrap_or_default()
                    .as_str_name(),
                "API_KEY_STATE_",
            ),
            k.prefix.clone(),
            k.expire_time
                .as_ref()
                .and_then(cogov_kit::convert::from_timestamp)
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            k.display_name.clone(),
        ]);
    }
    t
}

/// Runs `cogov keys …`.
pub async fn run(s: &Session, command: Command) -> Result<(), String> {
    let (channel, bearer) = s.signed();
    let mut c = GatewayServiceClient::with_interceptor(channel, bearer);
    match command {
        Command::Partners => {
            let r = c
                .list_partners(ListPartnersRequest {
                    page_size: 1000,
                    ..Default::default()
                })
                .await
                .map_err(failed("listing partners"))?
                .into_inner();
            s.print("cogov.gateway.v1.ListPartnersResponse", &r, || {
                let mut t = table(&["NAME", "KIND", "STATE", "ORGANIZATION", "DISPLAY NAME"]);
                for p in &r.partners {
                    t.add_row(vec![
                        p.name.clone(),
                        short(
                            PartnerKind::try_from(p.kind)
                                .unwrap_or_default()
                                .as_str_name(),
                            "PARTNER_KIND_",
                        ),
                        short(
                            PartnerState::try_from(p.state)
                                .unwrap_or_default()
                                .as_str_name(),
                            "PARTNER_STATE_",
                        ),
                        p.organization.clone(),
                        p.display_name.clone(),
                    ]);
                }
                t
            })
        }
        Command::List { partner } => {
            let r = c
                .list_api_keys(ListApiKeysRequest {
                    parent: partner,
                    page_size: 1000,
                    ..Default::default()
                })
                .await
                .map_err(failed("listing keys"))?
                .into_inner();
            s.print("cogov.gateway.v1.ListApiKeysResponse", &r, || {
                key_rows(&r.api_keys)
            })
        }
        Command::Issue { partner, name } => {
            let r = c
                .create_api_key(CreateApiKeyRequest {
                    parent: partner,
                    api_key: Some(ApiKey {
                        display_name: name,
                        ..Default::default()
                    }),
                    request_id: uuid::Uuid::new_v4().to_string(),
                })
                .await
                .map_err(failed("issuing a key"))?
                .into_inner();
            s.print("cogov.gateway.v1.CreateApiKeyResponse", &r, || {
                key_rows(r.api_key.as_slice())
            })?;
            if !s.json() {
                println!("\nThe key, shown this once:\n\n  {}\n", r.secret);
            }
            Ok(())
        }
        Command::Rotate {
            api_key,
            overlap_hours,
        } => {
            let request = RotateApiKeyRequest {
                name: api_key,
                overlap: Some(prost_types::Duration {
                    seconds: overlap_hours * 3600,
                    nanos: 0,
                }),
                request_id: uuid::Uuid::new_v4().to_string(),
            };
            let r = call!(c, rotate_api_key, request)
                .await
                .map_err(failed("rotating the key"))?;
            s.print("cogov.gateway.v1.CreateApiKeyResponse", &r, || {
                key_rows(r.api_key.as_slice())
            })?;
            if !s.json() {
                println!("\nThe new key, shown this once:\n\n  {}\n", r.secret);
            }
            Ok(())
        }
        Command::CreatePartner {
            organization,
            kind,
            display_name,
            contact_email,
        } => {
            let kind = enum_arg("--kind", &kind, "PARTNER_KIND_", PartnerKind::from_str_name)?;
            let request = CreatePartnerRequest {
                partner: Some(Partner {
                    organization,
                    kind: kind as i32,
                    display_name,
                    contact_email,
                    ..Default::default()
                }),
                request_id: uuid::Uuid::new_v4().to_string(),
            };
            let p = call!(c, create_partner, request)
                .await
                .map_err(failed("registering the partner"))?;
            print_one(s, &p).await
        }
        Command::Revoke { api_key } => {
            let k = c
                .revoke_api_key(RevokeApiKeyRequest { name: api_key })
                .await
                .map_err(failed("revoking"))?
                .into_inner();
            s.print("cogov.gateway.v1.ApiKey", &k, || {
                key_rows(std::slice::from_ref(&k))
            })
        }
    }
}
