//! Kill chain phases: the Lockheed Martin Cyber Kill Chain and the MITRE ATT&CK (enterprise)
//! tactics. A phase set is stored as a bit mask, so the set of known phases is closed.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// `kill_chain_name` of the Lockheed Martin Cyber Kill Chain.
pub const LOCKHEED_MARTIN: &str = "lockheed-martin-cyber-kill-chain";
/// `kill_chain_name` of MITRE ATT&CK.
pub const MITRE_ATTACK: &str = "mitre-attack";

/// (kill chain, phase, ATT&CK tactic id) for every known phase; the index is the bit number.
const PHASES: [(&str, &str, &str); 21] = [
    (LOCKHEED_MARTIN, "reconnaissance", ""),
    (LOCKHEED_MARTIN, "weaponization", ""),
    (LOCKHEED_MARTIN, "delivery", ""),
    (LOCKHEED_MARTIN, "exploitation", ""),
    (LOCKHEED_MARTIN, "installation", ""),
    (LOCKHEED_MARTIN, "command-and-control", ""),
    (LOCKHEED_MARTIN, "actions-on-objectives", ""),
    (MITRE_ATTACK, "reconnaissance", "ta0043"),
    (MITRE_ATTACK, "resource-development", "ta0042"),
    (MITRE_ATTACK, "initial-access", "ta0001"),
    (MITRE_ATTACK, "execution", "ta0002"),
    (MITRE_ATTACK, "persistence", "ta0003"),
    (MITRE_ATTACK, "privilege-escalation", "ta0004"),
    (MITRE_ATTACK, "defense-evasion", "ta0005"),
    (MITRE_ATTACK, "credential-access", "ta0006"),
    (MITRE_ATTACK, "discovery", "ta0007"),
    (MITRE_ATTACK, "lateral-movement", "ta0008"),
    (MITRE_ATTACK, "collection", "ta0009"),
    (MITRE_ATTACK, "command-and-control", "ta0011"),
    (MITRE_ATTACK, "exfiltration", "ta0010"),
    (MITRE_ATTACK, "impact", "ta0040"),
];

/// The phases meaning "Command and Control" in either chain: an IP indicator carrying one of
/// them is looked up in `destination.ip` only.
pub const COMMAND_AND_CONTROL: PhaseSet = PhaseSet((1 << 5) | (1 << 18));

/// One kill chain phase, in the STIX shape `{kill_chain_name, phase_name}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KillChainPhase {
    /// `lockheed-martin-cyber-kill-chain` or `mitre-attack`.
    pub kill_chain_name: String,
    /// The phase, lower-case with hyphens (`command-and-control`).
    pub phase_name: String,
}

/// A set of known kill chain phases, as a bit mask (stable: it is stored in the database).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PhaseSet(pub u32);

impl PhaseSet {
    /// The empty set.
    pub const EMPTY: PhaseSet = PhaseSet(0);

    /// Whether no phase is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether the two sets share a phase.
    pub fn intersects(self, other: PhaseSet) -> bool {
        self.0 & other.0 != 0
    }

    /// The union of the two sets.
    pub fn union(self, other: PhaseSet) -> PhaseSet {
        PhaseSet(self.0 | other.0)
    }

    /// The phases, Lockheed Martin first, each chain in its own order.
    pub fn phases(self) -> Vec<KillChainPhase> {
        PHASES
            .iter()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, (chain, phase, _))| KillChainPhase {
                kill_chain_name: (*chain).to_string(),
                phase_name: (*phase).to_string(),
            })
            .collect()
    }

    /// Resolve a list of phases, each given in the STIX shape.
    ///
    /// # Errors
    /// A validation error naming the first unknown chain or phase.
    pub fn from_phases(phases: &[KillChainPhase]) -> Result<PhaseSet> {
        let mut set = PhaseSet::EMPTY;
        for p in phases {
            set = set.union(resolve(Some(&p.kill_chain_name), &p.phase_name)?);
        }
        Ok(set)
    }

    /// Parse a comma-separated list of phases as a user writes them on a command line or in a
    /// spreadsheet cell: bare names (`Command and Control`, `c2`, `Initial Access`), ATT&CK
    /// tactic ids (`TA0011`), or `chain:phase` (`mitre-attack:execution`).
    ///
    /// # Errors
    /// A validation error naming the first unknown phase.
    pub fn parse_list(s: &str) -> Result<PhaseSet> {
        let mut set = PhaseSet::EMPTY;
        for part in s.split([',', ';']).map(str::trim).filter(|p| !p.is_empty()) {
            let (chain, phase) = match part.split_once(':') {
                Some((c, p)) => (Some(c.trim()), p.trim()),
                None => (None, part),
            };
            set = set.union(resolve(chain, phase)?);
        }
        Ok(set)
    }
}

