//! Locating the cargo target directory from inside a test executable.

use std::path::PathBuf;

/// The directory of the current build profile (`target/<profile>`).
///
/// Test executables live in `target/<profile>/deps/<name>-<hash>`, so the
/// profile directory is two levels above the executable.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("cannot determine the current executable path");
    let deps = exe
        .parent()
        .expect("test executable has no parent directory");
    let profile = if deps.file_name().is_some_and(|name| name == "deps") {
        deps.parent().unwrap_or(deps)
    } else {
        deps
    };
    profile.to_path_buf()
}

/// The cargo target directory (`CARGO_TARGET_DIR` if set, else the parent of
/// the profile directory).
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        let dir = PathBuf::from(dir);
        if dir.is_absolute() {
            return dir;
        }
    }
    let profile = profile_dir();
    profile.parent().map(PathBuf::from).unwrap_or(profile)
}
