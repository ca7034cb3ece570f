//! Project automation, `cargo xtask <task>` (matklad's pattern).
//!
//! - `gen-city`: regenerate the sample city's generated parts in `data/ouhai/` from the
//!   real sources in `data/ouhai/source/`.
//! - `check-city`: regenerate into memory and fail if the committed files differ (the
//!   generator is deterministic; CI runs this).

mod generate;
mod rng;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

fn main() -> anyhow::Result<()> {
    let task = std::env::args().nth(1).unwrap_or_default();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = root.join("data/ouhai");
    match task.as_str() {
        "gen-city" => {
            let files = generate::sample_city(&out.join("source"))?;
            for (name, text) in &files {
                let path = out.join(name);
                std::fs::create_dir_all(path.parent().context("output path has a parent")?)?;
                std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
                println!("wrote {} ({} bytes)", path.display(), text.len());
            }
            Ok(())
        }
        "check-city" => {
            let files = generate::sample_city(&out.join("source"))?;
            let mut stale = Vec::<PathBuf>::new();
            for (name, text) in &files {
                let path = out.join(name);
                if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                    stale.push(path);
                }
            }
            if !stale.is_empty() {
                bail!("generated files differ from the generator's output (run `cargo xtask gen-city`): {stale:?}");
            }
            println!("sample city: {} generated files match the generator", files.len());
            Ok(())
        }
        other => bail!("unknown task `{other}`; tasks: gen-city, check-city"),
    }
}
