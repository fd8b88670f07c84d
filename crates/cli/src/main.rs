//! `evident`: the command line over the workspace. Thin: parsing, printing, exit codes.

mod args;
mod commands;
mod error;
mod output;

use clap::Parser;

use crate::args::Cli;

fn main() {
    // Like other Unix tools, stop quietly when the reader of our output goes away (`| head`).
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of one signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    // The server answers on every core; one-shot commands need no worker pool.
    let serving = matches!(
        cli.command,
        args::Command::Serve { .. } | args::Command::Demo { no_serve: false, .. }
    );
    let runtime = if serving {
        tokio::runtime::Builder::new_multi_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    }
    .expect("tokio runtime");
    evident_server::init_logging(serving);
    let code = match runtime.block_on(commands::run(cli)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    };
    std::process::exit(code);
}
