//! Command-line arguments.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Keep IOC collections and match events against them, in-process.
#[derive(Debug, Parser)]
#[command(name = "iocmatch", version, about, propagate_version = true)]
pub struct Cli {
    /// The store file.
    #[arg(long, global = true, env = "IOCMATCH_DB", default_value = "./iocmatch.db")]
    pub db: PathBuf,
    /// Print JSON for machines instead of tables for people.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, list, show, update and delete collections.
    #[command(subcommand)]
    Collection(CollectionCmd),
    /// Create and list communities (tenants).
    #[command(subcommand)]
    Community(CommunityCmd),
    /// Import indicators into a collection.
    #[command(subcommand)]
    Import(ImportCmd),
    /// List, search, show, edit and revoke indicators.
    #[command(subcommand)]
    Indicator(IndicatorCmd),
    /// Register and list threats that indicators relate to.
    #[command(subcommand)]
    Threat(ThreatCmd),
    /// Export a collection: CSV, a STIX 2.1 bundle or a text blocklist.
    Export(ExportArgs),
    /// Match NDJSON events (ECS) against the collections; one JSON object per match on stdout.
    Match(MatchArgs),
    /// Telemetry reports: which indicators of a collection were seen in events, and how often.
    Telemetry(TelemetryArgs),
    /// Create, list, enable, disable and delete detection rules.
    #[command(subcommand)]
    Rule(RuleCmd),
    /// Hunt archived NDJSON events (files, directories, gzip) for the indicators of the enabled
    /// rules; one `cti_retrohunt` alert per line on stdout, the summary on stderr.
    Retrohunt(RetrohuntArgs),
    /// Compile the active indicators into an index file for `match --index`.
    Compile {
        /// Where to write the index.
        #[arg(long)]
        out: PathBuf,
    },
    /// Show (or set) the per-community indicator limit and the count against it.
    Limit {
        /// The community (default: the default community).
        #[arg(long)]
        community: Option<String>,
        /// Set the maximum number of active indicators per community for this store.
        #[arg(long)]
        set: Option<u64>,
    },
}

/// Page selection.
#[derive(Debug, Args, Clone, Copy)]
pub struct PageArgs {
    /// Items to skip.
    #[arg(long, default_value_t = 0)]
    pub offset: u64,
    /// Items to show at most.
    #[arg(long, default_value_t = 100)]
    pub limit: u64,
}

