//! Arbitrary bytes as a configuration file: no panic, no hang; a parsed file always yields a
//! digest and options, and parsing is deterministic. Includes are served from the input
//! itself (any include path reads the second half), environment variables are fixed.
#![no_main]

use engine::conf::{self, Host};

/// Serves every include with the same bytes and a couple of environment variables.
struct FuzzHost<'a> {
    include: &'a [u8],
}

impl Host for FuzzHost<'_> {
    fn read(&mut self, path: &str) -> Result<Vec<u8>, String> {
        if path.ends_with("missing.conf") {
            return Err(format!("open {path}: no such file or directory"));
        }
        Ok(self.include.to_vec())
    }

    fn env(&self, name: &str) -> Option<String> {
        match name {
            "A" => Some("1KB".to_string()),
            "B" => Some("$A".to_string()),
            "LOOP" => Some("$LOOP".to_string()),
            "M" => Some("{ x: [1, 2 ] }".to_string()),
            _ => None,
        }
    }
}

fn check(data: &[u8]) {
    let split = data.iter().position(|&b| b == 0xff).unwrap_or(data.len());
    let (main, include) = (&data[..split], data.get(split + 1..).unwrap_or(&[]));
    let first = conf::parse_bytes(main, "dir/fuzz.conf", &mut FuzzHost { include });
    let second = conf::parse_bytes(main, "dir/fuzz.conf", &mut FuzzHost { include });
    assert_eq!(first, second, "parsing is not deterministic");
    if let Ok(doc) = first {
        let digest = doc.digest();
        assert!(digest.starts_with("sha256:") && digest.len() == 7 + 64);
        let mapped = conf::map_options("dir/fuzz.conf", &doc.root);
        for issue in mapped.errors.iter().chain(&mapped.warnings) {
            assert!(!issue.to_string().is_empty());
        }
    } else if let Err(e) = second {
        assert!(!e.to_string().is_empty());
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| check(data));
