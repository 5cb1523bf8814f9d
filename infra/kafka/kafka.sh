#!/usr/bin/env bash
# A single-node Apache Kafka 3.9.1 broker (KRaft, no ZooKeeper, no Docker) for
# local development and tests. Usage: kafka.sh {start|stop|status|fetch}.
# Settings (env): KAFKA_PORT, KAFKA_CONTROLLER_PORT, KAFKA_DATA_DIR,
# KAFKA_CACHE_DIR, KAFKA_HEAP_OPTS, KAFKA_START_TIMEOUT_S. See README.md.
set -euo pipefail

readonly KAFKA_VERSION=3.9.1
readonly SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly HOST=127.0.0.1
readonly PORT="${KAFKA_PORT:-9092}"
readonly CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
readonly DATA_DIR="${KAFKA_DATA_DIR:-$SCRIPT_DIR/.data}"
readonly CACHE_DIR="${KAFKA_CACHE_DIR:-$SCRIPT_DIR/.cache}"
readonly LIB_DIR="$CACHE_DIR/kafka-$KAFKA_VERSION"
readonly HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}"
readonly START_TIMEOUT_S="${KAFKA_START_TIMEOUT_S:-90}"
readonly STOP_TIMEOUT_S=30

readonly PID_FILE="$DATA_DIR/kafka.pid"
readonly CONSOLE_LOG="$DATA_DIR/kafka.out"
readonly LOG4J_DIR="$DATA_DIR/logs"
readonly PROPS_FILE="$DATA_DIR/server.properties"
readonly CLUSTER_ID_FILE="$DATA_DIR/cluster-id"

