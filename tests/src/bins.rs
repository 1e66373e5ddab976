//! Finding the workspace binaries the tests run.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// `CHAT_BIN_DIR`, else the profile directory the running test was built
/// into: tests live in `target/<profile>/deps/`, binaries one level up.
pub fn bin_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("CHAT_BIN_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let exe = std::env::current_exe().context("cannot tell where the test binary is")?;
    let mut dir = exe
        .parent()
        .context("the test binary has no parent directory")?
        .to_path_buf();
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.pop();
    }
    Ok(dir)
}

/// The path of binary `name`, or an error saying how to build it.
pub fn binary(name: &str) -> anyhow::Result<PathBuf> {
    let dir = bin_dir()?;
    let path = dir.join(name);
    if is_file(&path) {
        return Ok(path);
    }
    bail!(
        "binary {name} not found in {}: run `cargo build --workspace --bins` first \
         (or point CHAT_BIN_DIR at a directory holding it)",
        dir.display()
    )
}

fn is_file(path: &Path) -> bool {
    path.metadata().is_ok_and(|m| m.is_file())
}

/// Whether `name` resolves on `PATH` (for optional helpers like redis-server).
pub fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| is_file(p))
    })
}
