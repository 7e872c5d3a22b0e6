#!/usr/bin/env bash
# Start / stop a local Flink standalone session cluster from a directory of Flink jars, without Flink's shell
# scripts. Sourced by smoke.sh; usable alone:
#   FLINK_LIB=/path/to/flink/lib FLINK_BASH_UTILS=/path/to/bin/bash-java-utils.jar REST_PORT=18137 \
#     bash cluster.sh start DIR [TASKMANAGERS]      # writes DIR/conf, DIR/*.log, DIR/pids
#   ... bash cluster.sh add-tm DIR N                # one more TaskManager, tm-N
#   bash cluster.sh stop DIR                        # kills exactly the pids in DIR/pids
set -euo pipefail

# What Flink's own config.yaml passes as env.java.default-opts.all (needed on Java 17: Flink reflects into
# java.util and friends, e.g. when translating a job's sink).
JAVA_OPENS="--add-exports=java.base/sun.net.util=ALL-UNNAMED --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED \
--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED \
--add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED \
--add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
--add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.text=ALL-UNNAMED \
--add-opens=java.base/java.time=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED \
--add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED \
--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cluster_start() {
  local dir=$1 tms=${2:-2}
  : "${FLINK_LIB:?FLINK_LIB (the Flink lib/ directory) is required}"
  : "${FLINK_BASH_UTILS:?FLINK_BASH_UTILS (bin/bash-java-utils.jar) is required}"
  : "${REST_PORT:?REST_PORT is required}"
  mkdir -p "$dir/conf" "$dir/checkpoints" "$dir/savepoints"
  local rpc; rpc=$(free_port)
  cat > "$dir/conf/config.yaml" <<CONF
jobmanager.rpc.address: localhost
jobmanager.rpc.port: $rpc
jobmanager.bind-host: 127.0.0.1
taskmanager.bind-host: 127.0.0.1
taskmanager.host: 127.0.0.1
rest.address: 127.0.0.1
rest.bind-address: 127.0.0.1
rest.port: $REST_PORT
jobmanager.memory.process.size: 1024m
taskmanager.memory.process.size: 1280m
taskmanager.numberOfTaskSlots: ${SLOTS:-2}
web.submit.enable: true
# 1.x and 2.x names of the same settings (each version ignores the other's)
state.checkpoints.dir: file://$dir/checkpoints
state.savepoints.dir: file://$dir/savepoints
execution.checkpointing.dir: file://$dir/checkpoints
execution.checkpointing.savepoint-dir: file://$dir/savepoints
metrics.fetcher.update-interval: 1000
CONF
  cat > "$dir/conf/log4j.properties" <<'CONF'
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = MainAppender
appender.main.name = MainAppender
appender.main.type = File
appender.main.fileName = ${sys:log.file}
appender.main.layout.type = PatternLayout
appender.main.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
CONF
  local cp; cp=$(ls "$FLINK_LIB"/*.jar | tr '\n' ':')
  : > "$dir/pids"
  # shellcheck disable=SC2086
  java -Xmx512m $JAVA_OPENS -Dlog.file="$dir/jm.log" -Dlog4j.configurationFile="file:$dir/conf/log4j.properties" \
    -cp "$cp" org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint --configDir "$dir/conf" \
    > "$dir/jm.out" 2>&1 &
  echo $! >> "$dir/pids"
  for i in $(seq 1 "$tms"); do
    cluster_add_tm "$dir" "$i"
  done
  for _ in $(seq 1 90); do
    if curl -sf "http://127.0.0.1:$REST_PORT/overview" 2>/dev/null | grep -q "\"taskmanagers\":$tms"; then
      return 0
    fi
    sleep 1
  done
  echo "cluster did not come up (see $dir/*.log)" >&2
  return 1
}

# Starts TaskManager tm-N of the cluster in DIR (also to replace a killed one); appends its pid to DIR/pids.
cluster_add_tm() {
  local dir=$1 i=$2 cp params jvm dyn
  cp=$(ls "$FLINK_LIB"/*.jar | tr '\n' ':')
  params=$(java -cp "$FLINK_BASH_UTILS:$cp" org.apache.flink.runtime.util.bash.BashJavaUtils \
    GET_TM_RESOURCE_PARAMS --configDir "$dir/conf" 2>/dev/null | grep '^BASH_JAVA_UTILS_EXEC_RESULT:' \
    | sed 's/^BASH_JAVA_UTILS_EXEC_RESULT://')
  jvm=$(echo "$params" | sed -n 1p)
  dyn=$(echo "$params" | sed -n 2p)
  # shellcheck disable=SC2086
  java $JAVA_OPENS $jvm -Dlog.file="$dir/tm$i.log" -Dlog4j.configurationFile="file:$dir/conf/log4j.properties" \
    -cp "$cp" org.apache.flink.runtime.taskexecutor.TaskManagerRunner --configDir "$dir/conf" $dyn \
    -D taskmanager.resource-id="tm-$i" > "$dir/tm$i.out" 2>&1 &
  echo $! >> "$dir/pids"
}

cluster_stop() {
  local dir=$1
  [ -f "$dir/pids" ] || return 0
  while read -r pid; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done < "$dir/pids"
  sleep 2
  while read -r pid; do
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  done < "$dir/pids"
  : > "$dir/pids"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  case "${1:-}" in
    start) cluster_start "$2" "${3:-2}" ;;
    add-tm) cluster_add_tm "$2" "$3" ;;
    stop) cluster_stop "$2" ;;
    *) echo "usage: cluster.sh start DIR [TMS] | stop DIR" >&2; exit 2 ;;
  esac
fi