log() { printf '[kafka.sh] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- fetch -----------------------------------------------------------------

# The marker holds the pom's hash, so editing pom.xml triggers a re-fetch.
pom_hash() { sha256sum "$SCRIPT_DIR/pom.xml" | cut -d' ' -f1; }

fetch() {
  if [[ -f "$LIB_DIR/.complete" && "$(cat "$LIB_DIR/.complete")" == "$(pom_hash)" ]]; then
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found: install Maven 3.8+ (apt-get install maven)"
  command -v java >/dev/null || die "java not found: install a JDK 17 (apt-get install openjdk-17-jdk-headless)"
  log "fetching Kafka $KAFKA_VERSION jars from Maven Central into $LIB_DIR"
  mkdir -p "$CACHE_DIR"
  local tmp="$LIB_DIR.tmp.$$"
  rm -rf "$tmp"
  # Copy into a temporary dir and rename, so an interrupted fetch never
  # leaves a half-filled classpath that looks complete.
  local mvn_log="$CACHE_DIR/mvn.log"
  if ! mvn -q -B -f "$SCRIPT_DIR/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp" >"$mvn_log" 2>&1; then
    cat "$mvn_log" >&2
    rm -rf "$tmp"
    die "fetching the jars with Maven failed (Maven Central reachable? see above)"
  fi
  pom_hash >"$tmp/.complete"
  rm -rf "$LIB_DIR"
  mv "$tmp" "$LIB_DIR"
  log "fetched $(find "$LIB_DIR" -name '*.jar' | wc -l) jars"
}

# --- probes ----------------------------------------------------------------

# Sends a Metadata v0 request (all topics) over bash's /dev/tcp and succeeds
# when the answer lists at least one broker: the broker has registered with
# the controller and serves clients, not merely accepts TCP connections.
kafka_answers() {
  (
    exec 3<>"/dev/tcp/$HOST/$PORT" || exit 1
    # size=18 | api_key=3 | api_version=0 | correlation_id=7 | client_id="ping" | topics=[]
    printf '\x00\x00\x00\x12\x00\x03\x00\x00\x00\x00\x00\x07\x00\x04ping\x00\x00\x00\x00' >&3
    # Response: size(4) correlation_id(4) broker_count(4) ...
    local head
    head="$(timeout 3 head -c 12 <&3 | od -An -v -tu1 | tr -s ' \n' ' ')" || exit 1
    read -r -a b <<<"$head"
    ((${#b[@]} == 12)) || exit 1
    ((b[7] == 7)) || exit 1
    ((b[8] * 16777216 + b[9] * 65536 + b[10] * 256 + b[11] >= 1))
  ) 2>/dev/null
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

# --- start -----------------------------------------------------------------

write_config() {
  mkdir -p "$DATA_DIR/kraft-logs" "$LOG4J_DIR"
  cat >"$PROPS_FILE" <<EOF
# Written by infra/kafka/kafka.sh on every start; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA_DIR/kraft-logs

# One node: every internal topic has a single replica.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
min.insync.replicas=1
default.replication.factor=1
# Fewer internal partitions than the default 50: creating them on the first
# group join / first transaction is the slowest step of a test run on 2 cores.
offsets.topic.num.partitions=10
transaction.state.log.num.partitions=10

# Tests join and leave groups constantly; never wait for more members.
group.initial.rebalance.delay.ms=0
# Topics are created explicitly (test/global-setup.ts, services' startup).
auto.create.topics.enable=false
num.partitions=1
delete.topic.enable=true

num.network.threads=2
num.io.threads=4
log.retention.hours=24
log.segment.bytes=104857600
EOF

  cat >"$DATA_DIR/log4j.properties" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$LOG4J_DIR/server.log
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
EOF
}

format_storage() {
  if [[ ! -s "$CLUSTER_ID_FILE" ]]; then
    java -cp "$LIB_DIR/*" -Dlog4j.configuration="file:$DATA_DIR/log4j.properties" \
      kafka.tools.StorageTool random-uuid >"$CLUSTER_ID_FILE"
  fi
  # --ignore-formatted: a data dir from an earlier run is kept as is.
  java -cp "$LIB_DIR/*" -Dlog4j.configuration="file:$DATA_DIR/log4j.properties" \
    kafka.tools.StorageTool format -t "$(cat "$CLUSTER_ID_FILE")" -c "$PROPS_FILE" \
    --ignore-formatted >>"$CONSOLE_LOG" 2>&1 || {
    tail -n 20 "$CONSOLE_LOG" >&2
    die "formatting $DATA_DIR/kraft-logs failed (see $CONSOLE_LOG)"
  }
}

start() {
  if kafka_answers; then
    log "a broker already answers on $HOST:$PORT; nothing to do"
    return 0
  fi
  if port_open "$PORT" && ! running_pid >/dev/null; then
    die "port $PORT is taken by something that is not a Kafka broker"
  fi
  if ! running_pid >/dev/null; then
    fetch
    write_config
    format_storage
    log "starting Kafka $KAFKA_VERSION on $HOST:$PORT (data: $DATA_DIR)"
    # setsid: the broker outlives the shell (or test runner) that started it;
    # 9>&-: it must not inherit (and so hold) the start/stop lock.
    # shellcheck disable=SC2086  # HEAP_OPTS is a list of JVM flags
    setsid java $HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
      -Dlog4j.configuration="file:$DATA_DIR/log4j.properties" -Dkafka.logs.dir="$LOG4J_DIR" \
      -cp "$LIB_DIR/*" kafka.Kafka "$PROPS_FILE" \
      </dev/null >>"$CONSOLE_LOG" 2>&1 9>&- &
    echo $! >"$PID_FILE"
  else
    log "broker process $(running_pid) is starting; waiting for it"
  fi

  local pid started_s=$SECONDS
  pid="$(running_pid)" || die "the broker exited at once; see $CONSOLE_LOG and $LOG4J_DIR/server.log"
  until kafka_answers; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$LOG4J_DIR/server.log" "$CONSOLE_LOG" >&2 2>/dev/null || true
      rm -f "$PID_FILE"
      die "the broker exited during startup; see $LOG4J_DIR/server.log"
    fi
    if ((SECONDS - started_s >= START_TIMEOUT_S)); then
      die "the broker did not answer within ${START_TIMEOUT_S}s; see $LOG4J_DIR/server.log (pid $pid left running)"
    fi
    sleep 0.5
  done
  log "Kafka is up on $HOST:$PORT (pid $pid, ready in $((SECONDS - started_s))s)"
}

# --- stop / status ---------------------------------------------------------

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    log "not running"
    return 0
  fi
  log "stopping Kafka (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local waited=0
  while kill -0 "$pid" 2>/dev/null && ((waited < STOP_TIMEOUT_S * 10)); do
    sleep 0.1
    waited=$((waited + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "still running after ${STOP_TIMEOUT_S}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
  log "stopped"
}

status() {
  local pid
  if pid="$(running_pid)"; then
    if kafka_answers; then
      log "running (pid $pid) on $HOST:$PORT"
      return 0
    fi
    log "process $pid is alive but $HOST:$PORT does not answer yet"
    return 1
  fi
  if kafka_answers; then
    log "a broker not started by this script answers on $HOST:$PORT"
    return 0
  fi
  log "not running"
  return 3
}

# Start and stop take a lock so that concurrent callers (two test runs, CI and
# a developer) neither launch two brokers nor format under a running one.
with_lock() {
  mkdir -p "$DATA_DIR"
  exec 9>"$DATA_DIR/.lock"
  flock 9
  "$@"
}

case "${1:-}" in
  start) with_lock start ;;
  stop) with_lock stop ;;
  status) status ;;
  fetch) fetch ;;
  *)
    echo "usage: $0 {start|stop|status|fetch}" >&2
    exit 2
    ;;
esac
