//! An embedded iroh relay, for a district hub that members reach over the
//! WAN (`outpost serve --relay ADDR`). Traffic through it stays end-to-end
//! encrypted between members; the relay only forwards packets.

use crate::NetError;
use iroh_relay::server::{RelayConfig, Server, ServerConfig};
use std::net::SocketAddr;

pub struct Relay {
    server: Server,
}

impl Relay {
    /// Starts a relay serving plain HTTP on `bind` (put a TLS-terminating
    /// proxy in front of it on an untrusted network).
    pub async fn spawn(bind: SocketAddr) -> Result<Self, NetError> {
        let mut config = ServerConfig::default();
        config.relay = Some(RelayConfig::new(bind));
        let server = Server::spawn(config)
            .await
            .map_err(|e| NetError::Bind(format!("relay: {e}")))?;
        Ok(Self { server })
    }

    /// The relay's URL, for `outpost config --relay-url` on members' machines.
    pub fn url(&self) -> Option<String> {
        self.server.http_addr().map(|a| format!("http://{a}"))
    }

    pub async fn shutdown(self) {
        if let Err(e) = self.server.shutdown().await {
            tracing::debug!("relay shutdown: {e}");
        }
    }
}
