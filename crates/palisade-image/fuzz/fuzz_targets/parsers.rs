//! Fuzz target: the package-database and binary parsers on arbitrary bytes (the first byte
//! picks the parser). Each must return packages or an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::Limits;
use palisade_image::inventory::{apk, binary, cargo_lock, dpkg, java, npm, os, python, rpm};

fuzz_target!(|data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(bytes);
    match which % 11 {
        0 => drop(binary::packages(bytes)),
        1 => drop(binary::auditable_packages(bytes)),
        2 => drop(rpm::parse_header(bytes)),
        3 => drop(rpm::parse_sqlite_db(bytes, None)),
        4 => {
            let limits = Limits {
                max_kept_file_size: 4 << 20,
                ..Limits::default()
            };
            drop(java::packages("fuzz.jar", bytes, &limits));
        }
        5 => drop(npm::parse_lockfile(bytes)),
        6 => drop(npm::parse_package_json(bytes)),
        7 => drop(cargo_lock::parse(&text)),
        8 => drop(dpkg::parse_status(&text, None, false)),
        9 => drop(apk::parse_installed(&text, None)),
        _ => {
            drop(python::parse_metadata(&text));
            drop(os::parse_os_release(&text));
        }
    }
});
