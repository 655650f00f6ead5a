//! The test world of the end-to-end suite, built from the scenario table and torn down on drop:
//! a network namespace with only loopback in it, where
//!
//! - NSD is authoritative for `test.`, `provider.example.` and a stub root zone,
//! - Unbound resolves recursively in front of it, and `/etc/netns/<ns>/resolv.conf` names it,
//!   so the binary finds it as a user's binary finds the system resolver,
//! - nginx serves each policy host over HTTPS on port 443 with SNI and a certificate of its own,
//! - one Postfix instance runs one `smtpd` per MX address on port 25,
//! - a small Python listener accepts connections and never answers.
//!
//! Every address is in 127.0.0.0/8, so nothing can leave the machine even if a step ran outside
//! the namespace. All configuration, state and logs live in one temporary directory.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::common::ca::{Leaf, LeafSpec, TestCa};
use crate::scenarios::{
    Answer, Cert, MxService, Scenario, Site, AUTHORITATIVE, PROVIDER_ZONE, RESOLVER,
};

/// Set to keep the world running after the test, for poking at it by hand.
pub const KEEP_VAR: &str = "MTASTS_E2E_KEEP";

/// How long the servers get to start listening.
const STARTUP_DEADLINE: Duration = Duration::from_secs(15);

/// The programs the world needs, found in the usual Debian places.
pub struct Tools {
    pub ip: PathBuf,
    pub nsd: PathBuf,
    pub unbound: PathBuf,
    pub nginx: PathBuf,
    pub postfix: PathBuf,
    pub python3: PathBuf,
    pub dig: PathBuf,
}

const INSTALL_HINT: &str =
    "`bash .ci/run` installs them on Debian 12 (apt-get install nsd unbound \
     nginx-light postfix iproute2 dnsutils curl openssl python3) and runs the suite as root";
const ROOT_HINT: &str =
    "run `cargo test --locked --test e2e -- --include-ignored` as root; CI runs it as root \
     through `bash .ci/run`, which also installs the servers";

impl Tools {
    /// Finds every program, or says which are missing and how to get them.
    pub fn find() -> Result<Self, String> {
        let mut missing = Vec::new();
        let mut find = |name: &str, package: &str| {
            find_program(name).unwrap_or_else(|| {
                missing.push(format!("{name} (package {package})"));
                PathBuf::new()
            })
        };
        let tools = Self {
            ip: find("ip", "iproute2"),
            nsd: find("nsd", "nsd"),
            unbound: find("unbound", "unbound"),
            nginx: find("nginx", "nginx-light"),
            postfix: find("postfix", "postfix"),
            python3: find("python3", "python3"),
            dig: find("dig", "dnsutils"),
        };
        if missing.is_empty() {
            Ok(tools)
        } else {
            Err(format!(
                "the end-to-end suite needs programs that are not installed: {}; {INSTALL_HINT}",
                missing.join(", ")
            ))
        }
    }
}

/// Debian's own directories first (so a pyenv or a local build does not stand in for the
/// distribution's server), then `PATH`.
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .map(PathBuf::from)
        .chain(std::env::split_paths(&path))
        .map(|dir| dir.join(name))
        .find(|candidate| {
            fs::metadata(candidate)
                .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        })
}

/// Root is needed to create a network namespace and to bind ports 25, 53 and 443 in it.
pub fn require_root() -> Result<(), String> {
    let status = fs::read_to_string("/proc/self/status").map_err(|err| err.to_string())?;
    let uid = status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .unwrap_or("?");
    if uid == "0" {
        Ok(())
    } else {
        Err(format!(
            "the end-to-end suite must run as root (effective uid is {uid}): it creates a network \
             namespace and starts servers on ports 25, 53 and 443 inside it; {ROOT_HINT}"
        ))
    }
}

