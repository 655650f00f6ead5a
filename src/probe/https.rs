//! The policy fetch, exactly as a sender does it (RFC 8461 §3.3): `GET
//! https://mta-sts.DOMAIN/.well-known/mta-sts.txt` from one chosen address, no redirects
//! followed, no proxy, no HTTP caching or conditional headers, no compression, a time limit and
//! a body cap (one byte past the cap is read to detect an oversized policy).
//!
//! Two connections are made to the address, side by side. The first only completes a TLS
//! handshake with tokio-rustls, which yields the negotiated version and cipher suite (reqwest
//! does not expose them) and the certificate verdicts of [`super::tls`]. The second is the
//! reqwest fetch itself, with the same recording verifier, so an untrusted or misnamed
//! certificate still lets the body be read and shown, labelled by the verdicts.

use std::error::Error as StdError;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::RootCertStore;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::tls::{self, Recorder};
use super::{root_store, NetworkConfig};
use crate::escape::{escape_bytes, escape_str};
use crate::observe::{
    whole_millis, FetchFailure, FetchObservation, FetchStep, HandshakeObservation, HttpResponse,
    NotContacted, TlsObservation,
};

/// The path RFC 8461 §3.2 fixes.
pub const POLICY_PATH: &str = "/.well-known/mta-sts.txt";
const USER_AGENT: &str = concat!("mtasts/", env!("CARGO_PKG_VERSION"), " (MTA-STS auditor)");
/// Failure details longer than this are cut; error chains can quote large remote data.
const MAX_DETAIL: usize = 1000;

/// Fetches the policy of `host` from `ip` (port `config.https_port`). Never fails: every
/// failure is described in the observation.
///
/// `elapsed` covers the fetch connection (connect, TLS, request, body) as a sender experiences
/// it; when the handshake-only connection fails, it covers that connection instead, and the
/// fetch beside it is abandoned (it would fail at the same step).
pub async fn fetch_policy(config: &NetworkConfig, host: &str, ip: IpAddr) -> FetchObservation {
    if let Some(reason) = super::refuse_connection(config, ip) {
        return FetchObservation {
            ip,
            elapsed: Duration::ZERO,
            tls: None,
            result: Err(failure(FetchStep::Connect, false, reason)),
            not_contacted: Some(NotContacted::NonPublic),
        };
    }
    let addr = SocketAddr::new(ip, config.https_port);
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let roots = root_store(&config.extra_roots);
    let limits = &config.limits;

    let recorder = Recorder::new();
    // reqwest's own total timeout covers the body; this outer one is a second bound.
    let outer = limits.fetch_timeout.saturating_add(Duration::from_secs(1));
    let fetch = async {
        let started = Instant::now();
        let result =
            match tokio::time::timeout(outer, fetch(config, &host, addr, roots.clone(), &recorder))
                .await
            {
                Ok(result) => result,
                Err(_) => Err(failure(
                    FetchStep::Http,
                    true,
                    format!("no complete answer within {} seconds", outer.as_secs()),
                )),
            };
        (result, whole_millis(started.elapsed()))
    };
    let mut fetch = std::pin::pin!(fetch);
    // The two connections run side by side: the fetch needs nothing of the handshake-only
    // connection, which would otherwise hold it back by two round trips (issue 11).
    let started = Instant::now();
    let mut handshake = std::pin::pin!(handshake(
        Arc::clone(&roots),
        &host,
        addr,
        limits.step_timeout
    ));
    let mut fetched = None;
    let tls = loop {
        tokio::select! {
            tls = &mut handshake => break tls,
            done = &mut fetch, if fetched.is_none() => fetched = Some(done),
        }
    };
    let tls = match tls {
        Ok(tls) => tls,
        Err(failure) => {
            return FetchObservation {
                ip,
                elapsed: whole_millis(started.elapsed()),
                tls: None,
                result: Err(failure),
                not_contacted: None,
            }
        }
    };
    let (result, elapsed) = match fetched {
        Some(done) => done,
        None => fetch.await,
    };
    FetchObservation {
        ip,
        elapsed,
        // The handshake-only connection knows the version and suite; fall back to what the
        // fetch's own handshake recorded.
        tls: tls.or_else(|| tls::observation(&recorder, None, None)),
        result,
        not_contacted: None,
    }
}

