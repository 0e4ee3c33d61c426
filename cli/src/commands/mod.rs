//! One module per command group; each translates arguments, calls the core, prints.

mod collection;
mod export;
mod import;
mod indicator;
mod matching;
mod retrohunt;
mod rule;
mod telemetry;
mod threat;

use crate::args::{Cli, Command, CommunityCmd};
use crate::output;
use iocmatch::{Error, ErrorKind, Result, Store, Timestamp};
use std::io::Read;
use std::path::Path;

/// Run one command.
pub fn run(cli: Cli) -> Result<()> {
    let json = cli.json;
    match cli.command {
        // these open what they need themselves (`match --index` needs no store)
        Command::Match(a) => matching::run(&cli.db, a),
        Command::Compile { out } => matching::compile(&cli.db, &out, json),
        other => with_store(&Store::open(&cli.db)?, other, json),
    }
}

fn with_store(store: &Store, command: Command, json: bool) -> Result<()> {
    match command {
        Command::Collection(c) => collection::run(store, c, json),
        Command::Community(c) => community(store, c, json),
        Command::Import(c) => import::run(store, c, json),
        Command::Export(a) => export::run(store, a),
        Command::Indicator(c) => indicator::run(store, c, json),
        Command::Threat(c) => threat::run(store, c, json),
        Command::Telemetry(c) => telemetry::run(store, c, json),
        Command::Rule(c) => rule::run(store, c, json),
        Command::Retrohunt(a) => retrohunt::run(store, a, json),
        Command::Limit { community, set } => limit(store, community, set, json),
        Command::Match(a) => matching::run(store.path().unwrap_or(Path::new(":memory:")), a),
        Command::Compile { out } => matching::compile(store.path().unwrap_or(Path::new(":memory:")), &out, json),
    }
}

/// The bytes of a file, or of standard input for `-`.
pub fn read_input(path: &Path) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    if path == Path::new("-") {
        std::io::stdin().lock().read_to_end(&mut buf)?;
    } else {
        buf = std::fs::read(path)
            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot read '{}': {e}", path.display())))?;
    }
    Ok(buf)
}

/// An optional date argument.
pub fn date(s: &Option<String>) -> Result<Option<Timestamp>> {
    s.as_deref().map(Timestamp::parse).transpose()
}

fn community(store: &Store, cmd: CommunityCmd, json: bool) -> Result<()> {
    match cmd {
        CommunityCmd::Create { name, parent } => {
            let c = store.create_community(&name, parent.as_deref())?;
            if json {
                output::json(&c)
            } else {
                println!("created community {} ({})", c.name, c.id);
                Ok(())
            }
        }
        CommunityCmd::List => {
            let all = store.communities()?;
            if json {
                return output::json(&all);
            }
            let mut t = output::table(&["id", "name", "parent"]);
            for c in &all {
                let parent = c
                    .parent_id
                    .as_ref()
                    .and_then(|p| all.iter().find(|x| &x.id == p))
                    .map(|p| p.name.clone())
                    .unwrap_or_else(|| "-".into());
                t.add_row(vec![c.id.clone(), c.name.clone(), parent]);
            }
            output::print_table(&t);
            Ok(())
        }
    }
}

fn limit(store: &Store, community: Option<String>, set: Option<u64>, json: bool) -> Result<()> {
    if let Some(max) = set {
        store.set_max_indicators_per_community(max)?;
    }
    let c = match community {
        Some(c) => store.community(&c)?,
        None => store.default_community()?,
    };
    let count = store.indicator_count(&c.id)?;
    let max = store.max_indicators_per_community()?;
    if json {
        output::json(&serde_json::json!({"community": c.id, "name": c.name, "count": count, "max": max}))
    } else {
        println!("community {}: {count} of {max} indicators", c.name);
        Ok(())
    }
}