/// What a run of a command inside the namespace produced.
pub struct Run {
    /// `None` when it was killed at its deadline.
    pub status: Option<ExitStatus>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
}

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.status.and_then(|status| status.code())
    }

    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// The running world. Dropping it stops every process in the namespace, deletes the namespace,
/// `/etc/netns/<ns>` and the temporary directory, unless `MTASTS_E2E_KEEP` is set.
pub struct World {
    pub ns: String,
    pub ca_file: PathBuf,
    dir: Option<tempfile::TempDir>,
    root: PathBuf,
    tools: Tools,
    children: Vec<(&'static str, Child)>,
    netns_created: bool,
    etc_netns: Option<PathBuf>,
    postfix_started: bool,
}

impl World {
    /// Builds and starts the world for `scenarios` and `mx_services`, or says what failed (with
    /// the servers' logs). Whatever was already set up is torn down when this fails.
    pub fn start(scenarios: &[Scenario], mx_services: &[MxService]) -> Result<Self, String> {
        require_root()?;
        let tools = Tools::find()?;
        let dir = tempfile::Builder::new()
            .prefix("mtasts-e2e-")
            .tempdir()
            .map_err(|err| format!("cannot create a temporary directory: {err}"))?;
        let root = dir.path().to_owned();
        // The Postfix daemons run as `postfix` and nginx workers as `nobody`: they must be able to
        // walk into the directory. Keys stay readable by root only (both read them as root).
        fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).map_err(io_err)?;
        let mut world = Self {
            ns: format!("mtasts-e2e-{}", std::process::id()),
            ca_file: root.join("ca.pem"),
            dir: Some(dir),
            root,
            tools,
            children: Vec::new(),
            netns_created: false,
            etc_netns: None,
            postfix_started: false,
        };
        for sub in ["certs", "dns", "www", "nginx", "postfix", "logs"] {
            fs::create_dir_all(world.path(sub)).map_err(io_err)?;
        }
        world.create_namespace(scenarios, mx_services)?;
        let ca = TestCa::new("mtasts end-to-end test CA");
        fs::write(&world.ca_file, &ca.cert_pem).map_err(io_err)?;

        world.start_dns(scenarios)?;
        world.start_nginx(&ca, scenarios)?;
        world.start_silent(scenarios)?;
        world.start_postfix(&ca, mx_services)?;
        world.wait_until_ready(scenarios, mx_services)?;
        fs::write(world.path("POKE.txt"), world.how_to_poke()).map_err(io_err)?;
        Ok(world)
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// A new directory `reports/NAME` in the world's temporary directory, holding `files`
    /// (relative path, bytes): TLS-RPT reports for `check --reports`.
    pub fn write_reports(&self, name: &str, files: &[(String, Vec<u8>)]) -> PathBuf {
        let dir = self.path(&format!("reports/{name}"));
        for (relative, bytes) in files {
            let path = dir.join(relative);
            fs::create_dir_all(path.parent().expect("a file in a directory"))
                .expect("create the reports directory");
            fs::write(&path, bytes).expect("write a report file");
        }
        dir
    }

    /// `ip netns exec <ns> program`.
    pub fn in_ns(&self, program: &Path) -> Command {
        let mut command = Command::new(&self.tools.ip);
        command.arg("netns").arg("exec").arg(&self.ns).arg(program);
        command
    }

    /// Runs `program args` in the namespace, killing it at `deadline`.
    pub fn run(&self, program: &Path, args: &[&str], deadline: Duration) -> Run {
        let mut command = self.in_ns(program);
        command.args(args).env_remove("NO_COLOR");
        run_bounded(command, deadline)
    }