/// A TLS handshake with `host` at `ip` (port `port`, else the HTTPS port), nothing sent after
/// it: an `https:` report URL as a reporter sees it before posting (RFC 8460 §5.4).
pub async fn tls_handshake(
    config: &NetworkConfig,
    host: &str,
    ip: IpAddr,
    port: Option<u16>,
) -> HandshakeObservation {
    if let Some(reason) = super::refuse_connection(config, ip) {
        return HandshakeObservation {
            ip,
            tls: Err(failure(FetchStep::Connect, false, reason)),
        };
    }
    let addr = SocketAddr::new(ip, port.unwrap_or(config.https_port));
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let roots = root_store(&config.extra_roots);
    let tls = match handshake(roots, &host, addr, config.limits.step_timeout).await {
        Ok(Some(tls)) => Ok(tls),
        Ok(None) => Err(failure(
            FetchStep::Tls,
            false,
            "the handshake completed but no certificate was recorded".to_owned(),
        )),
        Err(failure) => Err(failure),
    };
    HandshakeObservation { ip, tls }
}

/// The policy URL for `host` on `port`.
pub fn policy_url(host: &str, port: u16) -> String {
    if port == 443 {
        format!("https://{host}{POLICY_PATH}")
    } else {
        format!("https://{host}:{port}{POLICY_PATH}")
    }
}

fn failure(step: FetchStep, timed_out: bool, detail: String) -> FetchFailure {
    FetchFailure {
        step,
        timed_out,
        detail: cap_detail(detail),
    }
}

fn cap_detail(mut detail: String) -> String {
    if detail.len() > MAX_DETAIL {
        let mut cut = MAX_DETAIL;
        while !detail.is_char_boundary(cut) {
            cut -= 1;
        }
        detail.truncate(cut);
        detail.push('…');
    }
    detail
}

/// Connects and completes a TLS handshake only, to observe the session.
async fn handshake(
    roots: Arc<RootCertStore>,
    host: &str,
    addr: SocketAddr,
    step: Duration,
) -> Result<Option<TlsObservation>, FetchFailure> {
    let server_name = ServerName::try_from(host.to_owned()).map_err(|_| {
        failure(
            FetchStep::Tls,
            false,
            format!("not a host name usable for TLS: {}", escape_str(host)),
        )
    })?;
    let tcp = match tokio::time::timeout(step, TcpStream::connect(addr)).await {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(err)) => {
            let timed_out = err.kind() == std::io::ErrorKind::TimedOut;
            return Err(failure(
                FetchStep::Connect,
                timed_out,
                format!("TCP connection to {addr} failed: {}", chain_text(&err)),
            ));
        }
        Err(_) => {
            return Err(failure(
                FetchStep::Connect,
                true,
                format!(
                    "TCP connection to {addr} not established within {} seconds",
                    step.as_secs_f32()
                ),
            ))
        }
    };
    let recorder = Recorder::new();
    let connector = tokio_rustls::TlsConnector::from(http_tls_config(roots, &recorder));
    let mut stream = match tokio::time::timeout(step, connector.connect(server_name, tcp)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(err)) => {
            return Err(failure(
                FetchStep::Tls,
                err.kind() == std::io::ErrorKind::TimedOut,
                format!("TLS handshake with {addr} failed: {}", chain_text(&err)),
            ))
        }
        Err(_) => {
            return Err(failure(
                FetchStep::Tls,
                true,
                format!(
                    "TLS handshake with {addr} not completed within {} seconds",
                    step.as_secs_f32()
                ),
            ))
        }
    };
    let observation = tls::observe_connection(&recorder, stream.get_ref().1);
    // Say goodbye properly (close_notify), but never wait long for it.
    let _ = tokio::time::timeout(step.min(Duration::from_secs(2)), stream.shutdown()).await;
    Ok(observation)
}

