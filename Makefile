# kuberneteth: the main job is `make values`, the test suite `make test`.
CONFIG ?= values/kuberneteth.yaml
OUT ?= out
CARGO ?= cargo
# cargo puts the binary under CARGO_TARGET_DIR when that is set.
BIN := $(or $(CARGO_TARGET_DIR),target)/release/kuberneteth-values

.PHONY: build values test test-rust test-deposit test-oracle test-chart live live-pos live-export-pos live-limits bench schema e2e-kind lint

build:
	$(CARGO) build --release --locked

## The main job: compile the default network into Helm values under $(OUT)/.
values: build
	$(BIN) compile -c $(CONFIG) -o $(OUT)

## Regenerate the schema files and the documentation generated from the Rust types.
schema: build
	$(BIN) schema > schema/kuberneteth.schema.json
	$(BIN) schema --chart > chart/values.schema.json
	$(BIN) docs > docs/CONFIG.md
	$(BIN) docs --chart-values > chart/values.yaml
	$(BIN) docs --chart-readme > chart/README.md

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets --locked -- -D warnings

## Everything CI runs.
test: lint build test-rust test-deposit test-oracle test-chart live live-pos live-export-pos live-limits

test-rust:
	$(CARGO) test --release --locked --lib --bins --test cli --test fuzz --test proof_of_stake \
		--test genesis_state --test validator_keys --test el_genesis --test beacon_identity --test readme

## The deposit command against a real geth (developer mode on a compiled network's
## execution genesis): sends, refuses, and sends nothing twice.
test-deposit:
	KUBERNETETH_GETH=$$(scripts/geth.sh v1.17.10) $(CARGO) test --release --locked --test deposit

## Independent implementations check our outputs: Python Ethereum libraries, the
## executable consensus spec, ethstaker-deposit, geth itself, and Prysm loading a
## compiled network's config, genesis state, keys and wallets.
test-oracle: build
	scripts/oracle.sh
	scripts/oracle-fork-digest.sh
	scripts/oracle-beacon-identity.sh
	scripts/oracle-validator-keys.sh
	scripts/oracle-genesis-state.sh
	scripts/oracle-el-genesis.sh
	scripts/oracle-pos.sh
	scripts/check-prysm.sh --minimal

test-chart: build
	scripts/chart-test.sh

## The live tier: the compiled networks installed with Helm on a real single-node
## Kubernetes built from Go modules (tests/live/README.md): clique, proof of stake
## (geth and Prysm), and the largest proof-of-stake release the compiler accepts.
live: build
	scripts/live.sh

live-pos: build
	scripts/live-pos.sh

## Proof of stake outside Kubernetes: every node of an export started from its folder
## with the README's recipe (geth, Prysm's beacon node and validator client), on this host.
live-export-pos: build
	scripts/export-pos.sh

live-limits: build
	scripts/live-limits.sh

bench: build
	scripts/bench.sh

e2e-kind: build
	tests/e2e-kind.sh
