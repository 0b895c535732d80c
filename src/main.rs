//! The `recur` command line: one small function per subcommand over the library (see src/cli/).

mod cli;

use clap::Parser;

fn main() {
    // A closed pipe (`recur train | head -1`) ends the process quietly, as it does `cat`, instead
    // of a panic in the next `println!`: the shell sees 141 (128 + SIGPIPE).
    // SAFETY: setting a signal's disposition to the default before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    recur::tensor::gemm::keep_freed_memory();
    let args = cli::Cli::parse();
    if let Err(err) = cli::run(args) {
        eprintln!("error: {err}");
        std::process::exit(2);
    }
}
