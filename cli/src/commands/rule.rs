//! `iocmatch rule ...`

use crate::args::RuleCmd;
use crate::output;
use iocmatch::{NewRule, Result, Rule, Store};

/// The rules as a table: what each covers, by name.
fn table(store: &Store, rules: &[Rule]) -> Result<comfy_table::Table> {
    let mut t = output::table(&["id", "name", "enabled", "covers", "description"]);
    for r in rules {
        let covers = match &r.community_id {
            Some(c) => format!("community {} (all collections)", store.community(c)?.name),
            None => {
                let names =
                    r.collections.iter().map(|c| store.collection(c).map(|c| c.name)).collect::<Result<Vec<_>>>()?;
                if names.is_empty() {
                    "nothing (its collections were deleted)".to_string()
                } else {
                    names.join(", ")
                }
            }
        };
        t.add_row(vec![
            r.id.clone(),
            r.name.clone(),
            if r.enabled { "yes" } else { "no" }.to_string(),
            covers,
            r.description.clone().unwrap_or_default(),
        ]);
    }
    Ok(t)
}

pub fn run(store: &Store, cmd: RuleCmd, json: bool) -> Result<()> {
    let (verb, rule) = match cmd {
        RuleCmd::Create { name, collections, community, description, disabled } => {
            let r = store.create_rule(&NewRule { name, description, collections, community, enabled: !disabled })?;
            ("created", r)
        }
        RuleCmd::List => {
            let rules = store.rules()?;
            if json {
                return output::json(&rules);
            }
            output::print_table(&table(store, &rules)?);
            println!("{} rules", rules.len());
            return Ok(());
        }
        RuleCmd::Show { rule } => {
            let r = store.rule(&rule)?;
            if json {
                return output::json(&r);
            }
            output::print_table(&table(store, std::slice::from_ref(&r))?);
            return Ok(());
        }
        RuleCmd::Enable { rule } => ("enabled", store.set_rule_enabled(&rule, true)?),
        RuleCmd::Disable { rule } => ("disabled", store.set_rule_enabled(&rule, false)?),
        RuleCmd::Delete { rule } => ("deleted", store.delete_rule(&rule)?),
    };
    if json {
        return output::json(&rule);
    }
    println!("{verb} rule {} ({})", rule.name, rule.id);
    Ok(())
}
