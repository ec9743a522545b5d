//! The organizations, issues, volunteers and deliberation services and the
//! gateway in front of them, each on a loopback port with a fresh
//! database; a small street with three partners and their keys; clients
//! that present a key or a staff token.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use cogov_gateway::residents::sender::{CodeSender, HttpSender};
use cogov_gateway::{Backends, Gateway, Settings, StaffTokens};
use cogov_kit::Context;
use cogov_kit::auth::Authenticator;
use cogov_kit::clock::Clock;
use cogov_kit::db::{self, DbConfig};
use cogov_kit::events::Bus;
use cogov_kit::events::memory::MemoryBus;
use cogov_kit::paging::PageTokens;
pub use cogov_kit::testing::{
    TestDb, TestServer, assert_bad_field, assert_status, mask, request_id,
};
use cogov_proto::gateway::gateway_service_client::GatewayServiceClient;
use cogov_proto::gateway::residents_service_client::ResidentsServiceClient;
use cogov_proto::gateway::*;
use cogov_proto::issues::issues_service_client::IssuesServiceClient;
use cogov_proto::organizations as org;
use cogov_proto::organizations::organizations_service_client::OrganizationsServiceClient;
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub const SECRET: &[u8] = b"gateway test internal secret";
pub const JWT_SECRET: &[u8] = b"gateway test staff token secret";
pub const ISSUER: &str = "cogov";
pub const AUDIENCE: &str = "cogov-gateway";

/// Runs scenarios with the gateway's database (and the organizations
/// service's) on SQLite and, when configured, on PostgreSQL.
#[macro_export]
macro_rules! both {
    ($($scenario:ident),* $(,)?) => {
        cogov_kit::on_both_databases!($crate::support::Env::start; $($scenario),*);
    };
}

/// Presents a credential, as a partner's system or the console would.
#[derive(Clone)]
pub struct Bearer(pub Option<String>);

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(credential) = &self.0 {
            request.metadata_mut().insert(
                "authorization",
                format!("Bearer {credential}").parse().expect("ascii"),
            );
        }
        Ok(request)
    }
}

/// A staff credential acting for a resident at the service station.
#[derive(Clone)]
pub struct ForResident {
    pub staff: Bearer,
    pub person: String,
}

impl Interceptor for ForResident {
    fn call(&mut self, request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let mut request = self.staff.call(request)?;
        request.metadata_mut().insert(
            "x-cogov-for-resident",
            self.person
                .parse()
                .map_err(|_| tonic::Status::internal("not ascii"))?,
        );
        Ok(request)
    }
}

pub type Admin = GatewayServiceClient<InterceptedService<Channel, Bearer>>;
pub type Issues = IssuesServiceClient<InterceptedService<Channel, Bearer>>;
pub type Orgs = OrganizationsServiceClient<InterceptedService<Channel, Bearer>>;
pub type Residents = ResidentsServiceClient<InterceptedService<Channel, Bearer>>;

/// A number in E.164, as the messaging system receives it.
pub fn e164(phone: &str) -> String {
    cogov_kit::phone::normalize(phone).unwrap()
}

/// The resident of a1's number (a person staff registered).
pub const PHONE_A1: &str = "138 0000 0001";
/// The resident of b1's number.
pub const PHONE_B1: &str = "13800000002";

pub struct Env {
    pub bus: Bus,
    /// The street's messaging system: residents' codes arrive here.
    pub phones: cogov_kit::testing::phones::Phones,
    /// The gateway itself, for what runs beside its calls (digests).
    pub gw: Gateway,
    pub gateway: TestServer,
    pub services: Vec<TestServer>,
    pub clock: Clock,
    pub tokens: StaffTokens,
    _dbs: Vec<TestDb>,
    /// Where the gateway keeps photos (removed with the environment).
    pub media_dir: MediaDir,
}

/// A folder of the test's own for photos, removed when dropped.
pub struct MediaDir(pub std::path::PathBuf);

impl MediaDir {
    fn new() -> MediaDir {
        MediaDir(std::env::temp_dir().join(format!("cogov-media-{}", uuid::Uuid::new_v4())))
    }

