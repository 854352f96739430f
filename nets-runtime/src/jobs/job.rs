//! What a job type is: the [`Job`] trait, the errors its runs return, and what the
//! storage says about one queued job.

use std::fmt;
use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A kind of background job: a payload stored in the job storage and the code a worker
/// runs for it.
///
/// The payload is the implementing type itself, stored as JSON (and cloned for each
/// retry, hence `Clone`). `NAME` names the queue
/// (`<NETS_CORE_JOBS_QUEUE_PREFIX>:<NAME>`): once jobs of a type may be queued, its name
/// and its payload's JSON shape are a storage format, changed only with a migration
/// plan. Names are non-empty and made of ASCII letters, digits, `_`, `-` and `.`
/// (`push.fanout`, `social.avatar`); any other name is a compile error where the type is
/// registered or queued.
///
/// `run` gets the [`Context`](Job::Context) given when the type was registered on a
/// [`Worker`](super::Worker): the mailer, an HTTP client, a database handle. Delivery is
/// at least once (a worker killed mid-run leaves the job to another worker), so `run`
/// must be idempotent: check before acting, as the e-mail job checks its row.
///
/// ```
/// use nets_runtime::db::Db;
/// use nets_runtime::jobs::{Job, JobError};
///
/// /// Downloads a user's avatar after a social login.
/// #[derive(Clone, serde::Serialize, serde::Deserialize)]
/// struct FetchAvatar {
///     user_id: i64,
///     url: String,
/// }
///
/// impl Job for FetchAvatar {
///     const NAME: &'static str = "social.avatar";
///     type Context = Db;
///
///     async fn run(&self, db: &Db) -> Result<(), JobError> {
///         if !self.url.starts_with("https://") {
///             // Will never work: dead at once, no retries.
///             return Err(JobError::permanent(format!("not an https URL: {}", self.url)));
///         }
///         // .. download, store, then record it; a failure is retried with backoff:
///         // Err(JobError::retry(e))
///         let _ = (db, self.user_id);
///         Ok(())
///     }
/// }
/// ```
pub trait Job: Clone + Serialize + DeserializeOwned + Send + Sync + Unpin + 'static {
    /// The job type's stable name: the last part of its queue's name.
    const NAME: &'static str;

    /// What `run` needs (a `Mailer`, a `Db`, an HTTP client), given when the type is
    /// registered on a worker and shared by every run of that type there; `()` when it
    /// needs nothing.
    type Context: Send + Sync + 'static;

    /// Does the work. `Ok` finishes the job; [`JobError::Retry`] runs it again after a
    /// backoff until `NETS_CORE_JOBS_MAX_ATTEMPTS`; [`JobError::Permanent`] makes it dead
    /// at once. Dead jobs stay in the storage ([`Jobs::status`](super::Jobs::status)).
    fn run(&self, context: &Self::Context) -> impl Future<Output = Result<(), JobError>> + Send;
}

/// Why a run of a [`Job`] failed, and so whether it is tried again.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// Worth another attempt (a server down, a database busy): retried with exponential
    /// backoff until `NETS_CORE_JOBS_MAX_ATTEMPTS`, then dead.
    #[error("{0}")]
    Retry(String),
    /// Will never work (a malformed payload, a refused address): dead now.
    #[error("{0}")]
    Permanent(String),
}

impl JobError {
    /// A failure worth another attempt.
    pub fn retry(error: impl fmt::Display) -> JobError {
        JobError::Retry(error.to_string())
    }

    /// A failure no attempt will fix.
    pub fn permanent(error: impl fmt::Display) -> JobError {
        JobError::Permanent(error.to_string())
    }

    /// Whether the job is dead at once.
    pub fn is_permanent(&self) -> bool {
        matches!(self, JobError::Permanent(_))
    }
}

/// A queued job: its type's [`Job::NAME`] and its id in the storage. Returned by
/// [`Jobs::enqueue`](super::Jobs::enqueue), read back with
/// [`Jobs::status`](super::Jobs::status). Written `<name>/<id>` and parsed back from it
/// (for logs and operations commands):
///
/// ```
/// use nets_runtime::jobs::JobId;
///
/// let id: JobId = "email/01KB4T3S2Y8Y7J3GQ4ZC4M6N7P".parse().unwrap();
/// assert_eq!((id.job(), id.id()), ("email", "01KB4T3S2Y8Y7J3GQ4ZC4M6N7P"));
/// assert_eq!(id.to_string(), "email/01KB4T3S2Y8Y7J3GQ4ZC4M6N7P");
/// assert!("email".parse::<JobId>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JobId {
    job: String,
    id: String,
}

impl JobId {
    pub(super) fn new(job: &str, id: String) -> JobId {
        JobId { job: job.to_owned(), id }
    }

    /// The job type's name.
    pub fn job(&self) -> &str {
        &self.job
    }

    /// The storage's id of the job (a ULID).
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.job, self.id)
    }
}

impl std::str::FromStr for JobId {
    type Err = super::JobsError;

    /// `<name>/<id>`, as [`Display`](fmt::Display) writes it.
    fn from_str(s: &str) -> Result<JobId, Self::Err> {
        match s.split_once('/') {
            Some((job, id)) if valid_name(job) && !id.is_empty() && !id.contains('/') => {
                Ok(JobId { job: job.to_owned(), id: id.to_owned() })
            }
            _ => Err(super::JobsError::InvalidJobId(s.to_owned())),
        }
    }
}

/// Where a queued job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JobState {
    /// In its queue, not taken by a worker yet. A job whose type no running worker
    /// registered stays here until one that does starts: never run, never lost.
    Waiting,
    /// Taken by a worker (running, or retrying in that worker after a failure).
    Running,
    /// Failed with attempts left; a worker takes it again.
    Failed,
    /// Done.
    Done,
    /// Failed for good (`NETS_CORE_JOBS_MAX_ATTEMPTS` reached, or a
    /// [`JobError::Permanent`]): kept in the storage, never run again.
    Dead,
}

/// What the storage says about one job: [`Jobs::status`](super::Jobs::status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobStatus {
    /// Where it is.
    pub state: JobState,
    /// Attempts recorded so far (a run cut short by a dead worker counts too).
    pub attempts: u32,
}

/// Checked at compile time for every job type registered or queued.
pub(super) struct ValidName<J>(std::marker::PhantomData<J>);

impl<J: Job> ValidName<J> {
    pub(super) const CHECKED: () =
        assert!(valid_name(J::NAME), "Job::NAME must be non-empty ASCII letters, digits, '_', '-' or '.'");
}

/// Non-empty ASCII letters, digits, `_`, `-`, `.`: safe in queue names and Redis keys.
pub(super) const fn valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    if bytes.is_empty() {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.') {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::valid_name;

    #[test]
    fn job_names_are_limited_to_what_queue_names_and_redis_keys_take() {
        for ok in ["email", "push.fanout", "social-avatar_2"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "a:b", "a b", "{x}", "é", "a/b", "a*"] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }
}