/// Collection commands.
#[derive(Debug, Subcommand)]
pub enum CollectionCmd {
    /// Create a collection.
    Create {
        /// Its name, unique within its community.
        name: String,
        /// A description (at most 500 characters).
        #[arg(long)]
        description: Option<String>,
        /// The community (id or name); the default community otherwise.
        #[arg(long)]
        community: Option<String>,
        /// Let sub-communities of its community see it.
        #[arg(long)]
        available_for_sub_communities: bool,
        /// Its domain indicators also match their sub-domains.
        #[arg(long)]
        match_subdomains: bool,
        /// Also create a detection rule covering it (`IOC collection: <name>`).
        #[arg(long)]
        create_rule: bool,
    },
    /// List collections with their indicator counts.
    List {
        /// Only this community's collections.
        #[arg(long)]
        community: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show one collection.
    Show {
        /// Id or name.
        collection: String,
    },
    /// Change a collection.
    Update {
        /// Id or name.
        collection: String,
        /// A new name.
        #[arg(long)]
        name: Option<String>,
        /// A new description.
        #[arg(long, conflicts_with = "clear_description")]
        description: Option<String>,
        /// Remove the description.
        #[arg(long)]
        clear_description: bool,
        /// Whether sub-communities see it.
        #[arg(long)]
        available_for_sub_communities: Option<bool>,
        /// Whether its domain indicators also match their sub-domains.
        #[arg(long)]
        match_subdomains: Option<bool>,
    },
    /// Delete a collection and all its indicators.
    Delete {
        /// Id or name.
        collection: String,
    },
}

/// Community commands.
#[derive(Debug, Subcommand)]
pub enum CommunityCmd {
    /// Create a community.
    Create {
        /// Its unique name.
        name: String,
        /// Its parent community (id or name).
        #[arg(long)]
        parent: Option<String>,
    },
    /// List communities.
    List,
}

/// Properties given to every imported indicator.
#[derive(Debug, Args, Clone)]
pub struct DefaultArgs {
    /// Start of validity (RFC 3339, YYYY-MM-DD, epoch seconds, `now`); default: now.
    #[arg(long)]
    pub valid_from: Option<String>,
    /// End of validity; default: never.
    #[arg(long)]
    pub valid_until: Option<String>,
    /// Kill chain phases, comma-separated (`delivery,c2`, `mitre-attack:execution`, `TA0011`).
    #[arg(long)]
    pub kill_chain: Option<String>,
    /// A related threat by id, name or alias (repeatable).
    #[arg(long = "threat")]
    pub threats: Vec<String>,
    /// A description (at most 500 characters).
    #[arg(long)]
    pub description: Option<String>,
    /// Force the kind of every value (e.g. `username`); guessed otherwise.
    #[arg(long)]
    pub kind: Option<String>,
    /// Domain indicators also match their sub-domains (default: as the collection says).
    #[arg(long)]
    pub match_subdomains: Option<bool>,
}

/// Import commands.
#[derive(Debug, Subcommand)]
pub enum ImportCmd {
    /// One IOC per line (defanged values, comments, `IP:port`, hashes of one file on one line).
    Text {
        /// Collection id or name.
        collection: String,
        /// The file, or `-` for standard input.
        file: PathBuf,
        #[command(flatten)]
        defaults: DefaultArgs,
    },
    /// A tabular file (CSV/TSV, XLS, XLSX, ODS): `--preview` shows its first rows and the
    /// suggested mapping; without it, the file is imported with that mapping or `--mapping`.
    File(FileArgs),
    /// The spec's batch JSON payload (`default_fields` + `indicators`).
    Batch {
        /// Collection id or name.
        collection: String,
        /// The JSON file, or `-` for standard input.
        file: PathBuf,
    },
    /// STIX 2.1 indicators: a bundle, or one object per line.
    Stix {
        /// Collection id or name.
        collection: String,
        /// The STIX file, or `-` for standard input.
        file: PathBuf,
    },
    /// A MISP event (JSON, also the REST `response` wrapper) or a MISP CSV export.
    Misp {
        /// Collection id or name.
        collection: String,
        /// The MISP file, or `-` for standard input.
        file: PathBuf,
        /// Import every attribute, not only those flagged `to_ids`.
        #[arg(long)]
        all_attributes: bool,
    },
}

/// Formats of `iocmatch export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// CSV, one indicator per row, formula-like cells neutralised.
    Csv,
    /// A STIX 2.1 bundle (JSON).
    Stix,
    /// A plain-text blocklist: one observable per line (active indicators only).
    Text,
}

/// `iocmatch export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Collection id or name.
    pub collection: String,
    /// The output format.
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Only this kind of observable (text format).
    #[arg(long)]
    pub kind: Option<String>,
    /// Write to this file instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Arguments of `iocmatch import file`.
#[derive(Debug, Args)]
pub struct FileArgs {
    /// Collection id or name.
    pub collection: String,
    /// The file, or `-` for standard input.
    pub file: PathBuf,
    /// Show the first rows, the suggested mapping and whether the first line is a header;
    /// import nothing.
    #[arg(long, conflicts_with_all = ["mapping", "ignore_first_line", "keep_first_line"])]
    pub preview: bool,
    /// One entry per column: observable, valid_from, valid_until, kill_chain_phases,
    /// x_ic_related_threat_refs, description, or null (default: the suggested mapping).
    #[arg(long)]
    pub mapping: Option<String>,
    /// The first line is a header: skip it (default: as detected).
    #[arg(long, conflicts_with = "keep_first_line")]
    pub ignore_first_line: bool,
    /// The first line is data: import it (default: as detected).
    #[arg(long)]
    pub keep_first_line: bool,
    /// The worksheet of a workbook to read: its name or 1-based number (default: the first
    /// with cells; `--preview` lists them).
    #[arg(long)]
    pub sheet: Option<String>,
    /// Properties of the indicators that no column gives.
    #[command(flatten)]
    pub defaults: DefaultArgs,
}

