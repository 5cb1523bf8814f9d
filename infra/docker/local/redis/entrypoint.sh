#!/bin/sh
# As the official image's entrypoint: arguments that start with `-` or name a .conf file are redis-server's.
set -e
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then set -- redis-server "$@"; fi
# The official image compiles protected mode off; here it is passed first (after a config file, which redis-server
# wants first), so a later argument can turn it on again.
if [ "$1" = redis-server ]; then
  shift
  if [ "${1%.conf}" != "${1:-}" ]; then conf=$1; shift; set -- redis-server "$conf" --protected-mode no "$@"
  else set -- redis-server --protected-mode no "$@"; fi
fi
exec "$@"
