//! `push test|list|retry`: the original's `test_push_notification` command, and the
//! push deliveries like the e-mail queue.

use std::process::ExitCode;

use clap::Subcommand;
use serde_json::{Map, Value, json};

use super::BoxError;
use super::queue::{ListArgs, RetryArgs};
use crate::jobs::QueueFilter;
use crate::push::{Notification, Push};

/// Send test pushes; list and retry deliveries.
#[derive(Debug, Subcommand)]
#[non_exhaustive]
pub enum PushCommand {
    /// Send a notification now to a user's devices (`--user-id`) or to one token
    /// (`--token`): one JSON line per device, exit status 1 when any was not sent.
    Test {
        /// Every active device (with a push token) of this user.
        #[arg(long, required_unless_present = "token", conflicts_with = "token")]
        user_id: Option<i64>,
        /// One FCM registration token.
        #[arg(long)]
        token: Option<String>,
        /// The title.
        #[arg(long, default_value = "nets")]
        title: String,
        /// The text.
        #[arg(long, default_value = "Hello from nets (push test)")]
        message: String,
        /// A data entry, `key=value` (repeat for more).
        #[arg(long = "data", value_name = "KEY=VALUE", value_parser = key_value)]
        data: Vec<(String, String)>,
    },
    /// List deliveries (a notification to one device) by status.
    List(ListArgs),
    /// Send failed or dead deliveries again (after fixing FIREBASE_CONFIG, say).
    Retry(RetryArgs),
}

/// `key=value`, the key non-empty.
fn key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got {s:?}")),
    }
}

pub(super) async fn run(push: Option<&Push>, command: PushCommand) -> Result<ExitCode, BoxError> {
    let push = push.ok_or("push notifications are turned off in this app")?;
    match command {
        PushCommand::Test { user_id, token, title, message, data } => {
            let data: Map<String, Value> = data.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
            let notification = Notification::new(title, message).data_map(data);
            test(push, user_id, token, notification).await
        }
        PushCommand::List(ListArgs { status, limit, json }) => {
            let rows = push.queue(status.into(), limit).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{:>8}  {:>12}  {:>8}  {:>8}  {:<8} {:>8}  {:<24} title / last error",
                "id", "notification", "user", "device", "status", "attempts", "created"
            );
            for r in &rows {
                let error = r.last_error.as_deref().map(|e| format!(" / {e}")).unwrap_or_default();
                println!(
                    "{:>8}  {:>12}  {:>8}  {:>8}  {:<8} {:>8}  {:<24} {}{error}",
                    r.id, r.notification_id, r.user_id, r.device_id, r.status, r.attempts, r.created, r.title
                );
            }
            eprintln!("{} deliver(ies)", rows.len());
            Ok(ExitCode::SUCCESS)
        }
        PushCommand::Retry(RetryArgs { mut ids, dead }) => {
            if dead {
                ids.extend(push.queue(QueueFilter::Dead, i64::MAX).await?.into_iter().map(|r| r.id));
            }
            for id in ids {
                let queued = push.retry(id).await?;
                println!("{id}: {}", if queued { "queued again" } else { "not failed: left alone" });
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Sends inline and prints one JSON line per device (or for the token); failure when
/// anything was not sent, or there was nothing to send to.
async fn test(
    push: &Push,
    user_id: Option<i64>,
    token: Option<String>,
    notification: Notification,
) -> Result<ExitCode, BoxError> {
    let mut all_sent = true;
    match (user_id, token) {
        (Some(user), _) => {
            let results = push.send_to_user_now(user, notification).await?;
            if results.is_empty() {
                return Err(format!("user {user} has no active device with a push token").into());
            }
            for (device, result) in results {
                all_sent &= result.success;
                let mut line = json!({"device_id": device});
                if let (Value::Object(line), Ok(Value::Object(result))) = (&mut line, serde_json::to_value(&result)) {
                    line.extend(result);
                }
                println!("{line}");
            }
        }
        (None, Some(token)) => {
            let line = match push.send_to_token(&token, &notification).await {
                Ok(name) => json!({"token": token, "success": true, "message_id": name}),
                Err(e) => {
                    all_sent = false;
                    json!({"token": token, "success": false, "error": e.to_string()})
                }
            };
            println!("{line}");
        }
        (None, None) => return Err("user_id or firebase_token is required: --user-id N or --token T".into()),
    }
    Ok(if all_sent { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct T {
        #[command(subcommand)]
        c: PushCommand,
    }

    #[tokio::test]
    async fn push_cli_parses_and_exits_by_outcome() {
        let parsed = T::try_parse_from(["x", "test", "--user-id", "3", "--data", "a=b", "--data", "c=d=e"]).unwrap();
        assert!(
            matches!(parsed.c, PushCommand::Test { user_id: Some(3), ref data, .. } if data.len() == 2 && data[1].1 == "d=e")
        );
        assert!(T::try_parse_from(["x", "test"]).is_err());
        assert!(T::try_parse_from(["x", "test", "--user-id", "1", "--token", "t"]).is_err());
        assert!(T::try_parse_from(["x", "test", "--token", "t", "--data", "novalue"]).is_err());
        let debug = crate::Settings { debug: true, ..crate::Settings::default() };
        let console = Push::builder(&debug).service_account("").build().unwrap();
        let cmd = T::try_parse_from(["x", "test", "--token", "t"]).unwrap().c;
        assert_eq!(run(Some(&console), cmd).await.unwrap(), std::process::ExitCode::SUCCESS);
        let off = Push::builder(&crate::Settings::default()).service_account("").build().unwrap();
        let cmd = T::try_parse_from(["x", "test", "--token", "t"]).unwrap().c;
        assert_eq!(run(Some(&off), cmd).await.unwrap(), std::process::ExitCode::FAILURE);
        let cmd = T::try_parse_from(["x", "test", "--user-id", "1"]).unwrap().c;
        assert!(run(Some(&off), cmd).await.is_err(), "no database");
        let cmd = T::try_parse_from(["x", "list"]).unwrap().c;
        assert!(run(None, cmd).await.is_err());
    }
}
