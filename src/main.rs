//! The `detloss` binary: parses the command line and maps errors to exit codes.

use clap::Parser;

fn main() {
    // Ctrl-C: stop at once with the conventional 130. Reports are written
    // beside the old one and renamed into place, so the previous report stays.
    let _ = ctrlc::set_handler(|| std::process::exit(130));
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
