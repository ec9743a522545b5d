#!/usr/bin/env bash
# The Python client suites against a fresh `cogov up`: gRPC through the
# gateway with stubs generated from proto/ (grpcio-tools), Open311 with a
# PyPI client, and webhooks verified by the `standardwebhooks` package. Used by .ci/run; run it yourself after `cargo build -p cogov`.
#
# Environment: COGOV_BIN (default target/debug/cogov), COGOV_PY_VENV (the
# virtual environment to use, created if missing; default .venv-clients,
# apart from the manifest tools' .venv, whose pins may differ).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
venv=${COGOV_PY_VENV:-$root/.venv-clients}
cogov=${COGOV_BIN:-$root/target/debug/cogov}

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"

work=$(mktemp -d)
mkdir -p "$work/gen"
(cd "$root/proto" && "$venv/bin/python" -m grpc_tools.protoc -I . \
  --python_out="$work/gen" --grpc_python_out="$work/gen" $(find cogov -name '*.proto'))

port=$((20000 + RANDOM % 20000))
"$cogov" up --data-dir "$work/data" --base-port "$port" > "$work/up.log" 2>&1 &
pid=$!
stop() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap stop EXIT

for _ in $(seq 1 120); do
  grep -q "cogov is up" "$work/up.log" && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/up.log"; echo "cogov up exited" >&2; exit 1; }
  sleep 0.5
done
grep -q "cogov is up" "$work/up.log" || { cat "$work/up.log"; echo "cogov up did not come up" >&2; exit 1; }

credential() { sed -n "s/^ *export $1=//p" "$work/up.log" | head -n 1; }
export COGOV_GATEWAY="127.0.0.1:$port"
COGOV_TOKEN=$(credential COGOV_TOKEN)
COGOV_FIRM_KEY=$(credential COGOV_FIRM_KEY)
COGOV_UNIT_KEY=$(credential COGOV_UNIT_KEY)
export COGOV_TOKEN COGOV_FIRM_KEY COGOV_UNIT_KEY
# The residents' tour reads the banner's demo residents and the sign-in
# codes (COGOV_SIGN_IN_SENDER=log) from cogov up's output.
export COGOV_UP_LOG="$work/up.log"

cd "$here"
PYTHONPATH="$work/gen:$here" "$venv/bin/python" -m unittest -v test_grpc test_open311 test_residents test_webhooks