fn canonical_chain(chain: &str) -> Option<&'static str> {
    let c = slug(chain);
    match c.as_str() {
        "lockheed-martin-cyber-kill-chain" | "lockheed-martin" | "cyber-kill-chain" | "lmco" | "kill-chain" => {
            Some(LOCKHEED_MARTIN)
        }
        "mitre-attack" | "mitre-att-and-ck" | "mitre" | "attack" | "att-and-ck" => Some(MITRE_ATTACK),
        _ => None,
    }
}

/// Lower-case, `&` as `and`, spaces and underscores as hyphens.
fn slug(s: &str) -> String {
    let s = s.trim().to_ascii_lowercase().replace('&', " and ");
    s.split(|c: char| c.is_whitespace() || c == '_' || c == '-').filter(|w| !w.is_empty()).collect::<Vec<_>>().join("-")
}

/// Resolve one phase. Without a chain, the Lockheed Martin phase wins when both chains have it.
fn resolve(chain: Option<&str>, phase: &str) -> Result<PhaseSet> {
    let chain = match chain {
        Some(c) => Some(canonical_chain(c).ok_or_else(|| {
            Error::invalid(c, format!("unknown kill chain '{c}': expected '{LOCKHEED_MARTIN}' or '{MITRE_ATTACK}'"))
        })?),
        None => None,
    };
    let mut p = slug(phase);
    if matches!(p.as_str(), "c2" | "c-and-c" | "cnc" | "command-control") {
        p = "command-and-control".to_string();
    }
    if p == "actions-on-objective" {
        p = "actions-on-objectives".to_string();
    }
    for (i, (c, name, tactic)) in PHASES.iter().enumerate() {
        if chain.is_some_and(|ch| ch != *c) {
            continue;
        }
        if *name == p || (!tactic.is_empty() && *tactic == p) {
            return Ok(PhaseSet(1 << i));
        }
    }
    Err(Error::invalid(
        phase,
        format!(
            "unknown kill chain phase '{phase}': expected a Lockheed Martin cyber kill chain phase \
             or a MITRE ATT&CK tactic (e.g. 'reconnaissance', 'command-and-control', 'initial-access')"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_bare_names_and_aliases() {
        let cases = [
            ("Command and Control", LOCKHEED_MARTIN, "command-and-control"),
            ("c2", LOCKHEED_MARTIN, "command-and-control"),
            ("Initial Access", MITRE_ATTACK, "initial-access"),
            ("TA0011", MITRE_ATTACK, "command-and-control"),
            ("mitre-attack:reconnaissance", MITRE_ATTACK, "reconnaissance"),
            ("actions_on_objectives", LOCKHEED_MARTIN, "actions-on-objectives"),
            ("Privilege Escalation", MITRE_ATTACK, "privilege-escalation"),
        ];
        for (input, chain, phase) in cases {
            let got = PhaseSet::parse_list(input).unwrap().phases();
            assert_eq!(got.len(), 1, "{input}");
            assert_eq!((got[0].kill_chain_name.as_str(), got[0].phase_name.as_str()), (chain, phase), "{input}");
        }
    }

    #[test]
    fn both_c2_phases_are_command_and_control() {
        for s in ["c2", "mitre-attack:command-and-control"] {
            assert!(PhaseSet::parse_list(s).unwrap().intersects(COMMAND_AND_CONTROL), "{s}");
        }
        assert!(!PhaseSet::parse_list("delivery,execution").unwrap().intersects(COMMAND_AND_CONTROL));
    }

    #[test]
    fn structured_round_trip() {
        let set = PhaseSet::parse_list("delivery, mitre-attack:impact").unwrap();
        assert_eq!(PhaseSet::from_phases(&set.phases()).unwrap(), set);
    }

    #[test]
    fn rejects_unknown_naming_it() {
        let e = PhaseSet::parse_list("delivery,lunch").unwrap_err();
        assert!(e.to_string().contains("'lunch'"), "{e}");
        let e = PhaseSet::from_phases(&[KillChainPhase {
            kill_chain_name: "my-chain".into(),
            phase_name: "delivery".into(),
        }])
        .unwrap_err();
        assert!(e.to_string().contains("'my-chain'"), "{e}");
        // a phase of the other chain is rejected when the chain is given
        assert!(PhaseSet::parse_list("lockheed-martin:impact").is_err());
    }
}
