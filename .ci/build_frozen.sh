#!/usr/bin/env bash
# CI proof of the frozen build: PyInstaller one-folder bundle from build.spec (the same spec as the
# Windows release), then smoke-run the frozen executables:
#   1. the build log has no missing hidden import,
#   2. DENTAL_BRIDGE_SELFTEST=1 imports every dynamically loaded module from the bundle,
#   3. `--version` and `models check` work,
#   4. generated DICOM bitewings (explicit VR and RLE) go through `ingest --json` and come out "analyzed",
#   5. the windowed app starts offscreen, shows its tray icon, and a second launch steps aside.
# Prints the bundle size and cold-start times. Self-contained: installs PyInstaller into .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export QT_QPA_PLATFORM=offscreen PYSTRAY_BACKEND=dummy PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_PROGRESS_BAR=off
PY=.venv/bin/python
if [ ! -x "$PY" ]; then
  python3 -m venv .venv
  .venv/bin/pip install -q -e '.[test]'
fi
.venv/bin/pip install -q 'pyinstaller>=6.10,<7' 'pyinstaller-hooks-contrib>=2024.8'

step() { printf '\n== %s\n' "$*"; }
now() { $PY -c 'import time; print(time.monotonic())'; }
fail() { echo "FAIL: $*" >&2; exit 1; }

step "PyInstaller build (build.spec)"
t0=$(date +%s)
LOG=build/pyinstaller.log
mkdir -p build
if ! .venv/bin/pyinstaller --noconfirm --clean --log-level WARN build.spec >"$LOG" 2>&1; then
  tail -40 "$LOG"; fail "pyinstaller failed"
fi
echo "built in $(( $(date +%s) - t0 )) s"
if grep -E "ERROR: Hidden import .* not found" "$LOG"; then fail "a hidden import is missing (see above)"; fi
DIST=dist/DentalAIBridge
CLI=$DIST/dental-bridge
APP=$DIST/DentalAIBridge
[ -x "$CLI" ] && [ -x "$APP" ] || fail "executables missing in $DIST"

step "bundle self-check (dynamically loaded modules, data files)"
DENTAL_BRIDGE_SELFTEST=1 "$CLI" || fail "the bundle lacks modules the app loads at run time"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export DENTAL_BRIDGE_HOME="$WORK/home"

step "--version (cold start)"
a=$(now); "$CLI" --version; b=$(now)
CLI_START=$($PY -c "print(f'{$b - $a:.2f}')")
echo "frozen CLI --version: ${CLI_START} s"

step "models check"
if ! ls models/*/model.json >/dev/null 2>&1; then
  echo "no bundled model yet: installing the test stub detector as a user model"
  (cd tests && "$ROOT/$PY" -c "import sys; from model_factory import simple_detector; simple_detector(sys.argv[1])" \
      "$DENTAL_BRIDGE_HOME/models/stub")
fi
"$CLI" models check --json >"$WORK/models.json" || { cat "$WORK/models.json"; fail "models check"; }
$PY - "$WORK/models.json" <<'EOF'
import json, sys
models = json.load(open(sys.argv[1]))["models"]
chosen = [m for m in models if m["selected"]]
assert chosen and all(m["ok"] for m in chosen), models
print("model in use:", chosen[0]["name"], chosen[0]["version"], f"({chosen[0]['origin']})")
EOF

step "generated DICOM bitewings end to end (ingest --json)"
$PY - "$WORK/in" <<'EOF'
import sys
from pathlib import Path
from tray_app.demo import writers
from tray_app.demo.synth import generate_sample
out = Path(sys.argv[1]); out.mkdir(parents=True)
for i, ts in enumerate(("explicit", "rle")):
    s = generate_sample("bitewing", 40 + i, bits_stored=12, view="right molar")
    writers.write_dicom(s, out / f"CI{i}_bitewing.dcm", patient_id=f"CI{i:03d}", patient_name="Frozen^Build",
                        birth_date="19800101", transfer_syntax=ts)
print("wrote", sorted(p.name for p in out.iterdir()))
EOF
"$CLI" ingest "$WORK/in" --json | tee "$WORK/ingest.jsonl"
$PY - "$WORK/ingest.jsonl" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(rows) == 2, rows
bad = [r for r in rows if r["status"] != "analyzed" or not r["findings"]]
assert not bad, f"not analyzed end to end: {bad}"
print(f"{len(rows)} bitewings analyzed, {sum(r['findings'] for r in rows)} findings")
EOF
"$CLI" queue --json >"$WORK/queue.json"
$PY -c "import json,sys; q=json.load(open(sys.argv[1])); assert q['studies'], q; print(len(q['studies']), 'studies in the review queue')" "$WORK/queue.json"
"$CLI" audit verify || fail "audit chain"

step "windowed app offscreen: tray icon, single instance"
mkdir -p "$WORK/share"
"$CLI" config add-source "$WORK/share" >/dev/null
a=$(now)
"$APP" >"$WORK/app.out" 2>&1 &
APP_PID=$!
LOGF="$DENTAL_BRIDGE_HOME/logs/dental-bridge.log"
for _ in $(seq 1 150); do
  grep -q "tray icon shown" "$LOGF" 2>/dev/null && break
  kill -0 "$APP_PID" 2>/dev/null || { cat "$WORK/app.out"; tail -20 "$LOGF" || true; fail "the app exited early"; }
  sleep 0.1
done
grep -q "tray icon shown" "$LOGF" || { tail -20 "$LOGF"; kill "$APP_PID"; fail "no tray icon within 15 s"; }
b=$(now)
TRAY_START=$($PY -c "print(f'{$b - $a:.2f}')")
echo "frozen app start to tray icon: ${TRAY_START} s (log: $(grep -o 'tray icon shown.*' "$LOGF" | head -1))"
# a second launch finds the first, asks it to show the review window, and exits 0 quickly
timeout 20 "$APP" || { kill "$APP_PID"; fail "the second instance did not step aside"; }
sleep 0.5
kill -0 "$APP_PID" 2>/dev/null || fail "the first instance died when the second started"
kill -TERM "$APP_PID"
wait "$APP_PID" 2>/dev/null || true

step "summary"
echo "bundle size:            $(du -sh "$DIST" | cut -f1)"
echo "CLI --version:          ${CLI_START} s"
echo "app start to tray icon: ${TRAY_START} s (offscreen, dummy tray backend)"
echo "frozen build OK"
