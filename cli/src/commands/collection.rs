//! `iocmatch collection ...`

use crate::args::CollectionCmd;
use crate::output;
use iocmatch::store::Pagination;
use iocmatch::{CollectionUpdate, NewCollection, Result, Store};

pub fn run(store: &Store, cmd: CollectionCmd, json: bool) -> Result<()> {
    match cmd {
        CollectionCmd::Create {
            name,
            description,
            community,
            available_for_sub_communities,
            match_subdomains,
            create_rule,
        } => {
            let c = store.create_collection(&NewCollection {
                name,
                description,
                community,
                available_for_sub_communities,
                match_subdomains,
                create_rule,
            })?;
            if json {
                return output::json(&c);
            }
            println!("created collection {} ({})", c.name, c.id);
            if create_rule {
                for r in store.rules_for_collection(&c.id)? {
                    println!("created rule {} ({})", r.name, r.id);
                }
            }
        }
        CollectionCmd::List { community, page } => {
            let p = store.collections(community.as_deref(), Pagination { offset: page.offset, limit: page.limit })?;
            if json {
                return output::json(&p);
            }
            output::print_table(&output::collections(&p.items));
            println!("{} of {} collections", p.items.len(), p.total);
        }
        CollectionCmd::Show { collection } => {
            let c = store.collection(&collection)?;
            if json {
                return output::json(&c);
            }
            output::print_table(&output::collections(std::slice::from_ref(&c)));
        }
        CollectionCmd::Update {
            collection,
            name,
            description,
            clear_description,
            available_for_sub_communities,
            match_subdomains,
        } => {
            let description = if clear_description { Some(None) } else { description.map(Some) };
            let c = store.update_collection(
                &collection,
                &CollectionUpdate { name, description, available_for_sub_communities, match_subdomains },
            )?;
            if json {
                return output::json(&c);
            }
            println!("updated collection {} ({})", c.name, c.id);
        }
        CollectionCmd::Delete { collection } => {
            let c = store.collection(&collection)?;
            let n = store.delete_collection(&c.id)?;
            if json {
                return output::json(&serde_json::json!({"deleted": c.id, "indicators": n}));
            }
            println!("deleted collection {} and its {n} indicators", c.name);
        }
    }
    Ok(())
}
