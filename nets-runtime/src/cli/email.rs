//! `email list|retry|send-custom`: the e-mail queue.

use std::process::ExitCode;

use clap::Subcommand;

use super::BoxError;
use super::progress::Progress;
use super::queue::{ListArgs, RetryArgs};
use crate::mail::QueueFilter;
use crate::stack::Stack;

/// Operate the e-mail queue.
#[derive(Debug, Subcommand)]
#[non_exhaustive]
pub enum EmailCommand {
    /// List queued e-mails by status.
    List(ListArgs),
    /// Send failed or dead e-mails again.
    Retry(RetryArgs),
    /// Queue a `nets_custom_email` (a newsletter) to its recipients, with progress.
    SendCustom {
        /// The custom e-mail's id.
        id: i64,
    },
}

pub(super) async fn run(stack: &Stack, command: EmailCommand) -> Result<ExitCode, BoxError> {
    let mailer = stack.mailer.as_ref().ok_or("the mailer is turned off in this app")?;
    match command {
        EmailCommand::List(ListArgs { status, limit, json }) => {
            let rows = mailer.queue(status.into(), limit).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{:>8}  {:<8} {:>8}  {:<24} {:<32} subject / last error",
                "id", "status", "attempts", "created", "to"
            );
            for r in &rows {
                let error = r.last_error.as_deref().map(|e| format!(" / {e}")).unwrap_or_default();
                println!(
                    "{:>8}  {:<8} {:>8}  {:<24} {:<32} {}{error}",
                    r.id, r.status, r.attempts, r.created, r.recipients, r.subject
                );
            }
            eprintln!("{} e-mail(s)", rows.len());
        }
        EmailCommand::Retry(RetryArgs { mut ids, dead }) => {
            if dead {
                ids.extend(mailer.queue(QueueFilter::Dead, i64::MAX).await?.into_iter().map(|r| r.id));
            }
            for id in ids {
                let queued = mailer.retry(id).await?;
                println!("{id}: {}", if queued { "queued again" } else { "not failed: left alone" });
            }
        }
        EmailCommand::SendCustom { id } => {
            let progress = Progress::bar("queueing");
            let done = mailer
                .queue_custom_email(id, |p| {
                    let line = || format!("queued {}/{} ({} dropped)", p.processed, p.total, p.dropped);
                    progress.update(p.processed as u64, p.total as u64, line)
                })
                .await?;
            progress.finish();
            println!("{} message(s) queued, {} recipient(s) dropped; workers send them", done.queued, done.dropped);
        }
    }
    Ok(ExitCode::SUCCESS)
}
