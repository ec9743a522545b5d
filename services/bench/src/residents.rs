//! What residents cost the gateway: checking a resident's access token on
//! every call against checking a staff token, in process and through the
//! gateway, and a sign-in from code to session.

use std::time::{Duration, Instant};

use cogov_proto::gateway::gateway_service_client::GatewayServiceClient;
use cogov_proto::gateway::residents_service_client::ResidentsServiceClient;
use cogov_proto::gateway::*;
use cogov_proto::organizations as org;
use cogov_proto::organizations::organizations_service_client::OrganizationsServiceClient;
use tonic::service::Interceptor;

use crate::{Stack, ms, percentiles};

/// Checks timed in process.
const CHECKS: u32 = 100_000;
/// Staff tokens checked once each, in process.
const FIRST_CHECKS: u32 = 5_000;
/// Sign-ins timed (the per-address limit allows 30 an hour).
const SIGN_INS: usize = 25;
/// Calls through the gateway per kind of caller.
const CALLS: usize = 4_000;

#[derive(Clone)]
struct Bearer(String);

impl Interceptor for Bearer {
    fn call(&mut self, mut r: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        r.metadata_mut().insert(
            "authorization",
            format!("Bearer {}", self.0).parse().expect("ascii"),
        );
        Ok(r)
    }
}

fn per_check(elapsed: Duration, checks: u32) -> String {
    format!("{:.2} µs", elapsed.as_secs_f64() * 1e6 / f64::from(checks))
}

/// GetCaller `CALLS` times at concurrency 16 as `who`: calls a second.
async fn get_callers(stack: &Stack, who: &str) -> f64 {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let mut c = GatewayServiceClient::with_interceptor(
            stack.gateway_channel.clone(),
            Bearer(who.into()),
        );
        tasks.push(tokio::spawn(async move {
            for _ in 0..CALLS / 16 {
                c.get_caller(GetCallerRequest {}).await.expect("GetCaller");
            }
        }));
    }
    for t in tasks {
        t.await.expect("a caller");
    }
    CALLS as f64 / started.elapsed().as_secs_f64()
}

pub async fn measure(stack: &Stack) {
    // Residents with numbers, registered by staff in the first courtyard.
    let (courtyard, community) = stack.courtyards[0];
    let mut orgs = OrganizationsServiceClient::with_interceptor(
        stack.gateway_channel.clone(),
        Bearer(stack.token.clone()),
    );
    let phones: Vec<String> = (0..SIGN_INS).map(|i| format!("1370000{i:04}")).collect();
    for (i, phone) in phones.iter().enumerate() {
        orgs.create_person(org::CreatePersonRequest {
            person: Some(org::Person {
                display_name: format!("resident {i}"),
                community: cogov_kit::names::format("communities", community),
                courtyard: cogov_kit::names::format("courtyards", courtyard),
                phone: phone.clone(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("a resident");
    }

    // A sign-in: the code asked for, received, and exchanged for tokens.
    let mut public = ResidentsServiceClient::new(stack.gateway_channel.clone());
    let mut times = Vec::new();
    let mut tokens = None;
    for phone in &phones {
        let e164 = cogov_kit::phone::normalize(phone).expect("a mobile number");
        let started = Instant::now();
        public
            .send_sign_in_code(SendSignInCodeRequest {
                phone: phone.clone(),
            })
            .await
            .expect("SendSignInCode");
        let code = stack.phones.code(&e164, 1).await;
        let signed = public
            .sign_in(SignInRequest {
                phone: phone.clone(),
                code,
                device: "bench".into(),
            })
            .await
            .expect("SignIn")
            .into_inner();
        times.push(started.elapsed());
        tokens = match signed.outcome {
            Some(sign_in_response::Outcome::Tokens(t)) => Some(t),
            other => panic!("no session: {other:?}"),
        };
    }
    let (p50, p99) = percentiles(times);
    println!(
        "| resident sign-in: SendSignInCode, the code by HTTP POST, SignIn ({SIGN_INS} residents) | p50 {}, p99 {} |",
        ms(p50),
        ms(p99)
    );
    let resident = tokens.expect("a session").access_token;

    // The checks themselves, in process: a staff token the gateway has not
    // seen (the signature checked), then one it has (remembered).
    let gw = &stack.gw;
    let unseen: Vec<String> = (0..FIRST_CHECKS)
        .map(|i| {
            gw.staff_tokens
                .issue(&format!("bench staff {i}"), "street_admin", "", 3600)
                .expect("a staff token")
        })
        .collect();
    let started = Instant::now();
    for token in &unseen {
        gw.staff_tokens.verify(token).expect("a staff token");
    }
    let first_check = started.elapsed();
    let started = Instant::now();
    for _ in 0..CHECKS {
        gw.staff_tokens.verify(&stack.token).expect("a staff token");
    }
    let staff_check = started.elapsed();
    let started = Instant::now();
    for _ in 0..CHECKS {
        gw.residents
            .verify(&gw.ctx.db, &gw.ctx.clock, &resident)
            .await
            .expect("a resident's token");
    }
    let resident_check = started.elapsed();
    println!(
        "| checking a credential in process: staff token (JWT, HS256) first seen / remembered / resident access token | {} / {} / {} a check |",
        per_check(first_check, FIRST_CHECKS),
        per_check(staff_check, CHECKS),
        per_check(resident_check, CHECKS)
    );
    let staff_rate = get_callers(stack, &stack.token).await;
    let resident_rate = get_callers(stack, &resident).await;
    println!(
        "| GetCaller through the gateway, concurrency 16: as staff / as a resident | {staff_rate:.0} / {resident_rate:.0} calls/s |"
    );
}
