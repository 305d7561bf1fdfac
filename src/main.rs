//! The `detloss` binary: parses the command line and maps errors to exit codes.

use clap::Parser;

fn main() {
    let cli = detloss::cli::Cli::parse();
    let code = match detloss::cli::execute(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{e}");
            e.exit_code()
        }
    };
    std::process::exit(code);
}