/// The recording client config, offering HTTP/1.1 by ALPN as HTTP clients do.
fn http_tls_config(roots: Arc<RootCertStore>, recorder: &Recorder) -> Arc<rustls::ClientConfig> {
    let mut config = Arc::unwrap_or_clone(tls::client_config(roots, recorder));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// Sends every name to the one chosen address, so that nothing else is ever contacted even if
/// reqwest's per-name override were bypassed.
struct OneAddress(SocketAddr);

impl reqwest::dns::Resolve for OneAddress {
    fn resolve(&self, _name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let addr = self.0;
        Box::pin(async move { Ok(Box::new(std::iter::once(addr)) as reqwest::dns::Addrs) })
    }
}

async fn fetch(
    config: &NetworkConfig,
    host: &str,
    addr: SocketAddr,
    roots: Arc<RootCertStore>,
    recorder: &Recorder,
) -> Result<HttpResponse, FetchFailure> {
    let limits = &config.limits;
    let tls_config = Arc::unwrap_or_clone(http_tls_config(roots, recorder));
    let client = reqwest::Client::builder()
        .use_preconfigured_tls(tls_config)
        .resolve(host, addr)
        .dns_resolver(Arc::new(OneAddress(addr)))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(limits.step_timeout)
        .timeout(limits.fetch_timeout)
        .http1_only()
        .pool_max_idle_per_host(0)
        .user_agent(USER_AGENT)
        .build()
        .map_err(|err| {
            failure(
                FetchStep::Connect,
                false,
                format!("could not set up the HTTP client: {}", chain_text(&err)),
            )
        })?;
    let url = policy_url(host, config.https_port);
    let response = client
        .get(&url)
        .send()
        .await
        .map_err(|err| classify(&err, recorder))?;

    let status = response.status();
    let status_line = format!(
        "{} {} {}",
        version_text(response.version()),
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )
    .trim_end()
    .to_owned();
    let headers = capture_headers(response.headers(), limits.max_header_bytes);
    let (body, truncated) = read_body(response, limits.max_policy_bytes, recorder).await?;
    Ok(HttpResponse {
        status_line,
        status: status.as_u16(),
        headers,
        body,
        truncated,
    })
}

fn version_text(version: reqwest::Version) -> &'static str {
    match version {
        reqwest::Version::HTTP_09 => "HTTP/0.9",
        reqwest::Version::HTTP_10 => "HTTP/1.0",
        reqwest::Version::HTTP_11 => "HTTP/1.1",
        reqwest::Version::HTTP_2 => "HTTP/2",
        reqwest::Version::HTTP_3 => "HTTP/3",
        _ => "HTTP/?",
    }
}

/// The headers the verdict reads: kept whatever comes before them, so that the header budget
/// bounds the evidence and never what is judged (a `Content-Type` after 16 KiB of other headers
/// would otherwise read as missing).
const JUDGED_HEADERS: [&str; 3] = ["content-type", "cache-control", "location"];

/// Header names (lower-case) and escaped values, in order, until `max_bytes` are used; the
/// first of each of [`JUDGED_HEADERS`] is kept past the budget (within a budget of its own).
fn capture_headers(
    headers: &reqwest::header::HeaderMap,
    max_bytes: usize,
) -> Vec<(String, String)> {
    let mut captured = Vec::new();
    let mut used = 0usize;
    for (name, value) in headers {
        let size = name.as_str().len() + value.as_bytes().len();
        let judged = JUDGED_HEADERS.contains(&name.as_str())
            && !captured.iter().any(|(kept, _)| kept == name.as_str());
        if used.saturating_add(size) > max_bytes && !(judged && size <= max_bytes) {
            continue;
        }
        used += size;
        captured.push((name.as_str().to_owned(), escape_bytes(value.as_bytes())));
    }
    captured
}

/// Reads at most `cap + 1` bytes; `true` when the body went past `cap`.
async fn read_body(
    mut response: reqwest::Response,
    cap: usize,
    recorder: &Recorder,
) -> Result<(Vec<u8>, bool), FetchFailure> {
    let limit = cap.saturating_add(1);
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = limit - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if body.len() > cap {
                    return Ok((body, true));
                }
            }
            Ok(None) => return Ok((body, false)),
            Err(err) => {
                let mut failed = classify(&err, recorder);
                failed.step = FetchStep::Body;
                return Err(failed);
            }
        }
    }
}

/// Which step a reqwest error belongs to, whether it was a timeout, and the whole cause chain.
fn classify(err: &reqwest::Error, recorder: &Recorder) -> FetchFailure {
    let timed_out = err.is_timeout()
        || in_chain::<std::io::Error>(err, |io| io.kind() == std::io::ErrorKind::TimedOut);
    let tls_error = in_chain::<rustls::Error>(err, |_| true);
    let step = if err.is_body() || err.is_decode() {
        FetchStep::Body
    } else if err.is_connect() {
        if tls_error || recorder.saw_certificate() {
            FetchStep::Tls
        } else {
            FetchStep::Connect
        }
    } else {
        FetchStep::Http
    };
    failure(step, timed_out, chain_text(err))
}

fn in_chain<E: StdError + 'static>(
    err: &(dyn StdError + 'static),
    test: impl Fn(&E) -> bool,
) -> bool {
    let mut current = Some(err);
    while let Some(error) = current {
        if error.downcast_ref::<E>().is_some_and(&test) {
            return true;
        }
        current = error.source();
    }
    false
}

/// What hyper says when the response does not begin with `HTTP/1.x`: an HTTP/2-only server
/// that ignored the ALPN offer and sent its SETTINGS frame, or something that is not HTTP.
const NOT_HTTP1: &str = "invalid HTTP version parsed";

/// The messages reqwest and hyper-util wrap every error in; they name no cause (and "client
/// error (SendRequest)" reads like a `Debug` dump), so the chain is shown without them.
fn is_wrapper(text: &str) -> bool {
    text.starts_with("error sending request for url") || text.starts_with("client error (")
}

