//! The arguments every durable-queue command shares (`email list|retry`, `push
//! list|retry`): which rows, how many, and the ids to send again.

use clap::{Args, ValueEnum};

use crate::jobs::QueueFilter;

/// `list`: rows by status.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Which rows.
    #[arg(long, value_enum, default_value = "queued")]
    pub status: Status,
    /// At most this many.
    #[arg(long, default_value_t = 50)]
    pub limit: i64,
    /// One JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `retry`: rows to send again.
#[derive(Debug, Args)]
pub struct RetryArgs {
    /// Row ids (`list` shows them).
    pub ids: Vec<i64>,
    /// Every dead row too.
    #[arg(long)]
    pub dead: bool,
}

/// A queued row's state.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Status {
    /// Waiting for a worker, or being sent.
    Queued,
    /// Failed; will be retried.
    Failed,
    /// Given up (out of attempts, or refused for good).
    Dead,
    /// Delivered.
    Sent,
}

impl From<Status> for QueueFilter {
    fn from(s: Status) -> Self {
        match s {
            Status::Queued => QueueFilter::Queued,
            Status::Failed => QueueFilter::Failed,
            Status::Dead => QueueFilter::Dead,
            Status::Sent => QueueFilter::Sent,
        }
    }
}
