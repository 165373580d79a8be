//! `pertouch memory`: list, export, import and forget remembered edits.

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use pertouch_core::memory::{self, Store};
use pertouch_core::outputs::{self, OutputCheck};
use pertouch_core::printable;
use std::path::PathBuf;

/// Whose memory: the user and the host profile.
#[derive(Args, Debug, Clone)]
pub struct ProfileArgs {
    /// Host profile whose memory to use (cli, gimp, ofx, photoshop, or your own).
    #[arg(long, default_value = "cli", global = true)]
    pub profile: String,
    /// User whose memory to use (default: the login name).
    #[arg(long, global = true)]
    pub user: Option<String>,
}

impl ProfileArgs {
    pub fn store(&self) -> Result<Store> {
        let user = match &self.user {
            Some(u) => u.clone(),
            None => std::env::var("USER")
                .or_else(|_| std::env::var("USERNAME"))
                .unwrap_or_else(|_| "default".into()),
        };
        Ok(Store::open(&memory::default_root()?, &user, &self.profile)?)
    }
}

#[derive(Args, Debug)]
pub struct MemoryArgs {
    #[command(subcommand)]
    pub command: MemoryCommand,
    #[command(flatten)]
    pub who: ProfileArgs,
}

#[derive(Subcommand, Debug)]
pub enum MemoryCommand {
    /// List remembered edits (newest last).
    List {
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write every record to FILE (or standard output with -).
    Export { file: PathBuf },
    /// Add the records of an export (records already present are skipped).
    Import { file: PathBuf },
    /// Remove records: by id, by scene tag, or all of them.
    Forget {
        /// Record ids (as `list` shows them).
        ids: Vec<String>,
        /// Every record whose scene has this tag.
        #[arg(long)]
        tag: Option<String>,
        /// Every record of this user and profile.
        #[arg(long)]
        all: bool,
    },
}

/// Tells the user that a corrupt memory file was moved aside, if one was.
pub fn warn_set_aside(p: &Option<PathBuf>) {
    if let Some(p) = p {
        eprintln!(
            "warning: the memory file was corrupt; it was moved to {} and a new one started",
            p.display()
        );
    }
}

pub fn run(a: MemoryArgs) -> Result<()> {
    let store = a.who.store()?;
    match a.command {
        MemoryCommand::List { json } => {
            let opened = store.load()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&opened.records)?);
                return Ok(());
            }
            if opened.records.is_empty() {
                println!("no memories yet in {}", store.path().display());
            }
            // Records are text from files: shown escaped and cut, never obeyed.
            for r in &opened.records {
                println!(
                    "{}  {}  [{}]  \"{}\"  {}",
                    printable::short(&r.id),
                    if r.accepted { "accepted" } else { "rejected" },
                    printable::printable(&r.scene.tags.join(", "), 400),
                    printable::printable(&r.instruction, 400),
                    printable::printable(&serde_json::to_string(&r.state)?, 2000)
                );
                if let Some(why) = r.problem() {
                    println!("    (unusable, never recalled: {why})");
                }
            }
        }
        MemoryCommand::Export { file } => {
            let opened = store.load()?;
            let text = memory::export(&store, &opened.records);
            if file.as_os_str() == "-" {
                println!("{text}");
            } else {
                OutputCheck::new()
                    .input(store.path(), "the memory file")
                    .output(&file, "the export")
                    .check()?;
                outputs::write_file(&file, text.as_bytes())?;
                println!(
                    "exported {} records to {}",
                    opened.records.len(),
                    file.display()
                );
            }
        }
        MemoryCommand::Import { file } => {
            let records = memory::read_export(&file)?;
            let n = records.len();
            let opened = store.import(records)?;
            warn_set_aside(&opened.set_aside);
            println!(
                "imported {} of {n} records ({} were already here)",
                opened.value,
                n - opened.value
            );
        }
        MemoryCommand::Forget { ids, tag, all } => {
            if ids.is_empty() && tag.is_none() && !all {
                bail!("say which records to forget: ids, --tag TAG or --all");
            }
            let opened = store.forget(|r| {
                all || ids.contains(&r.id) || tag.as_ref().is_some_and(|t| r.scene.tags.contains(t))
            })?;
            warn_set_aside(&opened.set_aside);
            println!("forgot {} records", opened.value);
        }
    }
    Ok(())
}
