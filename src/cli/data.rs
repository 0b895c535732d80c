//! `recur data fetch ptb`: download the PTB splits with their checksums checked.

use clap::{Subcommand, ValueEnum};
use recur::data::fetch::{fetch, PTB_BASE_URL, PTB_FILES};
use recur::Result;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Dataset {
    /// Penn Treebank (Mikolov's LM version): ptb.train.txt, ptb.valid.txt, ptb.test.txt.
    Ptb,
}

#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Download a dataset (files already present with the right checksum are kept).
    Fetch {
        dataset: Dataset,
        /// Folder to write the files into.
        #[arg(long, default_value = "data/ptb", value_name = "DIR")]
        dir: PathBuf,
        /// Base URL the file names are appended to.
        #[arg(long, default_value = PTB_BASE_URL)]
        url: String,
    },
}

pub fn run(cmd: DataCommand) -> Result<()> {
    match cmd {
        DataCommand::Fetch { dataset: Dataset::Ptb, dir, url } => {
            let paths = fetch(&dir, &url, &PTB_FILES, &mut |line| println!("{line}"))?;
            println!("{} files in {}", paths.len(), dir.display());
            Ok(())
        }
    }
}
