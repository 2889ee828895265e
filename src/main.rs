//! The `tollgate` binary: everything lives in the library; see `tollgate --help`.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    tollgate::cli::run()
}
