//! Compiles `proto/` with protox (a pure-Rust protobuf compiler), so that no
//! system `protoc` is needed, and writes the descriptor set for reflection.

use std::path::PathBuf;

use prost::Message;

const PROTO_ROOT: &str = "../../proto";

const FILES: &[&str] = &[
    "cogov/common/v1/types.proto",
    "cogov/common/v1/principal.proto",
    "cogov/common/v1/event.proto",
    "cogov/common/v1/notice.proto",
    "cogov/organizations/v1/resources.proto",
    "cogov/organizations/v1/organizations_service.proto",
    "cogov/organizations/v1/events.proto",
    "cogov/issues/v1/resources.proto",
    "cogov/issues/v1/issues_service.proto",
    "cogov/issues/v1/events.proto",
    "cogov/volunteers/v1/resources.proto",
    "cogov/volunteers/v1/volunteers_service.proto",
    "cogov/volunteers/v1/events.proto",
    "cogov/deliberation/v1/resources.proto",
    "cogov/deliberation/v1/deliberation_service.proto",
    "cogov/deliberation/v1/events.proto",
    "cogov/gateway/v1/gateway.proto",
    "cogov/gateway/v1/residents.proto",
    "google/rpc/status.proto",
    "google/rpc/error_details.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed={PROTO_ROOT}");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);

    let fds = protox::compile(FILES, [PROTO_ROOT])?;
    std::fs::write(out_dir.join("cogov_descriptor.bin"), fds.encode_to_vec())?;

    // Type names (`prost::Name`) let an event payload state its own type.
    let mut config = prost_build::Config::new();
    config.enable_type_names();
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        // Deterministic encoding of maps, so request fingerprints are stable.
        .btree_map(".")
        .compile_fds_with_config(fds, config)?;
    Ok(())
}
