#!/usr/bin/env bash
# Smoke test of the test job on a real local Flink session cluster (see README.md, "Smoke test"):
#   FLINK_VERSION=1.20.5 FLINK_LIB=.../lib FLINK_BASH_UTILS=.../bin/bash-java-utils.jar REST_PORT=18137 \
#     bash smoke.sh
# Runs at parallelism 1, raises the rate file (8000) then sets it to 0 and checks pendingRecords follows, takes a savepoint,
# cancels, restores at RESCALE_TO (default 2) from it, stops with a savepoint and checks the verdict
# (files and REST): checked > 0, lost = 0, duplicated = 0. Then a job with injected loss/duplication must
# show lost > 0 and duplicated > 0. Kills the cluster it started on exit. Exit 0 = all checks passed.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
: "${FLINK_VERSION:?FLINK_VERSION (1.20.5 or 2.3.0)}" "${REST_PORT:?REST_PORT}"
RESCALE_TO=${RESCALE_TO:-2}
WORK=${WORK:-$(mktemp -d /tmp/flink-test-job-smoke.XXXXXX)}
R=http://127.0.0.1:$REST_PORT
JAR=$HERE/target/flink-test-job-flink$FLINK_VERSION.jar
. "$HERE/cluster.sh"

fails=0
passes=0
ok() { echo "PASS: $*"; passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
js() { python3 -c "import sys,json; d=json.load(sys.stdin); print($1)"; }
log() { echo "$(date +%T) $*"; }

[ -f "$JAR" ] || (cd "$HERE" && mvn -q -B package -Dflink.version="$FLINK_VERSION")
trap 'cluster_stop "$WORK/cluster"' EXIT
log "cluster in $WORK/cluster (REST $REST_PORT)"
cluster_start "$WORK/cluster" 2

mkdir -p "$WORK/verdict" "$WORK/verdict-fault"
set_rate() { echo "$1" > "$WORK/rate.tmp" && mv "$WORK/rate.tmp" "$WORK/rate"; }
set_rate 1000
JARID=$(curl -sf -F jarfile=@"$JAR" "$R/jars/upload" | js 'd["filename"].split("/")[-1]')

submit() { # parallelism savepoint-or-empty verdict-dir extra-args... -> prints the job id
  local p=$1 sp=$2 vdir=$3; shift 3
  python3 - "$p" "$sp" "$WORK/rate" "$vdir" "$@" <<'PY' |
import json, sys
p, sp, rate, vdir = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
body = {"entryClass": "dev.flinkelastic.testjob.LoadJob", "parallelism": p,
        "programArgsList": ["--rate-file", rate, "--rate", "1000", "--verdict-dir", vdir] + sys.argv[5:]}
if sp:
    body["savepointPath"] = sp
print(json.dumps(body))
PY
  curl -sf -X POST -H 'Content-Type: application/json' -d @- "$R/jars/$JARID/run" | js 'd["jobid"]'
}
wait_running() { # job: all vertices RUNNING
  for _ in $(seq 1 60); do
    if curl -s "$R/jobs/$1" | js 'all(v["status"]=="RUNNING" for v in d["vertices"])' | grep -q True; then return 0; fi
    sleep 1
  done
  return 1
}
vid() { curl -s "$R/jobs/$1" | js "[v['id'] for v in d['vertices'] if v['name']=='$2'][0]"; }
msum() { # job vertex-id metric -> sum over subtasks
  local out
  for _ in 1 2 3 4 5; do
    out=$(curl -s "$R/jobs/$1/vertices/$2/subtasks/metrics?get=$3&agg=sum" | js 'int(d[0]["sum"]) if d else ""' || true)
    [ -n "$out" ] && { echo "$out"; return 0; }
    sleep 1
  done
  echo -1
}
savepoint() { # job savepoints|stop body -> location when completed (both are polled at .../savepoints/<id>)
  local t r
  t=$(curl -sf -X POST -H 'Content-Type: application/json' -d "$3" "$R/jobs/$1/$2" | js 'd["request-id"]')
  for _ in $(seq 1 120); do
    r=$(curl -s "$R/jobs/$1/savepoints/$t")
    if echo "$r" | grep -q '"COMPLETED"'; then echo "$r" | js 'd["operation"]["location"]'; return 0; fi
    sleep 1
  done
  echo "timeout: $r" >&2
  return 1
}
verdict_files() { # dir job -> "checked lost duplicated checkpointId files parallelism" of that job's files
  python3 - "$1" "$2" <<'PY'
import glob, json, sys
fs = [json.load(open(f)) for f in glob.glob(sys.argv[1] + "/subtask-*.json")]
fs = [f for f in fs if f["jobId"] == sys.argv[2]]
cps = {f["checkpointId"] for f in fs}
print(sum(f["checked"] for f in fs), sum(f["lost"] for f in fs), sum(f["duplicated"] for f in fs),
      ",".join(map(str, sorted(cps))), len(fs), fs[0]["parallelism"] if fs else 0)
PY
}

# 1. parallelism 1, the rate drives pendingRecords
JOB=$(submit 1 "" "$WORK/verdict")
wait_running "$JOB"
log "job $JOB running at parallelism 1; vertices: $(curl -s "$R/jobs/$JOB" | js '[v["name"] for v in d["vertices"]]')"
SRC=$(vid "$JOB" "Source: source"); WK=$(vid "$JOB" work); VD=$(vid "$JOB" verdict)
sleep 8
p0=$(msum "$JOB" "$SRC" Source__source.pendingRecords)
log "rate 1000: pendingRecords=$p0"
set_rate 8000
p1=$p0
for _ in $(seq 1 30); do # REST metrics lag (fetcher interval, a busy TM answering late): poll
  sleep 1
  p1=$(msum "$JOB" "$SRC" Source__source.pendingRecords)
  [ "$p1" -gt $((p0 + 5000)) ] && break
done
busy=$(msum "$JOB" "$WK" busyTimeMsPerSecond)
# throughput from the verdict files (written on each checkpoint; the REST values can be stale under load)
read -r c1 _ _ cp1 _ _ <<< "$(verdict_files "$WORK/verdict" "$JOB")"; t1=$(python3 -c "import json;print(json.load(open('$WORK/verdict/subtask-0.json'))['writtenAtMs'])")
sleep 12
read -r c2 _ _ cp2 _ _ <<< "$(verdict_files "$WORK/verdict" "$JOB")"; t2=$(python3 -c "import json;print(json.load(open('$WORK/verdict/subtask-0.json'))['writtenAtMs'])")
thr=$(python3 -c "print(round(($c2-$c1)*1000/max(1,$t2-$t1)))")
log "rate 8000: pendingRecords=$p1 work busyTimeMsPerSecond=$busy; $thr rec/s checked at parallelism 1, saturated (checkpoints $cp1..$cp2)"
[ "$p1" -gt $((p0 + 5000)) ] && ok "pendingRecords rose with the rate ($p0 -> $p1)" || bad "pendingRecords did not rise ($p0 -> $p1)"
set_rate 0 # any progress must now lower the backlog, even on a machine too loaded to keep up with 500/s
sleep 4
p2=$(msum "$JOB" "$SRC" Source__source.pendingRecords)
p3=$p2
for _ in $(seq 1 60); do
  sleep 1
  p3=$(msum "$JOB" "$SRC" Source__source.pendingRecords)
  [ "$p3" -lt $((p2 - 3000)) ] && break
done
log "rate 0: pendingRecords $p2 -> $p3 (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
[ "$p3" -lt $((p2 - 3000)) ] && ok "pendingRecords fell with the rate ($p2 -> $p3)" || bad "pendingRecords did not fall ($p2 -> $p3)"
set_rate 1000

# 2. savepoint, cancel, downtime, restore at RESCALE_TO
SP=$(savepoint "$JOB" savepoints '{"cancel-job":false}')
log "savepoint $SP"
curl -s -X PATCH "$R/jobs/$JOB?mode=cancel" > /dev/null
sleep 8 # downtime: the producer goes on (rate 1000), the backlog must be there after the restore
JOB2=$(submit "$RESCALE_TO" "$SP" "$WORK/verdict")
wait_running "$JOB2"
SRC=$(vid "$JOB2" "Source: source"); VD=$(vid "$JOB2" verdict)
log "job $JOB2 restored at parallelism $RESCALE_TO; pendingRecords=$(msum "$JOB2" "$SRC" Source__source.pendingRecords)"
set_rate 2000
sleep 25
log "REST verdict: checked=$(msum "$JOB2" "$VD" verdict.verdictChecked) lost=$(msum "$JOB2" "$VD" verdict.verdictLost) duplicated=$(msum "$JOB2" "$VD" verdict.verdictDuplicated) pendingRecords=$(msum "$JOB2" "$SRC" Source__source.pendingRecords)"
SP2=$(savepoint "$JOB2" stop '{"drain":false}')
log "stopped with savepoint $SP2"
read -r vc vl vd vcp vn vp <<< "$(verdict_files "$WORK/verdict" "$JOB2")"
log "verdict files: checked=$vc lost=$vl duplicated=$vd checkpointIds=$vcp files=$vn parallelism=$vp"
cat "$WORK"/verdict/subtask-*.json
if [ "$vn" = "$RESCALE_TO" ] && [ "$vp" = "$RESCALE_TO" ] && [ "${vcp//,/}" = "$vcp" ] && [ "$vc" -gt 0 ] \
   && [ "$vl" = 0 ] && [ "$vd" = 0 ]; then
  ok "exactly-once across savepoint + rescale 1 -> $RESCALE_TO ($vc checked, 0 lost, 0 duplicated)"
else
  bad "verdict after rescale"
fi

# 3. the check can fail: a job that loses every 1000th and duplicates every 1500th record of each split
set_rate 1000
JOB3=$(submit 1 "" "$WORK/verdict-fault" --inject-loss-every 1000 --inject-dup-every 1500)
wait_running "$JOB3"
sleep 15
VD=$(vid "$JOB3" verdict)
fl=$(msum "$JOB3" "$VD" verdict.verdictLost); fd=$(msum "$JOB3" "$VD" verdict.verdictDuplicated)
log "fault-injected job: REST lost=$fl duplicated=$fd; files: $(verdict_files "$WORK/verdict-fault" "$JOB3")"
[ "$fl" -gt 0 ] && [ "$fd" -gt 0 ] && ok "injected loss and duplication are detected" || bad "injected faults not detected"
curl -s -X PATCH "$R/jobs/$JOB3?mode=cancel" > /dev/null

echo "$passes passed, $fails failed"
[ "$fails" = 0 ]
