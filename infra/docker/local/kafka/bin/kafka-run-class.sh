#!/usr/bin/env bash
# A short kafka-run-class.sh: the classpath is every jar in /opt/kafka/libs; tools log warnings to stderr.
set -euo pipefail
exec java ${KAFKA_TOOL_HEAP_OPTS:--Xmx256m} -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
  -Dlog4j.configuration=file:/opt/kafka/config-defaults/tools-log4j.properties \
  -cp '/opt/kafka/libs/*' "$@"
