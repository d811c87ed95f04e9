//! TLS for OTLP: one `rustls` client configuration per destination, built
//! from the specification's variables, and failures told in words.
//!
//! # Why rustls with ring
//!
//! rustls is the Rust ecosystem's TLS (hyper, tonic, reqwest use it), memory
//! safe, with no system OpenSSL to match at build or run time. Its crypto
//! provider decides what a build needs: `ring` compiles a little C and
//! assembly with the machine's C compiler, nothing else; `aws-lc-rs`, the
//! rustls default, also needs cmake (and more build time). tracelink uses
//! `ring`, and the same configuration serves both protocols: hyper's client
//! for HTTP/protobuf, and the tonic channel for gRPC, through one connector
//! (`hyper-rustls`), so the two behave alike.
//!
//! # Trust
//!
//! Without `OTEL_EXPORTER_OTLP_CERTIFICATE` the server is verified against
//! the platform's trust store (`rustls-native-certs`: the system's CA bundle
//! on Linux, the keychain on macOS, the certificate store on Windows). With
//! it, the PEM file's certificates **replace** the system roots, as the Go,
//! Java and Python SDKs do: a private CA is trusted, and nothing else.
//! `..._CLIENT_CERTIFICATE` and `..._CLIENT_KEY` (PEM: the chain, and a
//! PKCS#8, PKCS#1 or SEC1 key) are sent when the server asks for one (mTLS).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};

/// The files one destination's TLS is built from, each with the variable
/// (or builder method) that named it, for messages.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct TlsFiles {
    /// Trusted CAs, replacing the system roots.
    pub(crate) certificate: Option<(&'static str, PathBuf)>,
    /// The client's certificate chain (mTLS).
    pub(crate) client_certificate: Option<(&'static str, PathBuf)>,
    /// The client's private key (mTLS).
    pub(crate) client_key: Option<(&'static str, PathBuf)>,
}

/// A TLS setting that could not be used: which variable, which file, why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TlsProblem {
    pub(crate) variable: &'static str,
    pub(crate) path: PathBuf,
    pub(crate) reason: String,
    /// What is done instead.
    pub(crate) fallback: &'static str,
}

/// The client configuration for `files`, and what could not be used of
/// them. A bad CA file falls back to the system roots, a bad or mismatched
/// client certificate or key to no client certificate: each is one
/// problem, named, and never a panic.
/// Its ALPN is left to the connector, which sets it for the protocol.
pub(crate) fn client_config(files: &TlsFiles) -> (ClientConfig, Vec<TlsProblem>) {
    let mut problems = Vec::new();
    let roots = match &files.certificate {
        Some((variable, path)) => match trusted(path) {
            Ok(roots) => roots,
            Err(reason) => {
                problems.push(TlsProblem {
                    variable,
                    path: path.clone(),
                    reason,
                    fallback: "the system's trusted roots",
                });
                system_roots()
            }
        },
        None => system_roots(),
    };
    // Deprecated in rustls 0.23.48 because ring has no post-quantum key
    // exchange (X25519MLKEM768): aws-lc-rs has it, but needs cmake to build.
    // Every OTLP server negotiates X25519 or P-256, which ring has.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder =
        match ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions() {
            Ok(builder) => builder.with_root_certificates(roots),
            // UNWRAP: ring supports the default protocol versions (TLS 1.2, 1.3);
            // rustls refuses only a provider without their cipher suites.
            Err(error) => unreachable!("ring lacks the default TLS versions: {error}"),
        };
    let config = match client_identity(files, &mut problems) {
        Some((chain, key, (key_variable, key_path))) => {
            match builder.clone().with_client_auth_cert(chain, key) {
                Ok(config) => config,
                Err(error) => {
                    problems.push(TlsProblem {
                        variable: key_variable,
                        path: key_path,
                        reason: match error {
                            rustls::Error::InconsistentKeys(_) => {
                                "the key does not match the client certificate".to_owned()
                            }
                            other => format!("the key can not be used: {other}"),
                        },
                        fallback: "no client certificate",
                    });
                    builder.with_no_client_auth()
                }
            }
        }
        None => builder.with_no_client_auth(),
    };
    (config, problems)
}

/// The client certificate chain and key, when both are given and readable.
fn client_identity(
    files: &TlsFiles,
    problems: &mut Vec<TlsProblem>,
) -> Option<(
    Vec<CertificateDer<'static>>,
    PrivateKeyDer<'static>,
    (&'static str, PathBuf),
)> {
    let missing = |(variable, path): &(&'static str, PathBuf), other: &str| TlsProblem {
        variable,
        path: path.clone(),
        reason: format!("{other} is not set: a client certificate needs both"),
        fallback: "no client certificate",
    };
    let (cert, key) = match (&files.client_certificate, &files.client_key) {
        (None, None) => return None,
        (Some(cert), None) => {
            problems.push(missing(cert, "the client key"));
            return None;
        }
        (None, Some(key)) => {
            problems.push(missing(key, "the client certificate"));
            return None;
        }
        (Some(cert), Some(key)) => (cert, key),
    };
    let problem = |(variable, path): &(&'static str, PathBuf), reason| TlsProblem {
        variable,
        path: path.clone(),
        reason,
        fallback: "no client certificate",
    };
    let chain = match certificates(&cert.1) {
        Ok(chain) => chain,
        Err(reason) => {
            problems.push(problem(cert, reason));
            return None;
        }
    };
    let private_key = match read(&key.1).and_then(|pem| {
        PrivateKeyDer::from_pem_slice(&pem).map_err(|error| pem_error(&error, "private key"))
    }) {
        Ok(private_key) => private_key,
        Err(reason) => {
            problems.push(problem(key, reason));
            return None;
        }
    };
    Some((chain, private_key, key.clone()))
}

/// The CAs in a PEM file, as a root store of their own.
fn trusted(path: &Path) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    for cert in certificates(path)? {
        roots
            .add(cert)
            .map_err(|error| format!("a certificate in it is not a usable CA: {error}"))?;
    }
    Ok(roots)
}

/// Every certificate in a PEM file; at least one.
fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = read(path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| pem_error(&error, "certificate"))?;
    if certs.is_empty() {
        return Err("it holds no PEM certificate (-----BEGIN CERTIFICATE-----)".to_owned());
    }
    Ok(certs)
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|error| match error.kind() {
        io::ErrorKind::NotFound => "no such file".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => format!("can not be read: {error}"),
    })
}

