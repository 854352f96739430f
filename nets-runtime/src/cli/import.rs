//! `import-django`: moving a django-nets-core deployment's data (see
//! [`django_import`](crate::django_import)).

use std::process::ExitCode;

use super::BoxError;
use crate::django_import::{Options, Report, import};
use crate::stack::Stack;

/// Imports (or, without `--apply`, reports what would be imported) and prints the counts.
pub(super) async fn run(stack: &Stack, options: Options, json: bool) -> Result<ExitCode, BoxError> {
    let report = import(&stack.db, &stack.oauth, &stack.settings, &options).await?;
    if report.applied {
        // Servers running now drop cached permissions (and their answers) at once.
        if let Some(perms) = &stack.perms {
            perms.invalidate().await?;
        }
    }
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", table(&report));
    }
    Ok(ExitCode::SUCCESS)
}

fn table(report: &Report) -> String {
    let mut out = format!("{:<18} {:>8} {:>8} {:>10} {:>8}\n", "", "created", "updated", "unchanged", "skipped");
    for (kind, c) in &report.kinds {
        out.push_str(&format!("{kind:<18} {:>8} {:>8} {:>10} {:>8}\n", c.created, c.updated, c.unchanged, c.skipped));
    }
    for note in &report.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    out.push_str(if report.applied {
        "applied.\n"
    } else {
        "dry run: nothing was written; run again with --apply to import.\n"
    });
    out
}
