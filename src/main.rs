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

Exit codes: 0 ok, 1 invalid network file, 2 bad command line,
            3 refused (would change an existing genesis, or overwrite key material), 4 I/O error";

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
        /// The network file (default: the built-in network)
        #[arg(short = 'c', long = "config", value_name = "FILE")]
        config: Option<PathBuf>,
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
    let cli = Cli::parse();
    let mut warn = |line: String| eprintln!("{line}");
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
        Command::Check { config } => app::Source::load(config.as_deref()).and_then(|s| {
            s.check(&mut warn)
                .map(|_| vec![format!("{}: ok", s.display)])
        }),
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
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "kuberneteth-values",
                &mut std::io::stdout(),
            );
            Ok(Vec::new())
        }
    };
    match result {
        Ok(lines) => {
            for l in lines {
                eprintln!("{l}");
            }
            ExitCode::SUCCESS
        }
        Err(f) => {
            for l in f.lines {
                eprintln!("{l}");
            }
            ExitCode::from(f.code)
        }
    }
}

fn print_stdout(text: &str) -> Result<Vec<String>, Failure> {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth a message.
    let _ = out.write_all(text.as_bytes());
    Ok(Vec::new())
}
