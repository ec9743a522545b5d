//! The demo's staff accounts for the console, at every start of `cogov up`:
//! a street admin and a community admin of Niujie Dongli, each with a
//! fresh password for this run (which also lifts any lock-out).

use cogov_proto::common::StaffRole;
use cogov_proto::gateway::gateway_service_client::GatewayServiceClient;
use cogov_proto::gateway::*;
use cogov_proto::organizations::ListCommunitiesRequest;
use cogov_proto::organizations::organizations_service_client::OrganizationsServiceClient;
use tonic::transport::Channel;

use super::err;
use super::partners::Bearer;

/// A console login printed for the newcomer.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    /// What it is, in words.
    pub label: &'static str,
    /// The username.
    pub username: &'static str,
    /// This run's password.
    pub password: String,
}

/// A password for this run: 32 hex digits from the OS's randomness.
fn fresh_password() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Creates the demo's staff accounts if need be and sets this run's
/// passwords.
pub async fn staff_logins(gateway: Channel, token: &str) -> Result<Vec<DemoLogin>, String> {
    let bearer = Bearer(token.to_owned());
    let mut orgs = OrganizationsServiceClient::with_interceptor(gateway.clone(), bearer.clone());
    let mut admin = GatewayServiceClient::with_interceptor(gateway, bearer);
    let dongli = orgs
        .list_communities(ListCommunitiesRequest {
            page_size: 100,
            ..Default::default()
        })
        .await
        .map_err(err("listing communities"))?
        .into_inner()
        .communities
        .into_iter()
        .find(|c| c.display_name.starts_with(super::COMMUNITIES[0].0))
        .map(|c| c.name)
        .ok_or("the demo has no Niujie Dongli community")?;
    let existing = admin
        .list_staff_accounts(ListStaffAccountsRequest {
            page_size: 1000,
            ..Default::default()
        })
        .await
        .map_err(err("listing staff accounts"))?
        .into_inner()
        .staff_accounts;
    let mut out = Vec::new();
    for (label, username, display_name, role, community) in [
        (
            "street admin",
            "niujie.admin",
            "牛街街道办 Street office",
            StaffRole::StreetAdmin,
            String::new(),
        ),
        (
            "community admin, Niujie Dongli",
            "dongli.admin",
            "牛街东里社区 Dongli community",
            StaffRole::CommunityAdmin,
            dongli.clone(),
        ),
    ] {
        let password = fresh_password();
        match existing.iter().find(|a| a.username == username) {
            Some(account) => {
                admin
                    .update_staff_account(UpdateStaffAccountRequest {
                        staff_account: Some(StaffAccount {
                            name: account.name.clone(),
                            password: password.clone(),
                            disabled: false,
                            etag: account.etag.clone(),
                            ..Default::default()
                        }),
                        update_mask: Some(prost_types::FieldMask {
                            paths: vec!["password".into(), "disabled".into()],
                        }),
                    })
                    .await
                    .map_err(err("setting a demo staff password"))?;
            }
            None => {
                admin
                    .create_staff_account(CreateStaffAccountRequest {
                        staff_account: Some(StaffAccount {
                            username: username.into(),
                            display_name: display_name.into(),
                            role: role as i32,
                            community,
                            password: password.clone(),
                            ..Default::default()
                        }),
                        request_id: String::new(),
                    })
                    .await
                    .map_err(err("creating a demo staff account"))?;
            }
        }
        out.push(DemoLogin {
            label,
            username,
            password,
        });
    }
    Ok(out)
}
