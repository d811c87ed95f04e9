//! Throwaway certificates for TLS tests, made at test time with `rcgen`: a
//! CA, a server certificate for `localhost` and 127.0.0.1 (valid, expired,
//! or for another name), and a client certificate, as PEM files in a temp
//! directory; and the server side's `rustls` configuration.

#![allow(dead_code, unreachable_pub)] // each test binary uses a part, through `mod`

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A CA and what it signed, as files.
pub struct Pki {
    dir: PathBuf,
    /// The CA's certificate (what `OTEL_EXPORTER_OTLP_CERTIFICATE` names).
    pub ca: PathBuf,
    /// The server's certificate chain and key.
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    /// A client certificate signed by the CA, and its key.
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    /// A key that is not the client certificate's.
    pub other_key: PathBuf,
}

/// Which server certificate to issue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerCert {
    /// For `localhost` and 127.0.0.1, valid now.
    Valid,
    /// For `localhost` and 127.0.0.1, expired a year ago.
    Expired,
    /// Valid, but for `collector.example.com` only.
    OtherName,
}

impl Pki {
    /// A new CA in a new temp directory named after `name`.
    pub fn new(name: &str, server: ServerCert) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "tracelink-pki-{name}-{}-{:x}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        std::fs::create_dir_all(&dir).expect("pki dir");

        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params
            .distinguished_name
            .push(DnType::CommonName, format!("tracelink test CA {name}"));
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate().expect("server key");
        let names = match server {
            ServerCert::OtherName => vec!["collector.example.com".to_owned()],
            _ => vec!["localhost".to_owned()],
        };
        let mut params = CertificateParams::new(names).expect("server params");
        if server != ServerCert::OtherName {
            params
                .subject_alt_names
                .push(SanType::IpAddress([127, 0, 0, 1].into()));
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        if server == ServerCert::Expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let server_cert = params.signed_by(&server_key, &issuer).expect("server cert");

        let client_key = KeyPair::generate().expect("client key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("client params");
        params
            .distinguished_name
            .push(DnType::CommonName, "tracelink test client");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client_cert = params.signed_by(&client_key, &issuer).expect("client cert");
        let other_key = KeyPair::generate().expect("other key");

        let write = |file: &str, pem: String| {
            let path = dir.join(file);
            std::fs::write(&path, pem).expect("write pem");
            path
        };
        Self {
            ca: write("ca.pem", ca_cert.pem()),
            server_cert: write("server.pem", server_cert.pem()),
            server_key: write("server.key", server_key.serialize_pem()),
            client_cert: write("client.pem", client_cert.pem()),
            client_key: write("client.key", client_key.serialize_pem()),
            other_key: write("other.key", other_key.serialize_pem()),
            dir,
        }
    }

    /// The directory the files are in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The server's TLS configuration; with `require_client`, a client
    /// certificate signed by this CA is required (mTLS). ALPN offers `h2`
    /// and `http/1.1`.
    pub fn server_config(&self, require_client: bool) -> Arc<rustls::ServerConfig> {
        #[allow(deprecated)] // ring has no post-quantum key exchange; fine for a test
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("TLS versions");
        let builder = if require_client {
            let mut roots = rustls::RootCertStore::empty();
            for cert in certs(&self.ca) {
                roots.add(cert).expect("CA");
            }
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                    .build()
                    .expect("client verifier");
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let key = PrivateKeyDer::from_pem_file(&self.server_key).expect("server key");
        let mut config = builder
            .with_single_cert(certs(&self.server_cert), key)
            .expect("server config");
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Arc::new(config)
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn certs(path: &Path) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_file_iter(path)
        .expect("pem file")
        .collect::<Result<_, _>>()
        .expect("certificates")
}