    /// How many files it holds.
    pub fn files(&self) -> usize {
        fn count(dir: &std::path::Path) -> usize {
            std::fs::read_dir(dir)
                .map(|entries| {
                    entries
                        .filter_map(|e| e.ok())
                        .map(|e| {
                            let p = e.path();
                            if p.is_dir() { count(&p) } else { 1 }
                        })
                        .sum()
                })
                .unwrap_or(0)
        }
        count(&self.0)
    }
}

impl Drop for MediaDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 2, 0, 0).unwrap()
}

pub fn settings() -> Settings {
    Settings {
        partner_rate: 1000,
        partner_burst: 1000,
        ..Settings::default()
    }
}

impl Env {
    pub async fn start(orgs_db: TestDb, gateway_db: TestDb) -> Env {
        Self::start_with(orgs_db, gateway_db, settings()).await
    }

    pub async fn start_with(orgs_db: TestDb, gateway_db: TestDb, settings: Settings) -> Env {
        Self::start_on(orgs_db, gateway_db, settings, Arc::new(MemoryBus::new())).await
    }

    /// The system with its events on `bus`.
    pub async fn start_on(
        orgs_db: TestDb,
        gateway_db: TestDb,
        settings: Settings,
        bus: Bus,
    ) -> Env {
        let clock = Clock::manual(start_time());
        let auth = Authenticator::new(SECRET, None, clock.clone());
        let page_tokens = PageTokens::new(b"page tokens");
        let (organizations, directory) = cogov_organizations::testing::start_on(
            &orgs_db,
            &auth,
            &clock,
            &page_tokens,
            "issues",
            &bus,
        )
        .await;
        let (issues_db, volunteers_db, deliberation_db) =
            (TestDb::sqlite(), TestDb::sqlite(), TestDb::sqlite());
        let context = |db: cogov_kit::db::Db| Context {
            db,
            tokens: page_tokens.clone(),
            clock: clock.clone(),
        };
        let relay = |db: &cogov_kit::db::Db| {
            cogov_kit::events::relay::spawn(db.clone(), bus.clone(), clock.clone());
        };
        let issues = cogov_issues::Issues::new(
            context(
                db::connect::<cogov_issues::Migrator>(&DbConfig::new(&issues_db.url))
                    .await
                    .unwrap(),
            ),
            directory.clone(),
            cogov_issues::Settings::default(),
        );
        cogov_issues::consumers::start(&issues, &bus).await.unwrap();
        relay(&issues.ctx.db);
        let issues = TestServer::start(issues.server(auth.clone())).await;
        let volunteers = cogov_volunteers::Volunteers::new(
            context(
                db::connect::<cogov_volunteers::Migrator>(&DbConfig::new(&volunteers_db.url))
                    .await
                    .unwrap(),
            ),
            directory.clone(),
        );
        cogov_volunteers::consumers::start(&volunteers, &bus)
            .await
            .unwrap();
        relay(&volunteers.ctx.db);
        let volunteers = TestServer::start(volunteers.server(auth.clone())).await;
        let deliberation = cogov_deliberation::Deliberation::new(
            context(
                db::connect::<cogov_deliberation::Migrator>(&DbConfig::new(&deliberation_db.url))
                    .await
                    .unwrap(),
            ),
            directory.clone(),
        );
        cogov_deliberation::consumers::start(&deliberation, &bus)
            .await
            .unwrap();
        relay(&deliberation.ctx.db);
        let deliberation = TestServer::start(deliberation.server(auth.clone())).await;
        let tokens = StaffTokens::shared_secret(JWT_SECRET, ISSUER, AUDIENCE, clock.clone());
        let phones = cogov_kit::testing::phones::Phones::start().await;
        let gw = Gateway::new(
            context(
                db::connect::<cogov_gateway::Migrator>(&DbConfig::new(&gateway_db.url))
                    .await
                    .unwrap(),
            ),
            directory,
            auth,
            tokens.clone(),
            settings,
        )
        .with_residents(cogov_gateway::residents::Config {
            sender: CodeSender::Http(
                HttpSender::new(&phones.url, cogov_kit::testing::phones::SECRET).unwrap(),
            ),
            token_secret: None,
        });
        // The tests' receivers listen on loopback.
        let gw = gw.with_webhooks(cogov_gateway::webhooks::Config {
            allow_networks: vec!["127.0.0.0/8".parse().unwrap()],
            timeout: Duration::from_secs(2),
            ..Default::default()
        });
        let media_dir = MediaDir::new();
        let gw = gw.with_media(cogov_gateway::media::Media::in_folder(&media_dir.0).unwrap());
        gw.start_consumers(&bus).await.unwrap();
        relay(&gw.ctx.db);
        let gw_state = gw.clone();
        let backends = Backends {
            organizations: organizations.channel.clone(),
            issues: issues.channel.clone(),
            volunteers: volunteers.channel.clone(),
            deliberation: deliberation.channel.clone(),
        };
        let gateway = TestServer::start(gw.clone().server(backends)).await;
        Env {
            bus,
            phones,
            gw: gw_state,
            gateway,
            services: vec![organizations, issues, volunteers, deliberation],
            clock,
            tokens,
            media_dir,
            _dbs: vec![
                orgs_db,
                gateway_db,
                issues_db,
                volunteers_db,
                deliberation_db,
            ],
        }
    }

