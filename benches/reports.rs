//! Reports benchmark: the real `mtasts reports` binary over N synthetic TLS-RPT reports in mixed
//! formats, generated in a temporary directory.
//!
//! ```text
//! cargo bench --bench reports             # 10,000 reports
//! cargo bench --bench reports -- 50000    # N as the first argument
//! ```
//!
//! Of every 20 reports: 6 plain `.json`, 6 `.json.gz`, 2 emails (`.eml`, gzip attachment), 2 in
//! zip archives of two, 2 in mbox files (200 messages each), 2 in a Maildir (`cur/`, `new/`);
//! every 100th report is also written again as a duplicate. 50 policy domains, 8 senders, days
//! spread over 60 days, a few failures of every kind. It prints the generation time, the wall
//! time of the run, reports per second, and the binary's peak RSS (VmHWM polled every 5 ms from
//! `/proc/PID/status`, as benches/bulk.rs does) and CPU time. docs/performance.md records the
//! figures.

// Test code drives real servers, files and clocks: the other side of the seam.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]
// A benchmark: a failed setup step should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mime.rs"]
mod mime;
#[path = "../tests/common/peak.rs"]
mod peak;

use std::fs::{self, File};
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const DEFAULT_REPORTS: usize = 10_000;
const DOMAINS: usize = 50;
const SENDERS: [&str; 8] = [
    "Google Inc.",
    "Microsoft Corporation",
    "Mail.ru",
    "Yahoo",
    "Comcast",
    "Fastmail",
    "Proton",
    "Zoho",
];
const RESULT_TYPES: [&str; 5] = [
    "certificate-expired",
    "validation-failure",
    "sts-policy-fetch-error",
    "starttls-not-supported",
    "certificate-host-mismatch",
];

fn report(index: usize) -> Vec<u8> {
    let domain = format!("d{}.bench.test", index % DOMAINS);
    let sender = SENDERS[index % SENDERS.len()];
    let day = 20_089 + (index / DOMAINS) % 60; // 2025-01-01 onwards
    let (year, month, mday) = civil(day);
    let failures = if index.is_multiple_of(7) {
        format!(
            r#","failure-details":[{{"result-type":"{}","sending-mta-ip":"192.0.2.{}","receiving-mx-hostname":"mx{}.{domain}","receiving-ip":"198.51.100.{}","failed-session-count":{},"failure-reason-code":"reason {}"}}]"#,
            RESULT_TYPES[index % RESULT_TYPES.len()],
            index % 250,
            index % 3,
            index % 250,
            1 + index % 9,
            index % 13
        )
    } else {
        String::new()
    };
    let failed = if index.is_multiple_of(7) {
        1 + index % 9
    } else {
        0
    };
    format!(
        r#"{{"organization-name":"{sender}","date-range":{{"start-datetime":"{year:04}-{month:02}-{mday:02}T00:00:00Z","end-datetime":"{year:04}-{month:02}-{mday:02}T23:59:59Z"}},"contact-info":"tlsrpt@sender.example","report-id":"bench-{index}","policies":[{{"policy":{{"policy-type":"sts","policy-string":["version: STSv1","mode: testing","mx: mx0.{domain}","mx: mx1.{domain}","max_age: 604800"],"policy-domain":"{domain}","mx-host":["mx0.{domain}","mx1.{domain}"]}},"summary":{{"total-successful-session-count":{},"total-failure-session-count":{failed}}}{failures}}}]}}"#,
        100 + index % 1000
    )
    .into_bytes()
}

