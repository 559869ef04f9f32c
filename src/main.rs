//! `kuberneteth-values`: compile `kuberneteth.yaml` into Helm values.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use kuberneteth::app::{self, CompileOptions, DepositOptions, ExitOptions, ExportOptions, Failure};
use kuberneteth::check::{Context, ReleaseLimit};
use kuberneteth::release::{RELEASE_CAPACITY, RELEASE_POD_COST};

const EXAMPLES: &str = "\
Examples:
  kuberneteth-values                                  compile the built-in default network into out/
  kuberneteth-values compile -c kuberneteth.yaml -o out
  kuberneteth-values check -c kuberneteth.yaml        validate only; writes nothing
  kuberneteth-values inspect -c kuberneteth.yaml      list nodes, signer addresses, enodes
  kuberneteth-values export -c kuberneteth.yaml -o local --ip-range 127.0.0.2
  kuberneteth-values limits                           print the compiler's limits, one `NAME VALUE` line each
  kuberneteth-values deposit -c kuberneteth.yaml --rpc http://localhost:8545 --from deployer
  kuberneteth-values exit -c kuberneteth.yaml -o out --beacon-api http://localhost:3500
  helm upgrade --install devnet chart/ -f out/values.yaml -f out/secrets.values.yaml

Exit codes: 0 ok, 1 invalid network file (or brought key file), 2 bad command line,
            3 refused (would change an existing genesis, overwrite key material, an
            earlier output is not ours; deposit: another chain, or too little to pay;
            exit: another chain, or a validator that may not exit yet),
            4 I/O error (including an earlier output that cannot be read, an RPC or a
            beacon node not reached, exits not done within --timeout)";

#[derive(Parser)]
#[command(name = "kuberneteth-values", version, about = "Compile a kuberneteth.yaml network file into checked, keyed, deterministic Helm values", after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Args)]
struct Input {
    /// The network file (default: the built-in network: 3 signers, 1 rpc node, one funded account)
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    config: Option<PathBuf>,
    /// The master secret file (default: kuberneteth.secrets.yaml beside the network file)
    #[arg(long, value_name = "FILE")]
    secrets: Option<PathBuf>,
}

/// The switch of the Helm release size limit, on the commands that enforce it.
#[derive(clap::Args)]
struct SizeLimit {
    #[arg(long, help = no_size_limit_help())]
    no_size_limit: bool,
}

fn no_size_limit_help() -> String {
    format!(
        "Allow a proof-of-stake network larger than one Helm release stored in a Kubernetes Secret \
         (1 MiB) holds — about {RELEASE_CAPACITY} validators less {RELEASE_POD_COST} per validator pod: \
         for a release stored elsewhere, e.g. HELM_DRIVER=sql (each validator group's keys Secret and \
         the consensus ConfigMap must still fit 1 MiB)"
    )
}

impl SizeLimit {
    /// The check's context at `now`: the release limit holds unless `--no-size-limit`.
    fn context(&self, now: u64) -> Context {
        Context {
            now,
            release_limit: if self.no_size_limit {
                ReleaseLimit::Ignore
            } else {
                ReleaseLimit::Enforce
            },
        }
    }
}

/// What `limits` prints: one `NAME VALUE` line per limit, for scripts.
fn limits() -> String {
    format!("release-capacity {RELEASE_CAPACITY}\nrelease-pod-cost {RELEASE_POD_COST}\n")
}

