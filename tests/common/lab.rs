//! A small world on loopback for the real `mtasts` binary: a DNS server, HTTPS policy hosts and
//! SMTP servers, with a certificate authority made at run time, and the lab flags that point
//! the binary at them (`--resolver`, `--ca-file`, `--https-port`, `--smtp-port`).

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::{Command, Output};

use super::ca::{LeafSpec, TestCa};
use super::dns::{DnsServer, Zone};
use super::https::{HttpsServer, Script};
use super::smtp::{Behaviour, SmtpServer};

pub const GOOD_POLICY: &str =
    "version: STSv1\r\nmode: enforce\r\nmx: mx.good.test\r\nmax_age: 1209600\r\n";
pub const TESTING_POLICY: &str =
    "version: STSv1\r\nmode: testing\r\nmx: mx.good.test\r\nmax_age: 86401\r\n";
pub const BROKEN_POLICY: &str =
    "version: STSv1\r\nmode: enforce\r\nmx: mx.good.test\r\nmax_age: 1209600\r\n";

pub fn ip(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, last)
}

/// Everything the binary talks to; dropped (and so stopped) at the end of each test.
pub struct World {
    pub dns: DnsServer,
    pub https_port: u16,
    pub smtp_port: u16,
    pub ca_file: PathBuf,
    _dir: tempfile::TempDir,
    pub https: Vec<HttpsServer>,
    pub smtp: Vec<SmtpServer>,
}

impl World {
    /// good.test: a perfect enforce deployment. testing.test: the same in testing mode.
    /// broken.test: no TLS-RPT, its MX is not in the policy and offers no STARTTLS.
    /// servfail.test: its `_mta-sts` and `mta-sts` lookups fail, so nothing is known to be
    /// broken and much could not be determined.
    pub async fn start() -> Self {
        let zone = Zone::new("test")
            .ttl(86_400)
            .txt("_mta-sts.good.test", &["v=STSv1; id=20250101T000000"])
            .txt(
                "_smtp._tls.good.test",
                &["v=TLSRPTv1; rua=mailto:tlsrpt@good.test,https://reports.good.test/tlsrpt"],
            )
            .a("mta-sts.good.test", ip(2))
            .a("reports.good.test", ip(2))
            .mx("good.test", 10, "mx.good.test")
            .a("mx.good.test", ip(3))
            .txt("_mta-sts.testing.test", &["v=STSv1; id=1"])
            .txt(
                "_smtp._tls.testing.test",
                &["v=TLSRPTv1; rua=mailto:tlsrpt@good.test"],
            )
            .a("mta-sts.testing.test", ip(4))
            .mx("testing.test", 10, "mx.good.test")
            .txt("_mta-sts.broken.test", &["v=STSv1; id=2"])
            .a("mta-sts.broken.test", ip(5))
            .mx("broken.test", 10, "mx.broken.test")
            .a("mx.broken.test", ip(6))
            .txt(
                "smtp.tls.broken.test",
                &["v=TLSRPTv1; rua=mailto:tlsrpt@good.test"],
            )
            .mx("servfail.test", 10, "mx.good.test")
            .servfail("_mta-sts.servfail.test")
            .servfail("mta-sts.servfail.test");
        let dns = DnsServer::start(zone).await;

        let ca = TestCa::new("mtasts loopback test CA");
        let dir = tempfile::tempdir().expect("temporary directory");
        let ca_file = ca.write_pem(dir.path());

        let policy_host = |name: &'static str| ca.issue(&LeafSpec::valid_for(&[name]));
        // The lab flag --https-port applies to every address, so all policy hosts share a port.
        // good.test's https: report URL is served from its policy host's address.
        let first = HttpsServer::start(
            IpAddr::V4(ip(2)),
            &ca.issue(&LeafSpec::valid_for(&[
                "mta-sts.good.test",
                "reports.good.test",
            ])),
            Script::ok(GOOD_POLICY),
        )
        .await;
        let https_port = first.port();
        let mut https = vec![first];
        for (last, name, body) in [
            (4, "mta-sts.testing.test", TESTING_POLICY),
            (5, "mta-sts.broken.test", BROKEN_POLICY),
        ] {
            let addr = (IpAddr::V4(ip(last)), https_port).into();
            https.push(HttpsServer::start_at(addr, &policy_host(name), Script::ok(body)).await);
        }

        let good_mx = SmtpServer::start(
            IpAddr::V4(ip(3)),
            0,
            Behaviour::Normal,
            &ca.issue(&LeafSpec::valid_for(&["mx.good.test"])),
        )
        .await;
        let smtp_port = good_mx.port();
        let broken_mx = SmtpServer::start(
            IpAddr::V4(ip(6)),
            smtp_port,
            Behaviour::NoStarttls,
            &ca.issue(&LeafSpec::valid_for(&["mx.broken.test"])),
        )
        .await;

        Self {
            dns,
            https_port,
            smtp_port,
            ca_file,
            _dir: dir,
            https,
            smtp: vec![good_mx, broken_mx],
        }
    }

    /// The lab flags that point the binary at this world, as a user would pass them; the world
    /// is on loopback, so they include `--allow-private`.
    pub fn lab_flags(&self) -> Vec<String> {
        let mut flags = self.lab_flags_public_only();
        flags.push("--allow-private".into());
        flags
    }

    /// The lab flags without `--allow-private`.
    pub fn lab_flags_public_only(&self) -> Vec<String> {
        vec![
            "--resolver".into(),
            self.dns.addr().to_string(),
            "--ca-file".into(),
            self.ca_file.display().to_string(),
            "--https-port".into(),
            self.https_port.to_string(),
            "--smtp-port".into(),
            self.smtp_port.to_string(),
            "--timeout".into(),
            "5".into(),
        ]
    }

    /// Runs `mtasts check` with `args`, then the lab flags.
    pub async fn check(&self, args: &[&str]) -> Output {
        let mut all: Vec<String> = vec!["check".into()];
        all.extend(args.iter().map(|arg| (*arg).to_owned()));
        all.extend(self.lab_flags());
        run_binary(all).await
    }

    /// Runs `mtasts check` with `args`, then the lab flags without `--allow-private`.
    pub async fn check_public_only(&self, args: &[&str]) -> Output {
        let mut all: Vec<String> = vec!["check".into()];
        all.extend(args.iter().map(|arg| (*arg).to_owned()));
        all.extend(self.lab_flags_public_only());
        run_binary(all).await
    }

    pub fn connections(&self) -> usize {
        self.https
            .iter()
            .map(HttpsServer::connection_count)
            .chain(self.smtp.iter().map(SmtpServer::connections))
            .sum()
    }
}

pub async fn run_binary(args: Vec<String>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mtasts"));
    command.args(&args).env_remove("NO_COLOR");
    run(command).await
}

/// Runs `command` to its end off the async runtime, whose threads serve the world meanwhile.
pub async fn run(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().expect("run the command"))
        .await
        .expect("join")
}
