//! The `recur` command line: one small function per subcommand over the library (see src/cli/).

mod cli;

use clap::Parser;

fn main() {
    recur::tensor::gemm::keep_freed_memory();
    let args = cli::Cli::parse();
    if let Err(err) = cli::run(args) {
        eprintln!("error: {err}");
        std::process::exit(2);
    }
}
