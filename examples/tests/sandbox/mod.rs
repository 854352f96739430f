//! A directory and SQLite database of its own for one test's runs of a built binary.
#![allow(dead_code)] // each test file uses part of it

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// A directory and SQLite database for one test's runs of a binary.
pub struct Sandbox {
    pub dir: PathBuf,
    binary: &'static str,
}

impl Sandbox {
    pub fn new(binary: &'static str) -> Sandbox {
        let dir = std::env::temp_dir().join(format!("nets-cli-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Sandbox { dir, binary }
    }

    pub fn quickstart() -> Sandbox {
        Sandbox::new(env!("CARGO_BIN_EXE_quickstart"))
    }

    pub fn projects() -> Sandbox {
        Sandbox::new(env!("CARGO_BIN_EXE_projects"))
    }

    /// Runs `args` with extra environment variables.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = self.command(args);
        command.envs(env.iter().copied());
        command.output().expect("the binary runs")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(self.binary);
        command
            .args(args)
            .current_dir(&self.dir)
            .env("DATABASE_URL", format!("sqlite://{}/app.db?mode=rwc", self.dir.display()))
            .env("RUST_LOG", "warn")
            .env_remove("NETS_ADDR")
            .env_remove("REDIS_URL")
            .env_remove("DEBUG")
            .env_remove("SECRET_KEY")
            .env_remove("NETS_CONFIG")
            .env_remove("NETS_CLIENT_SECRET")
            .env_remove("FIREBASE_CONFIG")
            .stdin(Stdio::null());
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("the binary runs")
    }

    /// Runs a command that must succeed; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }

    /// Runs a command that must succeed and print JSON.
    pub fn json(&self, args: &[&str]) -> Value {
        let text = self.ok(args);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {text}"))
    }

    /// Runs a command that must fail with status 1 and one clear error line; that line.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"), "{args:?} panicked: {stderr}");
        let error =
            stderr.lines().find(|l| l.starts_with("error: ")).unwrap_or_else(|| panic!("no error line: {stderr}"));
        error.to_owned()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
