//! `palisade-kube-fake [--token T] [--listen ADDR] [--dir D] [OBJECTS.json...]`: serves the fake
//! API until killed, after loading objects (a JSON object, array or `kind: List` per file).
//! Prints the URL, then the path of the kubeconfig written into `--dir` (default: a new
//! directory under the system temp dir).

use std::path::PathBuf;

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

fn run() -> Result<(), Box<dyn std::error::Error>> {
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
    for file in files {
        let value: Value = serde_json::from_slice(&std::fs::read(&file)?)?;
        for obj in objects(value) {
            fake.apply(obj)
                .map_err(|e| format!("{}: {}", file.display(), e.body))?;
        }
    }
    let dir = match dir {
        Some(d) => d,
        None => {
            let d = std::env::temp_dir().join(format!("palisade-kube-fake-{}", std::process::id()));
            std::fs::create_dir_all(&d)?;
            d
        }
    };
    let kubeconfig = fake.write_kubeconfig(&dir, "fake")?;
    println!("{}", fake.url());
    println!("{}", kubeconfig.display());
    // Serve until killed.
    loop {
        std::thread::park();
    }
}