    /// A staff token, as the console would hold.
    pub fn token(&self, role: &str, community: &str) -> String {
        self.tokens.issue("tester", role, community, 3600).unwrap()
    }

    pub fn street_admin(&self) -> Bearer {
        Bearer(Some(self.token("street_admin", "")))
    }

    pub fn admin(&self) -> Admin {
        GatewayServiceClient::with_interceptor(self.gateway.channel.clone(), self.street_admin())
    }

    pub fn gateway_as(&self, who: Bearer) -> Admin {
        GatewayServiceClient::with_interceptor(self.gateway.channel.clone(), who)
    }

    pub fn issues(&self, who: Bearer) -> Issues {
        IssuesServiceClient::with_interceptor(self.gateway.channel.clone(), who)
    }

    pub fn orgs(&self, who: Bearer) -> Orgs {
        OrganizationsServiceClient::with_interceptor(self.gateway.channel.clone(), who)
    }

    /// Signs in with the number's next code: a session, or a registration
    /// ticket for a number nobody has. The clock moves on a minute first,
    /// as a resident waits before asking another code.
    pub async fn sign_in(&self, phone: &str) -> SignInResponse {
        self.clock.advance(chrono::Duration::seconds(61));
        let mut residents = self.residents(Bearer(None));
        let before = self.phones.count(&e164(phone));
        residents
            .send_sign_in_code(SendSignInCodeRequest {
                phone: phone.into(),
            })
            .await
            .unwrap();
        let code = self.phones.code(&e164(phone), before + 1).await;
        residents
            .sign_in(SignInRequest {
                phone: phone.into(),
                code,
                device: "test phone".into(),
            })
            .await
            .unwrap()
            .into_inner()
    }

    /// The tokens of a new session for a number that belongs to a person.
    pub async fn resident_tokens(&self, phone: &str) -> ResidentTokens {
        match self.sign_in(phone).await.outcome {
            Some(sign_in_response::Outcome::Tokens(t)) => t,
            other => panic!("{phone} did not sign in: {other:?}"),
        }
    }

    /// A signed-in resident's credential.
    pub async fn resident(&self, phone: &str) -> Bearer {
        Bearer(Some(self.resident_tokens(phone).await.access_token))
    }

    pub fn residents(&self, who: Bearer) -> Residents {
        ResidentsServiceClient::with_interceptor(self.gateway.channel.clone(), who)
    }

    /// Every database of the system: organizations, gateway, issues,
    /// volunteers, deliberation.
    pub fn database_urls(&self) -> Vec<&str> {
        self._dbs.iter().map(|d| d.url.as_str()).collect()
    }

    /// The issues service's database.
    pub fn issues_db_url(&self) -> &str {
        &self._dbs[2].url
    }

    /// The issues service itself, bypassing the gateway.
    pub fn issues_direct(&self) -> Channel {
        self.services[1].channel.clone()
    }
}

/// A street with two communities; a1 (in A) served by firm A, b1 (in B)
/// by firm B; an area unit co-building with A; each a partner with a key.
pub struct World {
    pub community_a: String,
    pub community_b: String,
    pub a1: String,
    pub b1: String,
    pub firm_a: String,
    pub unit: String,
    pub partner_a: String,
    pub partner_b: String,
    pub key_a: String,
    pub key_a_name: String,
    pub key_b: String,
    pub key_unit: String,
    /// A resident of a1 (phone [`PHONE_A1`]) and one of b1 ([`PHONE_B1`]).
    pub resident_a1: String,
    pub resident_b1: String,
}

