//! `iocmatch indicator ...`

use super::date;
use crate::args::{FilterArgs, IndicatorCmd};
use crate::output;
use iocmatch::store::Pagination;
use iocmatch::{Error, IndicatorEdit, IndicatorQuery, PhaseSet, Result, Store};

fn query(search: Option<String>, f: &FilterArgs) -> Result<IndicatorQuery> {
    Ok(IndicatorQuery {
        search,
        kind: f.kind.as_deref().map(str::parse).transpose()?,
        revoked: if f.revoked {
            Some(true)
        } else if f.active {
            Some(false)
        } else {
            None
        },
        page: Pagination { offset: f.page.offset, limit: f.page.limit },
    })
}

pub fn run(store: &Store, cmd: IndicatorCmd, json: bool) -> Result<()> {
    let one = |i: iocmatch::Indicator| {
        if json {
            output::json(&i)
        } else {
            output::print_table(&output::indicator_detail(&i));
            Ok(())
        }
    };
    match cmd {
        IndicatorCmd::List { collection, filter } => list(store, &collection, query(None, &filter)?, json),
        IndicatorCmd::Search { collection, term, filter } => {
            list(store, &collection, query(Some(term), &filter)?, json)
        }
        IndicatorCmd::Show { id } => one(store.indicator(&id)?),
        IndicatorCmd::Edit {
            id,
            value,
            description,
            clear_description,
            valid_from,
            valid_until,
            no_valid_until,
            kill_chain,
            threats,
            clear_threats,
            match_subdomains,
        } => {
            let match_subdomains = match match_subdomains.as_deref() {
                None => None,
                Some("inherit") => Some(None),
                Some("true") => Some(Some(true)),
                Some("false") => Some(Some(false)),
                Some(other) => {
                    return Err(Error::invalid(
                        other,
                        format!("invalid --match-subdomains '{other}': expected true, false or inherit"),
                    ))
                }
            };
            let edit = IndicatorEdit {
                value,
                description: if clear_description { Some(None) } else { description.map(Some) },
                valid_from: date(&valid_from)?,
                valid_until: if no_valid_until { Some(None) } else { date(&valid_until)?.map(Some) },
                kill_chain_phases: kill_chain.as_deref().map(PhaseSet::parse_list).transpose()?,
                threats: if clear_threats {
                    Some(Vec::new())
                } else if threats.is_empty() {
                    None
                } else {
                    Some(threats)
                },
                match_subdomains,
            };
            one(store.edit_indicator(&id, &edit)?)
        }
        IndicatorCmd::Revoke { id } => {
            let i = store.revoke_indicator(&id)?;
            if json {
                return output::json(&i);
            }
            println!("revoked {} ({})", i.id, i.name());
            Ok(())
        }
    }
}

fn list(store: &Store, collection: &str, q: IndicatorQuery, json: bool) -> Result<()> {
    let page = store.indicators(collection, &q)?;
    if json {
        return output::json(&page);
    }
    output::print_table(&output::indicators(&page.items));
    println!("{} of {} indicators", page.items.len(), page.total);
    Ok(())
}