/// Every message of the error's source chain, repeated ones and the generic wrappers
/// ([`is_wrapper`]) dropped, escaped; TLS errors and hyper's terse parse errors in words.
fn chain_text(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(err);
    while let Some(error) = current {
        let tls = error.downcast_ref::<rustls::Error>().or_else(|| {
            error
                .downcast_ref::<std::io::Error>()
                .and_then(std::io::Error::get_ref)
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        let text = if let Some(tls) = tls {
            describe_tls(tls)
        } else if error.to_string() == NOT_HTTP1 {
            "the answer is not HTTP/1.1 (it does not begin with an `HTTP/1.x` status line; an \
             HTTP/2-only server answers so): senders fetch the policy over HTTP/1.1 and get \
             nothing"
                .to_owned()
        } else {
            error.to_string()
        };
        if !text.is_empty() && !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        current = error.source();
    }
    // Only when something more specific follows: a wrapper alone is better than nothing.
    if parts.iter().any(|part| !is_wrapper(part)) {
        parts.retain(|part| !is_wrapper(part));
    }
    escape_str(&parts.join(": "))
}

/// A TLS error in words; an ALPN mismatch says which protocol was offered.
fn describe_tls(err: &rustls::Error) -> String {
    match err {
        rustls::Error::AlertReceived(rustls::AlertDescription::NoApplicationProtocol) => {
            "the server refused the handshake because it speaks none of the protocols offered \
             (ALPN `http/1.1`; an HTTP/2-only server does this): senders fetch the policy over \
             HTTP/1.1"
                .to_owned()
        }
        other => tls::describe_error(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_omits_the_default_port() {
        assert_eq!(
            policy_url("mta-sts.example.com", 443),
            "https://mta-sts.example.com/.well-known/mta-sts.txt"
        );
        assert_eq!(
            policy_url("mta-sts.example.com", 8443),
            "https://mta-sts.example.com:8443/.well-known/mta-sts.txt"
        );
    }

    #[test]
    fn headers_are_capped_and_escaped() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("Content-Type", "text/plain".parse().unwrap());
        headers.insert(
            "x-odd",
            reqwest::header::HeaderValue::from_bytes(b"a\t\xff").unwrap(),
        );
        headers.insert("x-big", "y".repeat(100).parse().unwrap());
        let captured = capture_headers(&headers, 60);
        assert_eq!(
            captured,
            vec![
                ("content-type".to_owned(), "text/plain".to_owned()),
                ("x-odd".to_owned(), "a\\t\\xFF".to_owned()),
            ]
        );
    }

    /// Issue 12: the header budget bounds the evidence, never what is judged.
    #[test]
    fn judged_headers_are_kept_past_the_budget() {
        let mut headers = reqwest::header::HeaderMap::new();
        for index in 0..20 {
            headers.insert(
                reqwest::header::HeaderName::from_bytes(format!("x-filler-{index}").as_bytes())
                    .unwrap(),
                "x".repeat(50).parse().unwrap(),
            );
        }
        headers.insert("Content-Type", "text/plain".parse().unwrap());
        headers.insert("Cache-Control", "max-age=60".parse().unwrap());
        let captured = capture_headers(&headers, 200);
        let names: Vec<&str> = captured.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            [
                "x-filler-0",
                "x-filler-1",
                "x-filler-2",
                "content-type",
                "cache-control"
            ]
        );
    }

    #[test]
    fn chain_text_drops_repeats() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "request failed")
            }
        }
        impl StdError for Outer {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        let err = Outer(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "deadline\nexceeded",
        ));
        assert_eq!(chain_text(&err), "request failed: deadline\\nexceeded");

        struct Wrapper(&'static str, Outer);
        impl std::fmt::Debug for Wrapper {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.0)
            }
        }
        impl std::fmt::Display for Wrapper {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.0)
            }
        }
        impl StdError for Wrapper {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.1)
            }
        }
        let wrapped = Wrapper(
            "client error (SendRequest)",
            Outer(std::io::Error::other("message head is too large")),
        );
        assert_eq!(
            chain_text(&wrapped),
            "request failed: message head is too large"
        );
        assert!(in_chain::<std::io::Error>(&err, |io| io.kind() == std::io::ErrorKind::TimedOut));
        assert!(!in_chain::<rustls::Error>(&err, |_| true));
    }

    #[test]
    fn long_details_are_cut_on_a_char_boundary() {
        let detail = cap_detail("é".repeat(MAX_DETAIL));
        assert!(detail.len() <= MAX_DETAIL + '…'.len_utf8());
        assert!(detail.ends_with('…'));
    }
}