    fn create_namespace(
        &mut self,
        scenarios: &[Scenario],
        mx_services: &[MxService],
    ) -> Result<(), String> {
        let ip = self.tools.ip.clone();
        checked(
            Command::new(&ip).args(["netns", "add", &self.ns]),
            "create the network namespace (ip netns add; a container needs CAP_SYS_ADMIN, e.g. \
             docker run --privileged)",
        )?;
        self.netns_created = true;
        // Every 127.x address is already local on an up `lo`; adding the world's addresses
        // explicitly makes `ip addr` show what the world uses.
        let mut batch = String::from("link set lo up\n");
        for addr in world_addresses(scenarios, mx_services) {
            let _ = writeln!(batch, "addr add {addr}/32 dev lo");
        }
        let mut command = Command::new(&ip);
        command.args(["-n", &self.ns, "-batch", "-"]);
        checked_with_input(
            &mut command,
            batch.as_bytes(),
            "bring up loopback in the namespace",
        )?;

        let etc = PathBuf::from("/etc/netns").join(&self.ns);
        fs::create_dir_all(&etc)
            .map_err(|err| format!("cannot create {}: {err}", etc.display()))?;
        self.etc_netns = Some(etc.clone());
        fs::write(etc.join("resolv.conf"), format!("nameserver {RESOLVER}\n"))
            .map_err(|err| format!("cannot write {}/resolv.conf: {err}", etc.display()))?;
        Ok(())
    }

