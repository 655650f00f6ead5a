//! The per-domain deadline as a probe wrapper: every answer is due by the deadline, and what it
//! cut short is recorded as data ([`DeadlineCut`]) for the verdict, which turns the problems that
//! rest on a cut question into "could not determine".

use std::future::Future;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use super::Probe;
use crate::model::Subject;
use crate::observe::{
    whole_millis, DeadlineCut, DnsAnswer, FetchObservation, FetchStep, HandshakeObservation,
    HostLookup, MxRecord, NotContacted, SmtpObservation, SmtpStep, StepFailure, TxtRecord,
};

/// A probe whose every answer is due by `deadline`; a question still open then is answered
/// as failed for `reason`, and one asked after it is not asked at all.
pub struct DeadlineProbe<'a, P> {
    inner: &'a P,
    deadline: Instant,
    reason: &'a str,
    cut: Mutex<Option<DeadlineCut>>,
}

impl<'a, P: Probe> DeadlineProbe<'a, P> {
    /// Every answer is due `timeout` from now.
    pub fn new(inner: &'a P, timeout: Duration, reason: &'a str) -> Self {
        Self {
            inner,
            deadline: Instant::now() + timeout,
            reason,
            cut: Mutex::new(None),
        }
    }

    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// What the deadline cut short, if it cut anything.
    pub fn into_cut(self) -> Option<DeadlineCut> {
        self.cut
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }

    async fn within<T>(
        &self,
        work: impl Future<Output = T>,
        endpoint: Option<(&str, IpAddr)>,
    ) -> Option<T> {
        if Instant::now() < self.deadline {
            if let Ok(answer) = tokio::time::timeout_at(self.deadline, work).await {
                return Some(answer);
            }
        }
        let mut cut = self.cut.lock().unwrap_or_else(PoisonError::into_inner);
        let cut = cut.get_or_insert_with(|| DeadlineCut {
            reason: self.reason.to_owned(),
            endpoints: Vec::new(),
        });
        if let Some((host, ip)) = endpoint {
            cut.endpoints.push(Subject::endpoint(host, ip));
        }
        None
    }

    fn failed<T>(&self) -> DnsAnswer<T> {
        DnsAnswer::Failed {
            reason: self.reason.to_owned(),
        }
    }

    /// [`NotContacted::DeadlinePassed`] if the deadline has passed already, before a question
    /// about an address is asked.
    fn late(&self) -> Option<NotContacted> {
        (Instant::now() >= self.deadline).then_some(NotContacted::DeadlinePassed)
    }

    fn deadline_failure<S>(&self, step: S) -> StepFailure<S> {
        StepFailure {
            step,
            timed_out: true,
            detail: self.reason.to_owned(),
        }
    }
}

impl<P: Probe> Probe for DeadlineProbe<'_, P> {
    async fn txt(&self, name: &str) -> DnsAnswer<Vec<TxtRecord>> {
        let answer = self.within(self.inner.txt(name), None).await;
        answer.unwrap_or_else(|| self.failed())
    }

    async fn mx(&self, name: &str) -> DnsAnswer<Vec<MxRecord>> {
        let answer = self.within(self.inner.mx(name), None).await;
        answer.unwrap_or_else(|| self.failed())
    }

    async fn addrs(&self, name: &str) -> HostLookup {
        let answer = self.within(self.inner.addrs(name), None).await;
        answer.unwrap_or_else(|| HostLookup {
            name: name.to_owned(),
            a: self.failed(),
            aaaa: self.failed(),
        })
    }

    async fn tlsa(&self, name: &str) -> DnsAnswer<Vec<String>> {
        let answer = self.within(self.inner.tlsa(name), None).await;
        answer.unwrap_or_else(|| self.failed())
    }

    async fn fetch_policy(&self, host: &str, ip: IpAddr) -> FetchObservation {
        let started = Instant::now();
        let late = self.late();
        let work = self.inner.fetch_policy(host, ip);
        let answer = self.within(work, Some((host, ip))).await;
        answer.unwrap_or_else(|| FetchObservation {
            ip,
            elapsed: whole_millis(started.elapsed()),
            tls: None,
            result: Err(self.deadline_failure(FetchStep::Deadline)),
            not_contacted: late,
        })
    }

    async fn tls_handshake(
        &self,
        host: &str,
        ip: IpAddr,
        port: Option<u16>,
    ) -> HandshakeObservation {
        let work = self.inner.tls_handshake(host, ip, port);
        let answer = self.within(work, None).await;
        answer.unwrap_or_else(|| HandshakeObservation {
            ip,
            tls: Err(self.deadline_failure(FetchStep::Deadline)),
        })
    }

    async fn smtp(&self, host: &str, ip: IpAddr) -> SmtpObservation {
        let late = self.late();
        let answer = self
            .within(self.inner.smtp(host, ip), Some((host, ip)))
            .await;
        answer.unwrap_or_else(|| {
            let mut obs = SmtpObservation::unanswered(
                host,
                ip,
                self.reason,
                Some(self.deadline_failure(SmtpStep::Deadline)),
            );
            if late.is_some() {
                obs.attempts = 0;
            }
            obs.not_contacted = late;
            obs
        })
    }
}
