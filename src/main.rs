//! `kuberneteth-values`: compile `kuberneteth.yaml` into Helm values.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use kuberneteth::app::{self, CompileOptions, ExportOptions, Failure};

const EXAMPLES: &str = "\
Examples:
  kuberneteth-values                                  compile the built-in default network into out/
  kuberneteth-values compile -c kuberneteth.yaml -o out
  kuberneteth-values check -c kuberneteth.yaml        validate only; writes nothing
  kuberneteth-values inspect -c kuberneteth.yaml      list nodes, signer addresses, enodes
  kuberneteth-values export -c kuberneteth.yaml -o local --ip-range 127.0.0.2
  helm upgrade --install devnet chart/ -f out/values.yaml -f out/secrets.values.yaml

Exit codes: 0 ok, 1 invalid network file (or brought key file), 2 bad command line,
            3 refused (would change an existing genesis, overwrite key material, or an
            earlier output is not ours), 4 I/O error (including an earlier output that cannot be read)";

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
    },
    /// Validate the network file; print every problem; write nothing
    Check {
        #[command(flatten)]
        input: Input,
    },
    /// Print a JSON Schema
    Schema {
        /// The chart's values schema instead of the network file's
        #[arg(long)]
        chart: bool,
    },
    /// Print the option reference (Markdown), generated from the schema
    Docs,
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
    }) {
        Command::Compile {
            input,
            out,
            allow_genesis_change,
        } => app::compile(
            &CompileOptions {
                config: input.config.as_deref(),
                out: &out,
                secrets: input.secrets.as_deref(),
                allow_genesis_change,
            },
            &mut warn,
        ),
        Command::Check { input } => {
            app::check(input.config.as_deref(), input.secrets.as_deref(), &mut warn)
        }
        Command::Schema { chart } => {
            let schema = if chart {
                kuberneteth::values::json_schema()
            } else {
                kuberneteth::config::json_schema()
            };
            print_stdout(&(serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"))
        }
        Command::Docs => print_stdout(&kuberneteth::docs::config_reference()),
        Command::Inspect { input } => {
            app::inspect(input.config.as_deref(), input.secrets.as_deref(), &mut warn)
                .and_then(|t| print_stdout(&t))
        }
        Command::Export {
            input,
            out,
            ip_range,
            port_range,
        } => app::export(
            &ExportOptions {
                config: input.config.as_deref(),
                out: &out,
                secrets: input.secrets.as_deref(),
                ip_range,
                port_range,
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
