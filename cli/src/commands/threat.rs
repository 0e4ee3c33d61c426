//! `iocmatch threat ...`

use crate::args::ThreatCmd;
use crate::output;
use iocmatch::{NewThreat, Result, Store};

pub fn run(store: &Store, cmd: ThreatCmd, json: bool) -> Result<()> {
    match cmd {
        ThreatCmd::Add { name, id, aliases, threat_type } => {
            let t = store.add_threat(&NewThreat { id, name, aliases, threat_type: Some(threat_type) })?;
            if json {
                return output::json(&t);
            }
            println!("registered threat {} ({})", t.name, t.id);
        }
        ThreatCmd::List => {
            let all = store.threats()?;
            if json {
                return output::json(&all);
            }
            let mut t = output::table(&["id", "name", "aliases"]);
            for x in &all {
                t.add_row(vec![x.id.clone(), x.name.clone(), x.aliases.join(", ")]);
            }
            output::print_table(&t);
        }
    }
    Ok(())
}
