//! `pertouch models`: installed model packages.

use anyhow::{anyhow, Result};
use clap::{Args, Subcommand};
use pertouch_core::onnx::{self, package, RuntimeConfig, SessionOptions};
use pertouch_core::paths;
use pertouch_core::printable;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ModelsArgs {
    #[command(subcommand)]
    pub command: ModelsCommand,
}

#[derive(Subcommand, Debug)]
pub enum ModelsCommand {
    /// List installed packages and whether their manifests read.
    List,
    /// Check a package's file hashes and that its graph matches its manifest.
    Verify { name: String },
    /// Print the folder of an installed package (or of all packages).
    Path { name: Option<String> },
    /// Install a package folder (files are checked first).
    Import { dir: PathBuf },
}

fn root() -> Result<PathBuf> {
    paths::models_dir()
        .ok_or_else(|| anyhow!("no data folder on this platform: set PERTOUCH_DATA_DIR"))
}

pub fn run(a: ModelsArgs) -> Result<()> {
    let root = root()?;
    match a.command {
        ModelsCommand::List => {
            let all = package::installed(&root);
            if all.is_empty() {
                println!(
                    "no model packages in {} (pertouch models import DIR)",
                    root.display()
                );
            }
            for (dir, p) in all {
                match p {
                    // The task is the package's own text: shown, never obeyed.
                    Ok(p) => println!(
                        "{:<28} {:<20} {} files  {}",
                        p.manifest.name,
                        printable::short(&p.manifest.task),
                        p.manifest.files.len(),
                        dir.display()
                    ),
                    Err(e) => println!("{:<28} unreadable: {e}", dir.display()),
                }
            }
        }
        ModelsCommand::Verify { name } => {
            let p = package::find(&root, &name)?;
            p.verify_files()?;
            println!("{name}: every file matches its SHA-256");
            let rt = onnx::load(&RuntimeConfig::default())?;
            for (role, s) in p.open_all(rt, &SessionOptions::default())? {
                let graph = if role == "model" {
                    "the graph".to_string()
                } else {
                    format!("graph {role}")
                };
                println!(
                    "{name}: {graph} matches the manifest (inputs: {}; outputs: {}); runs on {}",
                    s.inputs
                        .iter()
                        .map(|i| i.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                    s.outputs
                        .iter()
                        .map(|o| o.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                    s.provider.name()
                );
            }
        }
        ModelsCommand::Path { name } => match name {
            Some(n) => println!("{}", package::find(&root, &n)?.dir.display()),
            None => println!("{}", root.display()),
        },
        ModelsCommand::Import { dir } => {
            let p = package::import(&dir, &root)?;
            println!("installed {} into {}", p.manifest.name, p.dir.display());
        }
    }
    Ok(())
}