/// Indicator commands.
#[derive(Debug, Subcommand)]
pub enum IndicatorCmd {
    /// List the indicators of a collection.
    List {
        /// Collection id or name.
        collection: String,
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// Search the indicators of a collection by a part of their value.
    Search {
        /// Collection id or name.
        collection: String,
        /// Text the value must contain (defanged text is accepted).
        term: String,
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// Show one indicator in its STIX 2.1 shape.
    Show {
        /// `indicator--<uuid>`.
        id: String,
    },
    /// Change an indicator (the observable itself cannot change).
    Edit {
        /// `indicator--<uuid>`.
        id: String,
        /// The observable: only accepted when unchanged.
        #[arg(long)]
        value: Option<String>,
        /// A new description.
        #[arg(long, conflicts_with = "clear_description")]
        description: Option<String>,
        /// Remove the description.
        #[arg(long)]
        clear_description: bool,
        /// A new start of validity.
        #[arg(long)]
        valid_from: Option<String>,
        /// A new end of validity.
        #[arg(long, conflicts_with = "no_valid_until")]
        valid_until: Option<String>,
        /// Make it never expire.
        #[arg(long)]
        no_valid_until: bool,
        /// New kill chain phases, comma-separated (empty string clears them).
        #[arg(long)]
        kill_chain: Option<String>,
        /// New related threats (repeatable; replaces the old ones).
        #[arg(long = "threat")]
        threats: Vec<String>,
        /// Remove every related threat.
        #[arg(long, conflicts_with = "threats")]
        clear_threats: bool,
        /// Sub-domain matching: `true`, `false`, or `inherit` (as the collection says).
        #[arg(long)]
        match_subdomains: Option<String>,
    },
    /// Revoke an indicator. This cannot be undone.
    Revoke {
        /// `indicator--<uuid>`.
        id: String,
    },
}

/// Filters of indicator listings.
#[derive(Debug, Args, Clone)]
pub struct FilterArgs {
    /// Only this kind (ipv4, domain, sha256, ...).
    #[arg(long)]
    pub kind: Option<String>,
    /// Only revoked indicators.
    #[arg(long, conflicts_with = "active")]
    pub revoked: bool,
    /// Only active indicators.
    #[arg(long)]
    pub active: bool,
    #[command(flatten)]
    pub page: PageArgs,
}

/// Threat commands.
#[derive(Debug, Subcommand)]
pub enum ThreatCmd {
    /// Register a threat.
    Add {
        /// Its name.
        name: String,
        /// Its STIX id (`intrusion-set--<uuid>`); made when absent.
        #[arg(long)]
        id: Option<String>,
        /// Another name it is known by (repeatable).
        #[arg(long = "alias")]
        aliases: Vec<String>,
        /// STIX type for a made id.
        #[arg(long = "type", default_value = "intrusion-set")]
        threat_type: String,
    },
    /// List threats.
    List,
}

/// Arguments of `iocmatch match`.
#[derive(Debug, Args)]
pub struct MatchArgs {
    /// Events, one JSON object per line; `-` (the default) reads standard input.
    #[arg(default_value = "-")]
    pub file: PathBuf,
    /// Use this compiled index instead of compiling the store.
    #[arg(long)]
    pub index: Option<PathBuf>,
    /// Only these collections (id, or name with a store; repeatable).
    #[arg(long = "collection")]
    pub collections: Vec<String>,
    /// The community the events come from (id, or name with a store).
    #[arg(long)]
    pub community: Option<String>,
    /// Match every event at this time instead of its `@timestamp`.
    #[arg(long)]
    pub at: Option<String>,
    /// The time of events without a readable `@timestamp` (default: now).
    #[arg(long)]
    pub default_time: Option<String>,
    /// Field scopes: `default`, `strict` (the spec's table only) or a profile file.
    #[arg(long, default_value = "default")]
    pub profile: String,
    /// Raw text: find indicators anywhere in unparsed log lines (with token boundaries).
    #[arg(long)]
    pub raw: bool,
    /// Write each matched event's ECS `threat.enrichments` instead of one object per match.
    #[arg(long)]
    pub enrichments: bool,
    /// Write one `cti` alert per line (one per enabled rule covering a match) instead of
    /// matches; the rules come from the store.
    #[arg(long, conflicts_with = "enrichments")]
    pub alerts: bool,
    /// Worker threads (default: every core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Count sightings per indicator and UTC day (ignoring validity windows) and add them to
    /// the store at the end, for `telemetry run COLLECTION --from-sightings`.
    #[arg(long, conflicts_with_all = ["index", "raw"])]
    pub record_sightings: bool,
}

/// Rule commands.
#[derive(Debug, Subcommand)]
pub enum RuleCmd {
    /// Create a rule over collections (`--collection`, repeatable) or over every collection of
    /// a community, present and future (`--community`).
    Create {
        /// Its unique name.
        name: String,
        /// A collection it covers (id or name; repeatable).
        #[arg(long = "collection", required_unless_present = "community")]
        collections: Vec<String>,
        /// A community whose every collection it covers (id or name).
        #[arg(long, conflicts_with = "collections")]
        community: Option<String>,
        /// A description (at most 500 characters).
        #[arg(long)]
        description: Option<String>,
        /// Create it disabled.
        #[arg(long)]
        disabled: bool,
    },
    /// List rules.
    List,
    /// Show one rule.
    Show {
        /// Id or name.
        rule: String,
    },
    /// Enable a rule.
    Enable {
        /// Id or name.
        rule: String,
    },
    /// Disable a rule: it alerts nothing until enabled again.
    Disable {
        /// Id or name.
        rule: String,
    },
    /// Delete a rule (its collections stay).
    Delete {
        /// Id or name.
        rule: String,
    },
}

/// Arguments of `iocmatch retrohunt`.
#[derive(Debug, Args)]
pub struct RetrohuntArgs {
    /// Event files (NDJSON, gzip-compressed or not) and directories (walked).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Only indicators created or modified at or after this time (a date, or a duration back
    /// from now such as `7d`; default: all).
    #[arg(long)]
    pub since: Option<String>,
    /// Added on both sides of every validity window.
    #[arg(long, default_value = "5d")]
    pub margin: String,
    /// Remember what was hunted (per file) and hunt only what is new: files already hunted
    /// with the indicators changed since, lines appended to plain files and new or otherwise
    /// changed files (hunted whole) with all.
    #[arg(long)]
    pub incremental: bool,
    /// The community the events come from (id or name).
    #[arg(long)]
    pub community: Option<String>,
    /// Field scopes: `default`, `strict` (the spec's table only) or a profile file.
    #[arg(long, default_value = "default")]
    pub profile: String,
    /// Write alerts to this file instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads (default: every core).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// `telemetry`: make a report (`telemetry COLLECTION PATH...`), or read saved ones.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct TelemetryArgs {
    /// Read, list or delete saved reports (or `run`, the default action, spelt out).
    #[command(subcommand)]
    pub cmd: Option<TelemetryCmd>,
    /// Make and save a report over archived NDJSON events, or from recorded sightings.
    #[command(flatten)]
    pub run: Option<TelemetryRunArgs>,
}

/// Telemetry commands.
#[derive(Debug, Subcommand)]
pub enum TelemetryCmd {
    /// Make and save a report (the same as `telemetry COLLECTION PATH...`; use it for a
    /// collection named like a subcommand).
    Run(TelemetryRunArgs),
    /// Show a saved report.
    Show {
        /// The report id (`telemetry-report--<uuid>`).
        report: String,
        /// Also write the report as a self-contained HTML page with a heatmap.
        #[arg(long)]
        html: Option<PathBuf>,
    },
    /// List the saved reports of a collection, newest first.
    List {
        /// The collection (id or name).
        collection: String,
    },
    /// Delete a saved report.
    Delete {
        /// The report id.
        report: String,
    },
}

/// `telemetry run`.
#[derive(Debug, Args)]
pub struct TelemetryRunArgs {
    /// The collection (id or name).
    pub collection: String,
    /// Event archives: NDJSON files or directories of them, plain or gzip.
    #[arg(required_unless_present = "from_sightings", conflicts_with = "from_sightings")]
    pub paths: Vec<PathBuf>,
    /// Use the sightings recorded by `match --record-sightings` instead of reading events
    /// (day precision).
    #[arg(long)]
    pub from_sightings: bool,
    /// How far back events count: 365d, 12w, 30d...
    #[arg(long, default_value = "365d")]
    pub window: String,
    /// The end of the window (default: now).
    #[arg(long)]
    pub until: Option<String>,
    /// The communities the report is for (id or name; repeatable); default: the collection's.
    #[arg(long = "community")]
    pub communities: Vec<String>,
    /// Field scopes: `default`, `strict` (the spec's table only) or a profile file.
    #[arg(long, default_value = "default")]
    pub profile: String,
    /// Also write the report as a self-contained HTML page with a heatmap.
    #[arg(long)]
    pub html: Option<PathBuf>,
}