#[derive(Subcommand)]
enum Command {
    /// Compile into values.yaml (public) and secrets.values.yaml (private)
    Compile {
        #[command(flatten)]
        input: Input,
        /// Output directory
        #[arg(short = 'o', long = "out", value_name = "DIR", default_value = "out")]
        out: PathBuf,
        /// Allow a new genesis or signer set over an existing output (a new network)
        #[arg(long)]
        allow_genesis_change: bool,
        #[command(flatten)]
        size: SizeLimit,
    },
    /// Validate the network file; print every problem; write nothing
    Check {
        #[command(flatten)]
        input: Input,
        #[command(flatten)]
        size: SizeLimit,
    },
    /// Print a JSON Schema
    Schema {
        /// The chart's values schema instead of the network file's
        #[arg(long)]
        chart: bool,
    },
    /// Print the option reference (Markdown), or the chart's values.yaml or README.md, generated from the schemas
    Docs {
        /// The chart's values.yaml instead: every value with its default and description
        #[arg(long, conflicts_with = "chart_readme")]
        chart_values: bool,
        /// The chart's README.md instead: install, upgrade, roll back, test; the values table
        #[arg(long)]
        chart_readme: bool,
    },
    /// List every node: group, role, signer address, enode (never private keys)
    Inspect {
        #[command(flatten)]
        input: Input,
    },
    /// Write per-node files (genesis.json, config.toml, geth.args, nodekey, keystore, password) to run outside Kubernetes
    Export {
        #[command(flatten)]
        input: Input,
        /// Output directory
        #[arg(short = 'o', long = "out", value_name = "DIR")]
        out: PathBuf,
        /// Give node i the IPv4 address START+i: in enodes, and for every port it listens on [default: 127.0.0.1]
        #[arg(long, value_name = "START")]
        ip_range: Option<std::net::Ipv4Addr>,
        /// Give node i the P2P port START+i (for many nodes on one host)
        #[arg(long, value_name = "START")]
        port_range: Option<u16>,
    },
    /// Send the deposits of validators that join a running proof-of-stake network
    /// (pods at or above their group's `genesisReplicas`) that the chain lacks, from a
    /// funded account of the network file
    Deposit {
        #[command(flatten)]
        input: Input,
        /// The network's JSON-RPC endpoint, e.g. http://localhost:8545 after `kubectl port-forward svc/NETWORK-rpc 8545`
        #[arg(long, value_name = "URL")]
        rpc: String,
        /// The account (a `name` under `accounts:`) that pays the deposits and the gas
        #[arg(long, value_name = "ACCOUNT")]
        from: String,
        /// Compare with the chain and check the balance, but send nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Send the voluntary exits of the validators whose pods left the network (the
    /// values' `proofOfStake.exits`, which `compile` writes), then wait until they
    /// have exited; helm upgrade removes the pods only then
    Exit {
        #[command(flatten)]
        input: Input,
        /// The folder `compile` wrote: its values.yaml lists the exits
        #[arg(short = 'o', long = "out", value_name = "DIR", default_value = "out")]
        out: PathBuf,
        /// A beacon node's REST API, e.g. http://localhost:3500 after `kubectl port-forward pod/NETWORK-GROUP-0 3500`
        #[arg(long, value_name = "URL")]
        beacon_api: String,
        /// Compare with the chain, but send nothing
        #[arg(long)]
        dry_run: bool,
        /// Send the exits, but do not wait until the validators have exited
        #[arg(long)]
        no_wait: bool,
        /// How long to wait at most, with its unit (90s, 45m, 2h)
        #[arg(long, value_name = "DURATION", default_value = "60m", value_parser = parse_duration)]
        timeout: std::time::Duration,
    },
    /// Print the compiler's limits for scripts, one `NAME VALUE` line each (`max-release-validators N`)
    Limits,
    /// Print shell completions
    Completions { shell: clap_complete::Shell },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Usage errors and --help/--version; printing may fail on a closed pipe.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let mut warn = |line: String| say(&line);
    let result: Result<Vec<String>, Failure> = match cli.command.unwrap_or(Command::Compile {
        input: Input {
            config: None,
            secrets: None,
        },
        out: PathBuf::from("out"),
        allow_genesis_change: false,
        size: SizeLimit {
            no_size_limit: false,
        },
    }) {
        Command::Compile {
            input,
            out,
            allow_genesis_change,
            size,
        } => now().and_then(|now| {
            app::compile(
                &CompileOptions {
                    config: input.config.as_deref(),
                    out: &out,
                    secrets: input.secrets.as_deref(),
                    allow_genesis_change,
                    context: size.context(now),
                },
                &mut warn,
            )
        }),
        Command::Check { input, size } => now().and_then(|now| {
            app::check(
                input.config.as_deref(),
                input.secrets.as_deref(),
                size.context(now),
                &mut warn,
            )
        }),
        Command::Schema { chart } => {
            let schema = if chart {
                kuberneteth::values::json_schema()
            } else {
                kuberneteth::config::json_schema()
            };
            print_stdout(&(serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"))
        }
        Command::Docs {
            chart_values,
            chart_readme,
        } => print_stdout(&if chart_values {
            kuberneteth::chart_docs::values_yaml()
        } else if chart_readme {
            kuberneteth::chart_docs::readme()
        } else {
            kuberneteth::docs::config_reference()
        }),
        Command::Limits => print_stdout(&limits()),
        Command::Inspect { input } => now()
            .and_then(|now| {
                app::inspect(
                    input.config.as_deref(),
                    input.secrets.as_deref(),
                    now,
                    &mut warn,
                )
            })
            .and_then(|t| print_stdout(&t)),
        Command::Export {
            input,
            out,
            ip_range,
            port_range,
        } => now().and_then(|now| {
            app::export(
                &ExportOptions {
                    config: input.config.as_deref(),
                    out: &out,
                    secrets: input.secrets.as_deref(),
                    ip_range,
                    port_range,
                    now,
                },
                &mut warn,
            )
        }),
        Command::Deposit {
            input,
            rpc,
            from,
            dry_run,
        } => now().and_then(|now| {
            app::deposit(
                &DepositOptions {
                    config: input.config.as_deref(),
                    secrets: input.secrets.as_deref(),
                    rpc: &rpc,
                    from: &from,
                    dry_run,
                    now,
                },
                &mut warn,
            )
        }),
        Command::Exit {
            input,
            out,
            beacon_api,
            dry_run,
            no_wait,
            timeout,
        } => app::exit_validators(
            &ExitOptions {
                config: input.config.as_deref(),
                out: &out,
                secrets: input.secrets.as_deref(),
                beacon_api: &beacon_api,
                dry_run,
                wait: !no_wait,
                timeout,
                clock: &|| {
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs())
                },
            },
            &mut warn,
        ),
        Command::Completions { shell } => {
            // Into memory first: the generator panics when its writer fails.
            let mut script = Vec::new();
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "kuberneteth-values",
                &mut script,
            );
            print_stdout(&String::from_utf8_lossy(&script))
        }
    };
    match result {
        Ok(lines) => {
            for l in lines {
                say(&l);
            }
            ExitCode::SUCCESS
        }
        Err(f) => {
            for l in f.lines {
                say(&l);
            }
            ExitCode::from(f.code)
        }
    }
}

/// Sets the moment a network is checked at, in Unix seconds, instead of the clock
/// (for tests and reproducible runs; see the README).
const NOW_VARIABLE: &str = "KUBERNETETH_NOW";

/// The moment of the check, in Unix seconds: `KUBERNETETH_NOW` when it is set,
/// else the system clock. Read here, in the command layer, and handed to the
/// library, which never reads the clock. Only a warning depends on it (a
/// proof-of-stake genesis more than a day past); no output does.
fn now() -> Result<u64, Failure> {
    match parse_now(std::env::var_os(NOW_VARIABLE)) {
        Ok(Some(now)) => Ok(now),
        // A clock before 1970 makes no genesis look past.
        Ok(None) => Ok(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())),
        Err(e) => Err(Failure::new(app::exit::USAGE, e)),
    }
}

