//! Browsers: gRPC-Web over HTTP/1.1 on the gateway's port.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::both;
use crate::support::*;

both!(grpc_web_over_http1);

async fn grpc_web_over_http1(env: Env) {
    let token = env.token("street_admin", "");
    let call = async |credential: &str| {
        let mut stream = tokio::net::TcpStream::connect(env.gateway.addr)
            .await
            .unwrap();
        let head = format!(
            "POST /cogov.gateway.v1.GatewayService/GetCaller HTTP/1.1\r\n\
             Host: cogov\r\n\
             Content-Type: application/grpc-web+proto\r\n\
             Accept: application/grpc-web+proto\r\n\
             X-Grpc-Web: 1\r\n\
             Authorization: Bearer {credential}\r\n\
             Content-Length: 5\r\n\
             Connection: close\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        // An empty GetCallerRequest: uncompressed, zero length.
        stream.write_all(&[0, 0, 0, 0, 0]).await.unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.unwrap();
        String::from_utf8_lossy(&response).into_owned()
    };
    let ok = call(&token).await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert!(
        ok.to_ascii_lowercase().contains("application/grpc-web"),
        "{ok}"
    );
    assert!(ok.contains("grpc-status:0"), "{ok}");
    assert!(
        ok.contains("street_admin") || ok.contains("tester"),
        "the caller: {ok}"
    );
    let refused = call("cgk_nope").await;
    assert!(
        refused.contains("grpc-status: 16") || refused.contains("grpc-status:16"),
        "{refused}"
    );
}