fn pem_error(error: &rustls::pki_types::pem::Error, what: &str) -> String {
    match error {
        rustls::pki_types::pem::Error::NoItemsFound => {
            format!("it holds no PEM {what}")
        }
        other => format!("it is not a valid PEM {what}: {other:?}"),
    }
}

/// The platform's trusted roots, loaded once per process.
fn system_roots() -> RootCertStore {
    static ROOTS: std::sync::OnceLock<RootCertStore> = std::sync::OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            let mut roots = RootCertStore::empty();
            let (added, _ignored) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                crate::diag::diag!(
                    Warn,
                    "no trusted root certificates found on this system ({}): https:// \
                     endpoints will fail; install the CA bundle (ca-certificates) or set \
                     OTEL_EXPORTER_OTLP_CERTIFICATE",
                    found
                        .errors
                        .first()
                        .map_or_else(|| "none installed".to_owned(), ToString::to_string)
                );
            }
            roots
        })
        .clone()
}

/// A failed export's TLS reason in words, when TLS is why it failed. The
/// SDK hands export errors over as text (`OTelSdkError` keeps no source),
/// so this reads the text rustls's errors leave in it.
pub(crate) fn explain(error: &str) -> Option<&'static str> {
    const WORDS: &[(&[&str], &str)] = &[
        (
            &["UnknownIssuer"],
            "the server's certificate is not signed by a trusted CA (to trust a private \
             CA, set OTEL_EXPORTER_OTLP_CERTIFICATE to its PEM file)",
        ),
        (
            &["certificate expired", "peer certificate: Expired"],
            "the server's certificate has expired",
        ),
        (
            &["certificate not valid yet", "peer certificate: NotValidYet"],
            "the server's certificate is not valid yet (is the clock right?)",
        ),
        (
            &["not valid for name", "peer certificate: NotValidForName"],
            "the server's certificate is not valid for the endpoint's host name",
        ),
        (
            &["peer certificate: Revoked"],
            "the server's certificate is revoked",
        ),
        (
            &[
                "fatal alert: CertificateRequired",
                "fatal alert: BadCertificate",
                "fatal alert: UnknownCA",
                "fatal alert: AccessDenied",
                "fatal alert: CertificateUnknown",
            ],
            "the server refused the client certificate, or wants one (set \
             OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY)",
        ),
        (
            &[
                "fatal alert: ProtocolVersion",
                "fatal alert: HandshakeFailure",
            ],
            "the server and tracelink share no TLS version or cipher suite (TLS 1.2 and \
             1.3 are supported)",
        ),
        (
            &["corrupt message of type InvalidContentType"],
            "the server did not answer with TLS (is the endpoint plain http://?)",
        ),
    ];
    WORDS
        .iter()
        .find(|(needles, _)| needles.iter().any(|needle| error.contains(needle)))
        .map(|(_, words)| *words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files_in(dir: &Path, pairs: &[(&str, &str)]) -> Vec<PathBuf> {
        pairs
            .iter()
            .map(|(name, text)| {
                let path = dir.join(name);
                std::fs::write(&path, text).expect("write");
                path
            })
            .collect()
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tracelink-tls-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        dir
    }

    #[test]
    fn a_missing_or_empty_ca_file_is_one_problem_and_the_system_roots() {
        let dir = temp_dir("ca");
        let paths = files_in(
            &dir,
            &[("empty.pem", ""), ("junk.pem", "not a certificate")],
        );
        for (path, reason) in [
            (dir.join("absent.pem"), "no such file"),
            (paths[0].clone(), "holds no PEM certificate"),
            (paths[1].clone(), "holds no PEM certificate"),
        ] {
            let files = TlsFiles {
                certificate: Some(("OTEL_EXPORTER_OTLP_CERTIFICATE", path.clone())),
                ..TlsFiles::default()
            };
            let (_, problems) = client_config(&files);
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert_eq!(problems[0].variable, "OTEL_EXPORTER_OTLP_CERTIFICATE");
            assert_eq!(problems[0].path, path);
            assert!(problems[0].reason.contains(reason), "{:?}", problems[0]);
            assert_eq!(problems[0].fallback, "the system's trusted roots");
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn half_a_client_identity_is_a_problem() {
        let files = TlsFiles {
            client_key: Some(("OTEL_EXPORTER_OTLP_CLIENT_KEY", PathBuf::from("/k.pem"))),
            ..TlsFiles::default()
        };
        let (config, problems) = client_config(&files);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].variable, "OTEL_EXPORTER_OTLP_CLIENT_KEY");
        assert!(problems[0].reason.contains("client certificate is not set"));
        assert!(!config.client_auth_cert_resolver.has_certs());
    }

    #[test]
    fn tls_failures_in_words() {
        use rustls::{AlertDescription, CertificateError, Error};
        let text = |error: Error| format!("client error (Connect): {error}");
        for (error, words) in [
            (
                Error::InvalidCertificate(CertificateError::UnknownIssuer),
                "not signed by a trusted CA",
            ),
            (
                Error::InvalidCertificate(CertificateError::Expired),
                "has expired",
            ),
            (
                Error::InvalidCertificate(CertificateError::NotValidForName),
                "not valid for the endpoint's host name",
            ),
            (
                Error::AlertReceived(AlertDescription::CertificateRequired),
                "refused the client certificate",
            ),
            (
                Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType),
                "did not answer with TLS",
            ),
        ] {
            let text = text(error);
            assert!(explain(&text).is_some_and(|w| w.contains(words)), "{text}");
        }
        assert_eq!(explain("tcp connect error: Connection refused"), None);
    }
}
