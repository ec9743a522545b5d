//! The time bank: the ledger never goes below zero, also under concurrent
//! redemptions.

use cogov_kit::convert::timestamp;
use cogov_proto::volunteers::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(concurrent_redemptions_never_overdraw);

async fn concurrent_redemptions_never_overdraw(env: Env) {
    let w = World::build(&env, 2).await;
    let mut c = env.admin();
    // 6 approved hours at 10 points an hour: 60 points.
    let record = c
        .create_service_record(CreateServiceRecordRequest {
            service_record: Some(ServiceRecord {
                volunteer: w.volunteers_a[1].clone(),
                start_time: Some(timestamp(env.clock.now() - chrono::Duration::hours(7))),
                minutes: 360,
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    c.approve_service_record(ApproveServiceRecordRequest {
        name: record.name,
        ..Default::default()
    })
    .await
    .unwrap();

    // 16 concurrent redemptions of 7 points: at most 8 fit.
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let mut me = env.client(resident(&w.persons_a[1]));
        let volunteer = w.volunteers_a[1].clone();
        tasks.push(tokio::spawn(async move {
            me.redeem_points(RedeemPointsRequest {
                volunteer,
                points: 7,
                item: "理发券 Haircut voucher".into(),
                request_id: request_id(),
            })
            .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}"),
        }
    }
    assert_eq!(ok, 8);
    let account = c
        .get_points_account(GetPointsAccountRequest {
            name: format!("{}/pointsAccount", w.volunteers_a[1]),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((account.balance, account.redeemed), (4, 56));
    let ledger = c
        .list_points_entries(ListPointsEntriesRequest {
            parent: w.volunteers_a[1].clone(),
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert_eq!(ledger.len(), 9);
    assert!(ledger.iter().all(|e| e.balance_after >= 0));
    assert_eq!(ledger[0].balance_after, 4, "newest first");
    assert_eq!(ledger.last().unwrap().kind, PointsEntryKind::Earn as i32);
    let sum: i64 = ledger.iter().map(|e| e.points).sum();
    assert_eq!(sum, 4, "the ledger adds up to the balance");

    // The policy changes the rate for later approvals; only street admins change it.
    let policy = c
        .get_time_bank_policy(GetTimeBankPolicyRequest {
            name: "timeBankPolicy".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (policy.points_per_hour, policy.badge_hours.as_slice()),
        (10, &[10, 50, 100][..])
    );
    assert_status(
        env.client(community_admin(&w.community_a))
            .update_time_bank_policy(UpdateTimeBankPolicyRequest {
                policy: Some(TimeBankPolicy {
                    name: "timeBankPolicy".into(),
                    points_per_hour: 20,
                    ..Default::default()
                }),
                update_mask: mask(&["points_per_hour"]),
            })
            .await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
    assert_bad_field(
        c.update_time_bank_policy(UpdateTimeBankPolicyRequest {
            policy: Some(TimeBankPolicy {
                name: "timeBankPolicy".into(),
                badge_hours: vec![50, 10],
                ..Default::default()
            }),
            update_mask: mask(&["badge_hours"]),
        })
        .await,
        "policy.badge_hours",
    );
}
