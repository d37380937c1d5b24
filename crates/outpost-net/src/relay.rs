//! An embedded iroh relay, for a district hub that members reach over the
//! WAN (`outpost serve --relay ADDR`). Traffic through it stays end-to-end
//! encrypted between members; the relay only forwards packets, and only
//! for endpoints the layer above admits ([`RelayAccess`]: members of a
//! community the hub holds). With a certificate the operator provides it
//! serves TLS ([`RelayTls`]).

use crate::NetError;
use iroh_relay::server::{
    Access, AccessControl, CertConfig, ClientRequest, RelayConfig, Server, ServerConfig, TlsConfig,
};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Whether the relay forwards for an endpoint (its id, as the relay
/// handshake proved it). Called once per relay connection; must be cheap.
pub type RelayAccess = Arc<dyn Fn(&[u8; 32]) -> bool + Send + Sync>;

/// TLS for the relay: HTTPS on `https_bind` with the operator's PEM
/// certificate chain and private key (plain HTTP on the relay address then
/// only answers captive-portal probes).
#[derive(Debug, Clone)]
pub struct RelayTls {
    /// Where HTTPS listens (e.g. 0.0.0.0:443).
    pub https_bind: SocketAddr,
    /// The certificate chain, PEM.
    pub cert: PathBuf,
    /// Its private key, PEM.
    pub key: PathBuf,
}

struct Gate(RelayAccess);

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("members-only relay access")
    }
}

impl AccessControl for Gate {
    async fn on_connect(&self, request: &ClientRequest) -> Access {
        let id = request.endpoint_id();
        if (self.0)(id.as_bytes()) {
            Access::Allow
        } else {
            tracing::debug!(peer = %id.fmt_short(), "relay refused a stranger");
            Access::Deny {
                reason: Some("this relay forwards only for members of its communities".into()),
            }
        }
    }
}

pub struct Relay {
    server: Server,
    tls: bool,
}

fn tls_config(tls: &RelayTls) -> Result<TlsConfig, NetError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |what: &str, path: &std::path::Path, e: &dyn std::fmt::Display| {
        NetError::Config(format!("relay TLS {what} {}: {e}", path.display()))
    };
    let certs = CertificateDer::pem_file_iter(&tls.cert)
        .map_err(|e| bad("certificate", &tls.cert, &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad("certificate", &tls.cert, &e))?;
    if certs.is_empty() {
        return Err(bad("certificate", &tls.cert, &"no certificate in the file"));
    }
    let key = PrivateKeyDer::from_pem_file(&tls.key).map_err(|e| bad("key", &tls.key, &e))?;
    let server_config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| NetError::Config(format!("relay TLS: {e}")))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| {
        NetError::Config(format!(
            "relay TLS: the key does not fit the certificate ({e})"
        ))
    })?;
    Ok(TlsConfig::new(
        tls.https_bind,
        CertConfig::Manual { server_config },
    ))
}

impl Relay {
    /// Starts a relay on `bind` that forwards only for endpoints `access`
    /// admits; over TLS when `tls` is given, else plain HTTP (fine on a
    /// LAN or behind a TLS-terminating proxy).
    pub async fn spawn(
        bind: SocketAddr,
        access: RelayAccess,
        tls: Option<&RelayTls>,
    ) -> Result<Self, NetError> {
        let mut relay = RelayConfig::new(bind);
        relay.access = Arc::new(Gate(access));
        relay.tls = tls.map(tls_config).transpose()?;
        let mut config = ServerConfig::default();
        config.relay = Some(relay);
        let server = Server::spawn(config)
            .await
            .map_err(|e| NetError::Bind(format!("relay: {e}")))?;
        Ok(Self {
            server,
            tls: tls.is_some(),
        })
    }

    /// The relay's URL by address, for `outpost config --relay-url` on
    /// members' machines (with TLS, members use the host name the
    /// certificate names, at the HTTPS port).
    pub fn url(&self) -> Option<String> {
        if self.tls {
            self.server.https_addr().map(|a| format!("https://{a}"))
        } else {
            self.server.http_addr().map(|a| format!("http://{a}"))
        }
    }

    pub async fn shutdown(self) {
        if let Err(e) = self.server.shutdown().await {
            tracing::debug!("relay shutdown: {e}");
        }
    }
}