/// `KUBERNETETH_NOW`'s value: `None` when unset, the Unix seconds it gives, or
/// why it is not a time.
fn parse_now(value: Option<OsString>) -> Result<Option<u64>, String> {
    let Some(value) = value else {
        return Ok(None);
    };
    let text = value.to_string_lossy();
    let problem = if text.is_empty() {
        "is empty"
    } else if !text.bytes().all(|b| b.is_ascii_digit()) {
        "is not a whole number of seconds"
    } else {
        match text.parse::<u64>() {
            Ok(now) => return Ok(Some(now)),
            Err(_) => "is too large",
        }
    };
    Err(format!(
        "{NOW_VARIABLE}={:?} {problem}: give the moment to check at in Unix seconds \
         (e.g. 1798761600 for 2027-01-01 00:00 UTC), or unset it to use the clock",
        excerpt(&text)
    ))
}

/// A duration with its unit (90s, 45m, 2h, 1h 30m).
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(text)
        .map_err(|e| format!("{text:?}: {e}; give a number with its unit (90s, 45m, 2h)"))
}

/// At most 40 characters of `text`, for a message.
fn excerpt(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// One line to stderr. `eprintln!` panics when stderr is closed or full; a
/// message nobody can read is dropped instead, and the exit code still tells.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Writes a command's output. A closed pipe (`| head`) is the reader's choice and
/// not an error; any other failure (a full disk) is an I/O error.
fn print_stdout(text: &str) -> Result<Vec<String>, Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(Vec::new()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(Vec::new()),
        Err(e) => Err(Failure::new(
            app::exit::IO,
            format!("cannot write to standard output: {e}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_carry_their_unit() {
        use std::time::Duration;
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("45m"), Ok(Duration::from_secs(2700)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        for bad in ["", "90", "m", "-1", "x"] {
            let e = parse_duration(bad).unwrap_err();
            assert!(e.contains("give a number with its unit"), "{bad}: {e}");
        }
    }

    #[test]
    fn now_is_whole_unix_seconds_or_a_clear_error() {
        assert_eq!(parse_now(None), Ok(None));
        assert_eq!(parse_now(Some("0".into())), Ok(Some(0)));
        assert_eq!(
            parse_now(Some("1798761600".into())),
            Ok(Some(1_798_761_600))
        );
        assert_eq!(
            parse_now(Some(u64::MAX.to_string().into())),
            Ok(Some(u64::MAX))
        );
        for (bad, why) in [
            ("", "is empty"),
            (" 1", "is not a whole number"),
            ("+1", "is not a whole number"),
            ("-1", "is not a whole number"),
            ("1.5", "is not a whole number"),
            ("2027-01-01", "is not a whole number"),
            ("18446744073709551616", "is too large"),
        ] {
            let e = parse_now(Some(bad.into())).unwrap_err();
            assert!(
                e.starts_with("KUBERNETETH_NOW=") && e.contains(why),
                "{bad:?}: {e}"
            );
        }
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStringExt;
            let e = parse_now(Some(OsString::from_vec(vec![b'1', 0xff]))).unwrap_err();
            assert!(e.contains("is not a whole number"), "{e}");
        }
        let e = parse_now(Some("9".repeat(100).into())).unwrap_err();
        assert!(e.contains("…") && e.len() < 250, "{e}");
    }
}
