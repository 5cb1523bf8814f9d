#!/usr/bin/env bash
# The broker's start, as the official image does it: every KAFKA_* variable (but the JVM ones) is a broker setting,
# named with `_` for `.`, `__` for `_` and `___` for `-` (KAFKA_LOG_DIRS → log.dirs); without any, the defaults of a
# single-node KRaft broker apply. The log directory is formatted once with CLUSTER_ID, then the broker starts.
set -euo pipefail

readonly PROPS=/opt/kafka/config/server.properties
readonly JVM_VARIABLES=' KAFKA_HEAP_OPTS KAFKA_OPTS KAFKA_JVM_PERFORMANCE_OPTS KAFKA_GC_LOG_OPTS KAFKA_LOG4J_OPTS KAFKA_JMX_OPTS KAFKA_JMX_PORT KAFKA_JMX_HOSTNAME KAFKA_LOG4J_ROOT_LOGLEVEL KAFKA_LOG4J_LOGGERS KAFKA_TOOLS_LOG4J_LOGLEVEL KAFKA_TOOL_HEAP_OPTS KAFKA_HOME KAFKA_VERSION '

settings=()
while IFS='=' read -r name value; do
  [[ "$name" == KAFKA_* && "$JVM_VARIABLES" != *" $name "* ]] || continue
  key="${name#KAFKA_}"
  key="${key,,}"
  key="${key//___/-}"
  key="${key//__/@}"
  key="${key//_/.}"
  settings+=("${key//@/_}=$value")
done < <(env)

if ((${#settings[@]} > 0)); then
  printf '%s\n' '# Written from the KAFKA_* variables at start.' "${settings[@]}" >"$PROPS"
else
  cp /opt/kafka/config-defaults/server.properties "$PROPS"
fi
log_dir="$(sed -n 's/^log\.dirs=//p' "$PROPS" | cut -d, -f1)"

if [[ ! -f "${log_dir:-/tmp/kraft-combined-logs}/meta.properties" ]]; then
  kafka-storage.sh format --ignore-formatted -t "${CLUSTER_ID:-5L6g3nShT-eMCtK--X86sw}" -c "$PROPS"
fi

# The JVM answers SIGTERM with a controlled shutdown and then reports 143 (128 + SIGTERM) whatever happened; the
# broker is run as a child so that a stop asked for with SIGTERM and completed ends with status 0, and anything else
# (a crash, SIGKILL) keeps its own status.
stopping=0
# shellcheck disable=SC2086  # the *_OPTS variables are lists of JVM flags
java ${KAFKA_HEAP_OPTS:--Xmx1g -Xms1g} ${KAFKA_JVM_PERFORMANCE_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent} \
  -Djava.awt.headless=true ${KAFKA_OPTS:-} \
  -Dlog4j.configuration=file:/opt/kafka/config-defaults/log4j.properties \
  -cp '/opt/kafka/libs/*' kafka.Kafka "$PROPS" &
broker=$!
trap 'stopping=1; kill -TERM "$broker" 2>/dev/null || true' TERM INT
# `wait` also returns when a trapped signal arrives: wait again until the broker is gone, then read its status.
while kill -0 "$broker" 2>/dev/null; do wait "$broker" || true; done
status=0
wait "$broker" || status=$?
if ((stopping == 1 && status == 143)); then
  echo "kafka: stopped on SIGTERM after a controlled shutdown"
  exit 0
fi
exit "$status"
