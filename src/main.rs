//! The `detloss` binary: the command line of [`detloss::cli_main`].

fn main() {
    // Ctrl-C: stop at once with the conventional 130. Reports are written
    // beside the old one and renamed into place, so the previous report stays.
    let _ = ctrlc::set_handler(|| std::process::exit(130));
    std::process::exit(detloss::cli_main());
}
