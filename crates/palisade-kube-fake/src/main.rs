//! `palisade-kube-fake [--token T | --no-token] [--listen ADDR] [--dir D] [PATH...]`: serves the
//! fake API until killed, after loading objects from each PATH (a `.json` file holding an
//! object, an array or a `kind: List`; a `.yaml`/`.yml` stream; a directory of those, in sorted
//! order). Prints the URL, the paths of the CA certificate and of the kubeconfig written into
//! `--dir` (default: a new directory under the system temp dir), then how many objects it holds.

use std::path::{Path, PathBuf};

use palisade_kube_fake::{Config, FakeApiServer};
use serde_json::Value;

fn main() {
    if let Err(e) = run() {
        eprintln!("palisade-kube-fake: {e}");
        std::process::exit(2);
    }
}

fn objects(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        Value::Object(ref m) if m.get("kind").and_then(Value::as_str) == Some("List") => m
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        other => vec![other],
    }
}

type Error = Box<dyn std::error::Error>;

/// The files under `path` (itself when it is a file; a directory's entries in sorted order).
fn files(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        for entry in entries {
            files(&entry, out)?;
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}

/// The objects of one file (see the module documentation).
fn load_file(path: &Path) -> Result<Vec<Value>, String> {
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| fail(&e))?;
    let values: Vec<Value> = match path.extension().and_then(|e| e.to_str()) {
        Some("yaml" | "yml") => serde_saphyr::from_multiple(&text).map_err(|e| fail(&e))?,
        _ => vec![serde_json::from_str(&text).map_err(|e| fail(&e))?],
    };
    Ok(values
        .into_iter()
        .flat_map(objects)
        .filter(|v| !v.is_null())
        .collect())
}

/// The objects in `path`, in file order: the files are parsed on every core (a 10,000-workload
/// palisade-synth directory is 500 YAML files, 34,000 objects).
fn load(path: &Path) -> Result<Vec<Value>, Error> {
    let mut list = Vec::new();
    files(path, &mut list)?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = list.len().div_ceil(threads).max(1);
    let parsed: Vec<Result<Vec<Vec<Value>>, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = list
            .chunks(per_thread)
            .map(|chunk| scope.spawn(move || chunk.iter().map(|f| load_file(f)).collect()))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a parser thread panicked".into()))
            })
            .collect()
    });
    let mut out = Vec::new();
    for chunk in parsed {
        out.extend(chunk?.into_iter().flatten());
    }
    Ok(out)
}

fn run() -> Result<(), Error> {
    let mut config = Config::default();
    let mut dir: Option<PathBuf> = None;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--token" => config.token = Some(args.next().ok_or("--token needs a value")?),
            "--no-token" => config.token = None,
            "--listen" => config.listen = args.next().ok_or("--listen needs a value")?.parse()?,
            "--dir" => dir = Some(args.next().ok_or("--dir needs a value")?.into()),
            _ => files.push(PathBuf::from(arg)),
        }
    }
    let fake = FakeApiServer::start(config)?;
    for path in files {
        for obj in load(&path)? {
            fake.apply(obj)
                .map_err(|e| format!("{}: {}", path.display(), e.body))?;
        }
    }
    let dir = dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("palisade-kube-fake-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let kubeconfig = fake.write_kubeconfig(&dir, "fake")?;
    println!("{}", fake.url());
    println!("{}", dir.join("ca.crt").display());
    println!("{}", kubeconfig.display());
    println!("{} objects", fake.object_count());
    // Serve until killed.
    loop {
        std::thread::park();
    }
}