impl World {
    pub async fn build(env: &Env) -> World {
        let mut o = env.orgs(env.street_admin());
        let street = o
            .create_street(org::CreateStreetRequest {
                street: Some(org::Street {
                    display_name: "Niujie".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .name;
        let mut community = async |name: &str| {
            o.create_community(org::CreateCommunityRequest {
                community: Some(org::Community {
                    street: street.clone(),
                    display_name: name.into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .name
        };
        let community_a = community("A").await;
        let community_b = community("B").await;
        let mut courtyard = async |community: &str, name: &str| {
            o.create_courtyard(org::CreateCourtyardRequest {
                courtyard: Some(org::Courtyard {
                    community: community.into(),
                    display_name: name.into(),
                    kind: org::CourtyardKind::Estate as i32,
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .name
        };
        let a1 = courtyard(&community_a, "a1").await;
        let b1 = courtyard(&community_b, "b1").await;
        let mut organization = async |name: &str, kind: org::OrganizationKind| {
            o.create_organization(org::CreateOrganizationRequest {
                organization: Some(org::Organization {
                    display_name: name.into(),
                    kind: kind as i32,
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .name
        };
        let firm_a = organization("Firm A", org::OrganizationKind::PropertyFirm).await;
        let firm_b = organization("Firm B", org::OrganizationKind::PropertyFirm).await;
        let unit = organization("School", org::OrganizationKind::SocialUnit).await;
        let since = Some(cogov_kit::convert::timestamp(
            start_time() - chrono::Duration::days(30),
        ));
        for (kind, organization, courtyards, communities) in [
            (
                org::AgreementKind::Service,
                &firm_a,
                vec![a1.clone()],
                vec![],
            ),
            (
                org::AgreementKind::Service,
                &firm_b,
                vec![b1.clone()],
                vec![],
            ),
            (
                org::AgreementKind::CoBuilding,
                &unit,
                vec![],
                vec![community_a.clone()],
            ),
        ] {
            o.create_agreement(org::CreateAgreementRequest {
                agreement: Some(org::Agreement {
                    kind: kind as i32,
                    organization: organization.clone(),
                    courtyards,
                    communities,
                    title: "agreement".into(),
                    start_time: since,
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap();
        }
        let mut admin = env.admin();
        let mut partner = async |organization: &str, kind: PartnerKind| {
            let p = admin
                .create_partner(CreatePartnerRequest {
                    partner: Some(Partner {
                        organization: organization.into(),
                        display_name: "partner".into(),
                        kind: kind as i32,
                        ..Default::default()
                    }),
                    request_id: request_id(),
                })
                .await
                .unwrap()
                .into_inner();
            let key = admin
                .create_api_key(CreateApiKeyRequest {
                    parent: p.name.clone(),
                    api_key: Some(ApiKey {
                        display_name: "test".into(),
                        ..Default::default()
                    }),
                    request_id: request_id(),
                })
                .await
                .unwrap()
                .into_inner();
            (p.name, key.secret, key.api_key.unwrap().name)
        };
        let (partner_a, key_a, key_a_name) = partner(&firm_a, PartnerKind::PropertyFirm).await;
        let (partner_b, key_b, _) = partner(&firm_b, PartnerKind::PropertyFirm).await;
        let (_, key_unit, _) = partner(&unit, PartnerKind::SocialUnit).await;
        let mut person = async |community: &str, courtyard: &str, name: &str, phone: &str| {
            o.create_person(org::CreatePersonRequest {
                person: Some(org::Person {
                    display_name: name.into(),
                    community: community.into(),
                    courtyard: courtyard.into(),
                    phone: phone.into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .name
        };
        let resident_a1 = person(&community_a, &a1, "王阿姨", PHONE_A1).await;
        let resident_b1 = person(&community_b, &b1, "李大爷", PHONE_B1).await;
        World {
            resident_a1,
            resident_b1,
            community_a,
            community_b,
            a1,
            b1,
            firm_a,
            unit,
            partner_a,
            partner_b,
            key_a,
            key_a_name,
            key_b,
            key_unit,
        }
    }
}

pub fn key(k: &str) -> Bearer {
    Bearer(Some(k.to_owned()))
}

/// Polls `f` until it holds, for up to two seconds (the audit writer
/// writes in the background).
pub async fn eventually<F: AsyncFnMut() -> bool>(mut f: F) -> bool {
    for _ in 0..100 {
        if f().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// An HTTP/1.1 answer: status, head (the header lines) and body.
pub struct HttpReply {
    pub status: u16,
    pub head: String,
    pub body: String,
    /// The body as sent (a photo is no text).
    pub bytes: Vec<u8>,
}

impl HttpReply {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers(name).into_iter().next()
    }

    /// Every value of header `name`.
    pub fn headers(&self, name: &str) -> Vec<String> {
        let prefix = format!("{}: ", name.to_ascii_lowercase());
        self.head
            .lines()
            .filter(|l| l.to_ascii_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].to_owned())
            .collect()
    }
}

/// One HTTP/1.1 exchange with the gateway on a fresh connection; a body
/// is a form unless a `content-type` header says otherwise.
pub async fn http_exchange(
    env: &Env,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> HttpReply {
    http_exchange_bytes(env, method, path, headers, body.as_bytes()).await
}

/// [`http_exchange`] with a body of any bytes (a photo, a multipart form).
pub async fn http_exchange_bytes(
    env: &Env,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpReply {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(env.gateway.addr)
        .await
        .unwrap();
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nhost: cogov.test\r\nconnection: close\r\n");
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty()
        && !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        request.push_str("content-type: application/x-www-form-urlencoded\r\n");
    }
    request.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    let mut raw_request = request.into_bytes();
    raw_request.extend_from_slice(body);
    // Read while writing, as a browser does: a server refusing a body too
    // large answers and closes before the body is all sent, and the write's
    // broken pipe is then no failure of the exchange.
    // Borrowed halves: an owned write half would shut the socket's writing
    // side when dropped, which a server may take for the client leaving.
    let (mut reader, mut writer) = stream.split();
    let write = async move {
        match writer.write_all(&raw_request).await {
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
                ) => {}
            other => other.unwrap(),
        }
    };
    let read = async move {
        let mut raw = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            match reader.read(&mut chunk).await {
                Ok(0) => break,
                Ok(n) => raw.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset && !raw.is_empty() => {
                    break;
                }
                Err(e) => panic!("reading the answer: {e}"),
            }
        }
        raw
    };
    let ((), raw) = tokio::join!(write, read);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an answer head");
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let body_bytes = raw[split + 4..].to_vec();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    // Chunked bodies: these clients ask little enough to read them whole.
    let body_bytes = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(&body_bytes)
    } else {
        body_bytes
    };
    HttpReply {
        status,
        head,
        body: String::from_utf8_lossy(&body_bytes).into_owned(),
        bytes: body_bytes,
    }
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(at) = body.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&body[..at]).unwrap();
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        if size == 0 {
            break;
        }
        let rest = &body[at + 2..];
        out.extend_from_slice(&rest[..size]);
        body = &rest[size + 2..];
    }
    out
}

/// Reports clutter in `courtyard` as `who`.
pub async fn report(
    env: &Env,
    who: Bearer,
    courtyard: &str,
    title: &str,
) -> cogov_proto::issues::Issue {
    env.issues(who)
        .report_issue(cogov_proto::issues::ReportIssueRequest {
            issue: Some(cogov_proto::issues::Issue {
                courtyard: courtyard.into(),
                sub_item: "subItems/clutter_piling".into(),
                title: title.into(),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner()
}

/// UpdatePerson of `person`'s contact preferences alone: whether their
/// notices go on to their phone, one by one or in a daily digest.
pub fn contact_preferences(
    person: &str,
    forward_notices: bool,
    daily_digest: bool,
) -> org::UpdatePersonRequest {
    org::UpdatePersonRequest {
        person: Some(org::Person {
            name: person.to_owned(),
            contact_preferences: Some(org::ContactPreferences {
                forward_notices,
                daily_digest,
            }),
            ..Default::default()
        }),
        update_mask: mask(&["contact_preferences"]),
    }
}
