//! The `cogov` binary as people run it: `cogov up` for a newcomer, and the
//! roles run apart (`cogov serve`) under faults.

mod app;
mod console;
mod fault;
mod processes;
mod reads;
mod replicas;
mod up;

use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

/// Presents the credential printed by `cogov up`.
#[derive(Clone)]
pub struct Bearer(String);

impl Interceptor for Bearer {
    fn call(&mut self, mut r: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        r.metadata_mut().insert(
            "authorization",
            format!("Bearer {}", self.0).parse().unwrap(),
        );
        Ok(r)
    }
}

pub type Signed = InterceptedService<Channel, Bearer>;

/// Stops the server if the test fails half-way.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free loopback port for a server that may restart on it.
pub fn free_port() -> u16 {
    free_ports(1)
}

/// The first of `n` consecutive free loopback ports (`cogov up` takes ten
/// from its base port). They lie below Linux's ephemeral range (32768 and
/// up), where the operating system would otherwise hand them to this
/// process's outgoing connections at any moment; each call gets a block of
/// its own.
pub fn free_ports(n: u16) -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    const LOW: u16 = 20_000;
    const BLOCKS: u16 = 1_200;
    static NEXT: AtomicU16 = AtomicU16::new(0);
    assert!(n <= 10, "blocks are ten ports wide");
    // Test binaries run side by side: start each at its own place.
    let offset = (std::process::id() % u32::from(BLOCKS)) as u16;
    for _ in 0..BLOCKS {
        let block = (offset + NEXT.fetch_add(1, Ordering::Relaxed)) % BLOCKS;
        let base = LOW + block * 10;
        let all_free =
            (base..base + n).all(|port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok());
        if all_free {
            return base;
        }
    }
    panic!("no {n} free loopback ports between {LOW} and 32000");
}
