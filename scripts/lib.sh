# Sourced by the scripts: paths and tool locations shared by setup, build, test,
# demo and bench. Not meant to be run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# The wasm-bindgen CLI must match the wasm-bindgen crate in Cargo.lock exactly.
WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/"/, "", $3); print $3; exit}' Cargo.lock)"
TOOLS="$ROOT/.tools"
WASM_BINDGEN_ROOT="$TOOLS/wasm-bindgen-$WASM_BINDGEN_VERSION"
export PATH="$WASM_BINDGEN_ROOT/bin:$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
DIST="$ROOT/dist"

say() { printf '\n== %s\n' "$*" >&2; }