    fn spawn(&mut self, name: &'static str, program: &Path, args: &[&str]) -> Result<(), String> {
        let log = |suffix: &str| {
            fs::File::create(self.path(&format!("logs/{name}.{suffix}"))).map_err(io_err)
        };
        let child = self
            .in_ns(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(log("out")?)
            .stderr(log("err")?)
            .spawn()
            .map_err(|err| format!("cannot start {name}: {err}"))?;
        self.children.push((name, child));
        Ok(())
    }

    fn start_dns(&mut self, scenarios: &[Scenario]) -> Result<(), String> {
        let dns = self.path("dns");
        let logs = self.path("logs");
        fs::write(dns.join("root.zone"), root_zone()).map_err(io_err)?;
        fs::write(dns.join("test.zone"), test_zone(scenarios)).map_err(io_err)?;
        fs::write(dns.join("provider.example.zone"), provider_zone()).map_err(io_err)?;
        let nsd_conf = dns.join("nsd.conf");
        fs::write(&nsd_conf, nsd_conf_text(&dns, &logs)).map_err(io_err)?;
        let unbound_conf = dns.join("unbound.conf");
        fs::write(&unbound_conf, unbound_conf_text(&dns, &logs)).map_err(io_err)?;

        let nsd = self.tools.nsd.clone();
        self.spawn("nsd", &nsd, &["-d", "-c", &text(&nsd_conf)])?;
        let unbound = self.tools.unbound.clone();
        self.spawn("unbound", &unbound, &["-d", "-c", &text(&unbound_conf)])
    }

    fn start_nginx(&mut self, ca: &TestCa, scenarios: &[Scenario]) -> Result<(), String> {
        let mut servers = String::new();
        for site in scenarios.iter().flat_map(|scenario| scenario.sites) {
            if matches!(site.answer, Answer::Silent) {
                continue;
            }
            let name = format!("{}@{}", site.host, site.addr);
            let (cert, key) =
                leaf_for(ca, site.cert, &[site.host]).write_pem(&self.path("certs"), &name);
            let location = match site.answer {
                Answer::Policy { body, content_type } => {
                    let file = self.path(&format!("www/{name}.txt"));
                    fs::write(&file, body).map_err(io_err)?;
                    format!(
                        "types {{ }}\n            default_type {content_type};\n            \
                         alias {};",
                        text(&file)
                    )
                }
                Answer::Redirect(url) => format!("return 301 {url};"),
                Answer::NotFound => "return 404;".to_owned(),
                Answer::Silent => unreachable!("skipped above"),
            };
            let _ = write!(
                servers,
                "
    server {{
        listen {addr}:443 ssl;
        server_name {host};
        ssl_certificate {cert};
        ssl_certificate_key {key};
        location = /.well-known/mta-sts.txt {{
            {location}
        }}
        location / {{
            return 404;
        }}
    }}
",
                addr = site.addr,
                host = site.host,
                cert = text(&cert),
                key = text(&key),
            );
        }
        let nginx_dir = self.path("nginx");
        let logs = self.path("logs");
        let conf = format!(
            "# The policy hosts of the end-to-end world: one server block per host and address.
daemon off;
worker_processes 1;
pid {nginx}/nginx.pid;
error_log {logs}/nginx-error.log info;
events {{
    worker_connections 256;
}}
http {{
    access_log {logs}/nginx-access.log;
    client_body_temp_path {nginx}/client_body;
    proxy_temp_path {nginx}/proxy;
    fastcgi_temp_path {nginx}/fastcgi;
    uwsgi_temp_path {nginx}/uwsgi;
    scgi_temp_path {nginx}/scgi;
    ssl_protocols TLSv1.2 TLSv1.3;
    server_tokens off;
{servers}}}
",
            nginx = text(&nginx_dir),
            logs = text(&logs),
        );
        let conf_path = nginx_dir.join("nginx.conf");
        fs::write(&conf_path, conf).map_err(io_err)?;
        let nginx = self.tools.nginx.clone();
        self.spawn(
            "nginx",
            &nginx,
            &[
                "-p",
                &text(&nginx_dir),
                "-e",
                &text(&logs.join("nginx-error.log")),
                "-c",
                &text(&conf_path),
            ],
        )
    }

    /// One Python process holding every silent address: it accepts and never sends a byte.
    fn start_silent(&mut self, scenarios: &[Scenario]) -> Result<(), String> {
        let addrs: Vec<String> = scenarios
            .iter()
            .flat_map(|scenario| scenario.sites)
            .filter(|site| matches!(site.answer, Answer::Silent))
            .map(|site| format!("{}:443", site.addr))
            .collect();
        if addrs.is_empty() {
            return Ok(());
        }
        let script = self.path("silent.py");
        fs::write(&script, SILENT_PY).map_err(io_err)?;
        let python = self.tools.python3.clone();
        let mut args = vec![text(&script)];
        args.extend(addrs);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.spawn("silent", &python, &args)
    }

    fn start_postfix(&mut self, ca: &TestCa, mx_services: &[MxService]) -> Result<(), String> {
        let conf_dir = self.path("postfix");
        let queue = self.path("postfix-queue");
        let data = self.path("postfix-data");
        fs::create_dir_all(&queue).map_err(io_err)?;
        fs::create_dir_all(&data).map_err(io_err)?;
        // Postfix insists that its data directory belongs to mail_owner.
        checked(
            Command::new("chown").arg("postfix").arg(&data),
            "give the Postfix data directory to the postfix user (chown)",
        )?;
        let logs = self.path("logs");
        let main_cf = format!(
            "# One Postfix instance for the end-to-end world; each MX address is a service in \
             master.cf.
compatibility_level = 3.6
config_directory = {conf}
queue_directory = {queue}
data_directory = {data}
maillog_file = {logs}/maillog
maillog_file_prefixes = {root}
myhostname = mx.world.test
mydomain = world.test
myorigin = world.test
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = loopback-only
inet_protocols = ipv4
smtpd_peername_lookup = no
smtputf8_enable = no
biff = no
smtpd_tls_security_level = may
smtpd_tls_protocols = >=TLSv1.2
smtpd_tls_mandatory_protocols = >=TLSv1.2
smtpd_tls_loglevel = 1
",
            conf = text(&conf_dir),
            queue = text(&queue),
            data = text(&data),
            logs = text(&logs),
            root = text(&self.root),
        );
        let mut master_cf =
            String::from("# service type private unpriv chroot wakeup maxproc command + args\n");
        for service in mx_services {
            let Some(&myhostname) = service.names.first() else {
                return Err(format!("MX service {} has no name", service.addr));
            };
            let _ = write!(
                master_cf,
                "{}:25 inet n - n - - smtpd\n  -o myhostname={myhostname}\n",
                service.addr
            );
            match service.tls {
                Some(cert) => {
                    let leaf = leaf_for(ca, cert, service.names);
                    let (cert, key) =
                        leaf.write_pem(&self.path("certs"), &format!("smtp@{}", service.addr));
                    let _ = writeln!(
                        master_cf,
                        "  -o smtpd_tls_chain_files={},{}",
                        text(&key),
                        text(&cert)
                    );
                }
                None => master_cf.push_str("  -o smtpd_tls_security_level=none\n"),
            }
            if service.legacy_tls {
                master_cf.push_str(
                    "  -o smtpd_tls_protocols=>=TLSv1\n  -o smtpd_tls_mandatory_protocols=>=TLSv1\n  \
                     -o tls_medium_cipherlist=DEFAULT:@SECLEVEL=0\n",
                );
            }
        }
        master_cf.push_str(POSTFIX_INTERNAL_SERVICES);
        fs::write(conf_dir.join("main.cf"), main_cf).map_err(io_err)?;
        fs::write(conf_dir.join("master.cf"), master_cf).map_err(io_err)?;

        let postfix = self.tools.postfix.clone();
        let mut command = self.in_ns(&postfix);
        command.arg("-c").arg(&conf_dir).arg("start");
        // Postfix logs its own start-up errors to maillog_file, not to the terminal.
        let result = checked(&mut command, "start Postfix (postfix start)");
        self.postfix_started = true;
        result
            .map(drop)
            .map_err(|err| format!("{err}\n{}", tail(&logs.join("maillog"))))
    }

    /// Waits until every server listens and Unbound answers through NSD (across the CNAME to
    /// the provider zone), or fails with the servers' logs.
    fn wait_until_ready(
        &mut self,
        scenarios: &[Scenario],
        mx_services: &[MxService],
    ) -> Result<(), String> {
        let mut targets = vec![format!("{RESOLVER}:53"), format!("{AUTHORITATIVE}:53")];
        for site in scenarios.iter().flat_map(|scenario| scenario.sites) {
            targets.push(format!("{}:443", site.addr));
        }
        for service in mx_services {
            targets.push(format!("{}:25", service.addr));
        }
        targets.sort();
        targets.dedup();
        let mut args = vec!["-c", WAIT_PY, "1"];
        args.extend(targets.iter().map(String::as_str));
        let started = Instant::now();
        loop {
            let wait = self.run(&self.tools.python3, &args, Duration::from_secs(5));
            if wait.code() == Some(0) {
                break;
            }
            // A server that exited will never listen: say so now rather than at the deadline.
            if let Some(name) = self.exited_server() {
                return Err(format!("{name} exited at start-up\n{}", self.logs()));
            }
            if started.elapsed() > STARTUP_DEADLINE {
                return Err(format!(
                    "the servers did not all start listening within {}s: {}{}\n{}",
                    STARTUP_DEADLINE.as_secs(),
                    wait.stdout_text(),
                    wait.stderr_text(),
                    self.logs()
                ));
            }
        }

        let started = Instant::now();
        let question = [
            "+short",
            "+time=1",
            "+tries=1",
            "TXT",
            "_mta-sts.cname.test",
        ];
        loop {
            let answer = self.run(&self.tools.dig, &question, Duration::from_secs(5));
            if answer.stdout_text().contains("provider20250101") {
                return Ok(());
            }
            if started.elapsed() > Duration::from_secs(10) {
                return Err(format!(
                    "Unbound (via resolv.conf) does not answer TXT _mta-sts.cname.test through \
                     NSD: {}{}\n{}",
                    answer.stdout_text(),
                    answer.stderr_text(),
                    self.logs()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The first server started in the foreground that is no longer running.
    fn exited_server(&mut self) -> Option<&'static str> {
        self.children
            .iter_mut()
            .find_map(|(name, child)| (!matches!(child.try_wait(), Ok(None))).then_some(*name))
    }

    /// The last lines of every log, for failure messages.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        let mut paths: Vec<PathBuf> = fs::read_dir(self.path("logs"))
            .map(|entries| entries.flatten().map(|entry| entry.path()).collect())
            .unwrap_or_default();
        paths.sort();
        for path in paths {
            out.push_str(&tail(&path));
        }
        out
    }

    /// How to enter the world and poke at its servers by hand.
    pub fn how_to_poke(&self) -> String {
        let ns = &self.ns;
        let dir = text(&self.root);
        let ca = text(&self.ca_file);
        format!(
            "The end-to-end world is running in network namespace {ns}; its files and logs are \
             in {dir}.
  ip netns exec {ns} bash        # a shell inside: resolv.conf names Unbound ({RESOLVER})
  ip -n {ns} addr show lo        # the addresses in use
Inside it:
  dig TXT _mta-sts.good.test
  dig @{AUTHORITATIVE} TXT _mta-sts.good.test    # NSD directly
  curl -si --cacert {ca} https://mta-sts.good.test/.well-known/mta-sts.txt
  openssl s_client -starttls smtp -connect 127.0.3.1:25 -servername mx.good.test -CAfile {ca}
  target/debug/mtasts check --ca-file {ca} --timeout 3 --allow-private good.test
Tear it down:
  ip netns exec {ns} postfix -c {dir}/postfix stop; ip netns pids {ns} | xargs -r kill
  ip netns del {ns}; rm -rf /etc/netns/{ns} {dir}
"
        )
    }

    fn teardown(&mut self) {
        if std::env::var_os(KEEP_VAR).is_some_and(|value| !value.is_empty() && value != "0") {
            if let Some(dir) = self.dir.take() {
                let _ = dir.keep();
            }
            eprintln!("{KEEP_VAR} is set: {}", self.how_to_poke());
            return;
        }
        if self.postfix_started {
            let mut stop = self.in_ns(&self.tools.postfix);
            stop.arg("-c").arg(self.path("postfix")).arg("stop");
            let _ = run_bounded(stop, Duration::from_secs(10));
        }
        if self.netns_created {
            self.kill_namespace_processes();
        }
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        if self.netns_created {
            let _ = Command::new(&self.tools.ip)
                .args(["netns", "del", &self.ns])
                .status();
        }
        if let Some(etc) = self.etc_netns.take() {
            let _ = fs::remove_dir_all(&etc);
            // /etc/netns itself goes too if nothing else uses it (remove_dir leaves it if not).
            if let Some(parent) = etc.parent() {
                let _ = fs::remove_dir(parent);
            }
        }
        // The temporary directory goes when `self.dir` is dropped.
    }

    /// TERM to every process in the namespace, then KILL to what is left after two seconds.
    fn kill_namespace_processes(&self) {
        let started = Instant::now();
        let mut signal = "TERM";
        loop {
            let pids = Command::new(&self.tools.ip)
                .args(["netns", "pids", &self.ns])
                .output()
                .map(|output| String::from_utf8_lossy(&output.stdout).into_owned())
                .unwrap_or_default();
            let pids: Vec<&str> = pids.split_whitespace().collect();
            if pids.is_empty() || started.elapsed() > Duration::from_secs(5) {
                return;
            }
            if started.elapsed() > Duration::from_secs(2) {
                signal = "KILL";
            }
            let _ = Command::new(&self.tools.python3)
                .arg("-c")
                .arg(KILL_PY)
                .arg(signal)
                .args(&pids)
                .status();
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for World {
    fn drop(&mut self) {
        self.teardown();
    }
}

/// Every address the world listens on, for `ip addr`.
fn world_addresses(scenarios: &[Scenario], mx_services: &[MxService]) -> BTreeSet<String> {
    let mut addrs: BTreeSet<String> = [RESOLVER, AUTHORITATIVE]
        .iter()
        .map(|addr| (*addr).to_owned())
        .collect();
    addrs.extend(
        scenarios
            .iter()
            .flat_map(|scenario| scenario.sites)
            .map(|site: &Site| site.addr.to_owned()),
    );
    addrs.extend(mx_services.iter().map(|service| service.addr.to_owned()));
    addrs
}

/// The certificate a server presents.
fn leaf_for(ca: &TestCa, cert: Cert, names: &[&str]) -> Leaf {
    match cert {
        Cert::Valid => ca.issue(&LeafSpec::valid_for(names)),
        Cert::Expired => ca.issue(&LeafSpec::expired(names)),
        Cert::WrongName(other) => ca.issue(&LeafSpec::valid_for(&[other])),
        Cert::SelfSigned => TestCa::self_signed(names),
    }
}

const SOA: &str = "@  SOA  ns.test. hostmaster.test. 1 3600 600 86400 300";

/// A root zone of our own, so that Unbound never needs the real root servers.
fn root_zone() -> String {
    format!("$TTL 86400\n$ORIGIN .\n{SOA}\n@  NS  ns.test.\n")
}

/// `test.`: the name server, then every scenario's lines under `$ORIGIN <domain>.`.
pub fn test_zone(scenarios: &[Scenario]) -> String {
    let mut zone =
        format!("$TTL 86400\n$ORIGIN test.\n{SOA}\n@  NS  ns.test.\nns  A  {AUTHORITATIVE}\n");
    for scenario in scenarios {
        let _ = writeln!(
            zone,
            "\n; {}: {}\n$ORIGIN {}.",
            scenario.domain, scenario.about, scenario.domain
        );
        for line in scenario.zone {
            let _ = writeln!(zone, "{line}");
        }
    }
    zone
}

fn provider_zone() -> String {
    let mut zone = format!("$TTL 86400\n$ORIGIN provider.example.\n{SOA}\n@  NS  ns.test.\n");
    for line in PROVIDER_ZONE {
        let _ = writeln!(zone, "{line}");
    }
    zone
}

fn nsd_conf_text(dns: &Path, logs: &Path) -> String {
    let dns = text(dns);
    let logs = text(logs);
    format!(
        "# NSD, authoritative for the zones of the end-to-end world.
server:
    ip-address: {AUTHORITATIVE}
    port: 53
    do-ip6: no
    username: \"\"
    chroot: \"\"
    zonesdir: \"{dns}\"
    database: \"\"
    zonelistfile: \"{dns}/zone.list\"
    xfrdfile: \"{dns}/xfrd.state\"
    xfrdir: \"{dns}\"
    pidfile: \"{dns}/nsd.pid\"
    logfile: \"{logs}/nsd.log\"
    server-count: 1
    verbosity: 1
    hide-version: yes
remote-control:
    control-enable: no
zone:
    name: \".\"
    zonefile: \"root.zone\"
zone:
    name: \"test.\"
    zonefile: \"test.zone\"
zone:
    name: \"provider.example.\"
    zonefile: \"provider.example.zone\"
"
    )
}

fn unbound_conf_text(dns: &Path, logs: &Path) -> String {
    let dns = text(dns);
    let logs = text(logs);
    format!(
        "# Unbound, the recursive resolver of the end-to-end world, asking only NSD.
server:
    interface: {RESOLVER}
    port: 53
    do-ip6: no
    do-daemonize: no
    use-syslog: no
    logfile: \"{logs}/unbound.log\"
    verbosity: 1
    username: \"\"
    chroot: \"\"
    directory: \"{dns}\"
    pidfile: \"{dns}/unbound.pid\"
    num-threads: 1
    so-reuseport: no
    access-control: 127.0.0.0/8 allow
    # NSD listens on loopback; Unbound refuses to ask loopback unless told.
    do-not-query-localhost: no
    # No DNSSEC: the test zones are unsigned.
    module-config: \"iterator\"
    # test. is blocked by default (RFC 6761); here it is the world.
    local-zone: \"test.\" nodefault
remote-control:
    control-enable: no
stub-zone:
    name: \".\"
    stub-addr: {AUTHORITATIVE}
stub-zone:
    name: \"test.\"
    stub-addr: {AUTHORITATIVE}
stub-zone:
    name: \"provider.example.\"
    stub-addr: {AUTHORITATIVE}
"
    )
}

/// The Postfix services besides `smtpd`, as in Debian's master.cf but never chrooted.
const POSTFIX_INTERNAL_SERVICES: &str = "\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
";

/// Accepts on every `ADDR:PORT` argument and never sends anything; connections are held open.
const SILENT_PY: &str = r#"# The policy server that accepts connections and never answers.
import selectors, socket, sys
selector = selectors.DefaultSelector()
for target in sys.argv[1:]:
    host, port = target.rsplit(":", 1)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, int(port)))
    listener.listen(64)
    selector.register(listener, selectors.EVENT_READ)
held = []
while True:
    for key, _ in selector.select():
        connection, _ = key.fileobj.accept()
        held.append(connection)
"#;

/// `python3 -c WAIT_PY SECONDS ADDR:PORT...`: exits 0 once every target accepts TCP.
const WAIT_PY: &str = r#"
import socket, sys, time
deadline = time.monotonic() + float(sys.argv[1])
waiting = list(sys.argv[2:])
while waiting and time.monotonic() < deadline:
    for target in list(waiting):
        host, port = target.rsplit(":", 1)
        try:
            socket.create_connection((host, int(port)), timeout=1).close()
            waiting.remove(target)
        except OSError:
            pass
    if waiting:
        time.sleep(0.05)
if waiting:
    print("not listening: " + " ".join(waiting))
    sys.exit(1)
"#;

/// `python3 -c KILL_PY SIGNAL PID...`: signals each process that still exists.
const KILL_PY: &str = r#"
import os, signal, sys
sig = getattr(signal, "SIG" + sys.argv[1])
for pid in sys.argv[2:]:
    try:
        os.kill(int(pid), sig)
    except (OSError, ValueError):
        pass
"#;

/// Runs `command` with its output captured, killing it at `deadline`.
pub fn run_bounded(mut command: Command, deadline: Duration) -> Run {
    let started = Instant::now();
    let mut child = match command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(err) => {
            return Run {
                status: None,
                stdout: Vec::new(),
                stderr: format!("cannot run {command:?}: {err}").into_bytes(),
                elapsed: started.elapsed(),
            }
        }
    };
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = reader(
        child
            .stdout
            .take()
            .map(|pipe| Box::new(pipe) as Box<dyn Read + Send>),
    );
    let stderr = reader(
        child
            .stderr
            .take()
            .map(|pipe| Box::new(pipe) as Box<dyn Read + Send>),
    );
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    Run {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        elapsed: started.elapsed(),
    }
}

fn checked(command: &mut Command, what: &str) -> Result<String, String> {
    checked_with_input(command, &[], what)
}

fn checked_with_input(command: &mut Command, input: &[u8], what: &str) -> Result<String, String> {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| format!("cannot {what}: {err}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input)
            .map_err(|err| format!("cannot {what}: {err}"))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|err| format!("cannot {what}: {err}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "cannot {what} ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// The last 40 lines of a log file, headed by its name.
fn tail(path: &Path) -> String {
    let content = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = content.lines().collect();
    let start = lines.len().saturating_sub(40);
    format!(
        "--- {} ---\n{}\n",
        path.display(),
        lines[start..].join("\n")
    )
}

fn text(path: &Path) -> String {
    path.display().to_string()
}

fn io_err(err: std::io::Error) -> String {
    format!("cannot write the world's files: {err}")
}
