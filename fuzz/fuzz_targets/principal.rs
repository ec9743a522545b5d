//! Signed principal metadata (`cogov_kit::auth`): whatever a caller puts in
//! the principal headers, a service either refuses it or accepts exactly
//! the principal the gateway signed; a tampered assertion or signature
//! never yields another principal.

#![no_main]

use chrono::{TimeZone, Utc};
use cogov_kit::auth::{Assistant, Authenticator, PRINCIPAL_HEADER, Principal, SIGNATURE_HEADER};
use cogov_kit::clock::Clock;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use tonic::metadata::MetadataMap;

#[derive(Arbitrary, Debug)]
enum Who {
    StreetAdmin(String),
    CommunityAdmin(String, [u8; 16]),
    Partner([u8; 16], String),
    /// A resident, and the staff member acting for them, if one is.
    Resident([u8; 16], Option<(String, Option<[u8; 16]>)>),
    Service(String),
}

impl Who {
    fn principal(&self) -> Principal {
        let id = uuid::Uuid::from_bytes;
        match self {
            Who::StreetAdmin(s) => Principal::StreetAdmin { subject: s.clone() },
            Who::CommunityAdmin(s, c) => Principal::CommunityAdmin {
                subject: s.clone(),
                community: id(*c),
            },
            Who::Partner(o, k) => Principal::Partner {
                organization: id(*o),
                key: k.clone(),
            },
            Who::Resident(p, assisted) => Principal::Resident {
                person: id(*p),
                assisted_by: assisted.as_ref().map(|(subject, community)| Assistant {
                    subject: subject.clone(),
                    community: community.map(id),
                }),
            },
            Who::Service(n) => Principal::Service { name: n.clone() },
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    who: Who,
    ttl_seconds: i16,
    /// Replacements for the two headers' wire values (base64 text).
    assertion: Option<Vec<u8>>,
    signature: Option<Vec<u8>>,
    /// A byte of the assertion's wire value to flip.
    flip: Option<(u16, u8)>,
}

fuzz_target!(|input: Input| {
    let clock = Clock::manual(Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap());
    let auth = Authenticator::new(b"internal secret", None, clock);
    let principal = input.who.principal();
    // Some principals cannot be asserted (an empty service name, say):
    // they are refused even when genuinely signed.
    let assertable = Principal::from_proto(&principal.to_proto()).as_ref() == Some(&principal);
    let mut signed = MetadataMap::new();
    auth.attach(
        &mut signed,
        &principal,
        chrono::Duration::seconds(i64::from(input.ttl_seconds)),
    );
    let mut headers = signed.into_headers();
    let mut tampered = false;
    for (name, replacement) in [
        (PRINCIPAL_HEADER, input.assertion),
        (SIGNATURE_HEADER, input.signature),
    ] {
        if let Some(bytes) = replacement
            && let Ok(value) = http::HeaderValue::from_bytes(&bytes)
        {
            tampered |= headers.get(name) != Some(&value);
            headers.insert(name, value);
        }
    }
    if let Some((at, xor)) = input.flip
        && xor != 0
        && let Some(value) = headers.get(PRINCIPAL_HEADER)
    {
        let mut bytes = value.as_bytes().to_vec();
        if !bytes.is_empty() {
            let i = usize::from(at) % bytes.len();
            bytes[i] ^= xor;
            if let Ok(value) = http::HeaderValue::from_bytes(&bytes) {
                headers.insert(PRINCIPAL_HEADER, value);
                tampered = true;
            }
        }
    }
    match auth.authenticate(&MetadataMap::from_headers(headers)) {
        // A different encoding of the same bytes may still verify; it can
        // only ever be the principal that was signed.
        Ok(found) => {
            assert_eq!(found, principal);
            assert!(input.ttl_seconds > 0, "an expired assertion was accepted");
            assert!(assertable, "an unassertable principal was accepted");
        }
        Err(_) => assert!(
            tampered || input.ttl_seconds <= 0 || !assertable,
            "a genuine assertion was refused"
        ),
    }
});