/// Days since 1970-01-01 → (year, month, day); Hinnant's algorithm.
fn civil(days: usize) -> (i64, u32, u32) {
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn email(index: usize, report: &[u8]) -> Vec<u8> {
    format!(
        "From: noreply-smtp-tls-reporting@sender.example\r\nTo: tlsrpt@bench.test\r\n\
         Subject: Report Domain: bench {index}\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=\"tlsrpt\"; boundary=\"B{index}\"\r\n\r\n\
         --B{index}\r\nContent-Type: text/plain\r\n\r\nThis is an aggregate TLS report.\r\n\
         --B{index}\r\nContent-Type: application/tlsrpt+gzip\r\nContent-Transfer-Encoding: base64\r\n\
         Content-Disposition: attachment; filename=\"r{index}.json.gz\"\r\n\r\n{}\r\n--B{index}--\r\n",
        mime::base64_lines(&gzip(report))
    )
    .into_bytes()
}

/// Writes the corpus; returns (files, reports including duplicates).
fn generate(root: &Path, count: usize) -> (usize, usize) {
    let maildir = root.join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    let mut files = 0;
    let mut written = 0;
    let mut mbox = Vec::new();
    let mut mbox_messages = 0;
    let mut mbox_files = 0;
    let mut zip_pending: Vec<(usize, Vec<u8>)> = Vec::new();
    let flush_mbox = |mbox: &mut Vec<u8>, mbox_files: &mut usize, files: &mut usize| {
        if !mbox.is_empty() {
            fs::write(root.join(format!("archive-{mbox_files}.mbox")), &*mbox).unwrap();
            *mbox_files += 1;
            *files += 1;
            mbox.clear();
        }
    };
    for index in 0..count {
        let bytes = report(index);
        let copies = if index % 100 == 99 { 2 } else { 1 };
        for copy in 0..copies {
            written += 1;
            match index % 20 {
                0..=5 => {
                    fs::write(root.join(format!("r{index}-{copy}.json")), &bytes).unwrap();
                    files += 1;
                }
                6..=11 => {
                    fs::write(root.join(format!("r{index}-{copy}.json.gz")), gzip(&bytes)).unwrap();
                    files += 1;
                }
                12 | 13 => {
                    fs::write(
                        root.join(format!("r{index}-{copy}.eml")),
                        email(index, &bytes),
                    )
                    .unwrap();
                    files += 1;
                }
                14 | 15 => {
                    zip_pending.push((index * 2 + copy, bytes.clone()));
                    if zip_pending.len() == 2 {
                        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
                        let options = zip::write::SimpleFileOptions::default()
                            .compression_method(zip::CompressionMethod::Deflated);
                        for (name, data) in zip_pending.drain(..) {
                            writer.start_file(format!("r{name}.json"), options).unwrap();
                            writer.write_all(&data).unwrap();
                        }
                        let zipped = writer.finish().unwrap().into_inner();
                        fs::write(root.join(format!("z{index}-{copy}.zip")), zipped).unwrap();
                        files += 1;
                    }
                }
                16 | 17 => {
                    mbox.extend_from_slice(b"From sender@example Thu May  8 00:00:00 2025\n");
                    mbox.extend_from_slice(&email(index, &bytes));
                    mbox.push(b'\n');
                    mbox_messages += 1;
                    if mbox_messages % 200 == 0 {
                        flush_mbox(&mut mbox, &mut mbox_files, &mut files);
                    }
                }
                _ => {
                    let sub = if index % 2 == 0 { "cur" } else { "new" };
                    fs::write(
                        maildir.join(sub).join(format!("{index}.{copy}.bench:2,S")),
                        email(index, &bytes),
                    )
                    .unwrap();
                    files += 1;
                }
            }
        }
    }
    flush_mbox(&mut mbox, &mut mbox_files, &mut files);
    if !zip_pending.is_empty() {
        // An odd one left over: written as plain JSON.
        for (name, data) in zip_pending.drain(..) {
            fs::write(root.join(format!("left{name}.json")), data).unwrap();
            files += 1;
        }
    }
    (files, written)
}

/// CPU time of waited-for children, from `/proc/self/stat` (cutime + cstime).
fn children_cpu() -> Duration {
    let stat = fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .unwrap_or_default()
        .split_whitespace()
        .map(|field| field.parse().unwrap_or(0))
        .collect();
    // After the command name: field 3 (state) is index 0, so cutime (16) is 13, cstime (17) 14.
    let ticks = fields.get(13).copied().unwrap_or(0) + fields.get(14).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

fn main() {
    let count = std::env::args()
        .skip(1)
        .find(|arg| !arg.starts_with('-'))
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(DEFAULT_REPORTS);
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("reports");
    fs::create_dir(&corpus).unwrap();
    let started = Instant::now();
    let (files, written) = generate(&corpus, count);
    println!(
        "generated {written} report instances ({count} unique) in {files} files in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let binary = env!("CARGO_BIN_EXE_mtasts");
    let stdout_path = dir.path().join("out.json");
    let cpu_before = children_cpu();
    let started = Instant::now();
    let mut child = Command::new(binary)
        .args(["reports", "--format", "json"])
        .arg(&corpus)
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).unwrap())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let poller = peak::PeakPoller::start(child.id(), Duration::from_millis(5));
    let status = child.wait().unwrap();
    let wall = started.elapsed();
    let peak = poller.stop();
    let cpu = children_cpu().saturating_sub(cpu_before);

    let output: serde_json::Value =
        serde_json::from_slice(&fs::read(&stdout_path).unwrap()).unwrap();
    let counted = output["reports_counted"].as_u64().unwrap_or(0);
    let duplicates = output["duplicates"].as_u64().unwrap_or(0);
    let unreadable = output["unreadable"].as_array().map_or(0, Vec::len);
    let domains = output["domains"].as_array().map_or(0, Vec::len);
    println!("mtasts reports over {files} files ({written} report instances):");
    println!("  exit status  {:?}", status.code());
    println!("  wall time    {:.2} s", wall.as_secs_f64());
    println!("  reports/s    {:.0}", written as f64 / wall.as_secs_f64());
    match peak {
        Some(kib) => println!(
            "  peak RSS     {:.1} MiB (VmHWM polled every 5 ms)",
            kib as f64 / 1024.0
        ),
        None => println!("  peak RSS     unknown (the run ended before the first poll)"),
    }
    println!("  CPU time     {:.2} s", cpu.as_secs_f64());
    println!("  counted      {counted} reports, {duplicates} duplicates, {unreadable} unreadable, {domains} domains");
    assert_eq!(counted as usize, count, "every unique report is counted");
    assert_eq!(unreadable, 0, "nothing generated is unreadable");
}
