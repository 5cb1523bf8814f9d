#!/usr/bin/env bash
# Makes, when missing, the upstream images that infra/docker/*.Dockerfile and docker-compose.yml name but that a
# machine reaching no image registry cannot pull: node:20-bookworm-slim, apache/kafka:3.9.1, redis:7 and postgres:17
# (PostgreSQL 15: what Debian has), each
# made from Debian's packages (debootstrap) and this machine's own Node.js and Kafka jars, tagged with the names the
# project uses. podman's image store is the cache: an image is made again only when its recipe (the files in this
# folder, the Node.js version, the CA bundle, infra/kafka/pom.xml) changed, which its label records.
#
# Usage: infra/docker/local/images.sh [--tools-only]   (--tools-only installs podman & co. and makes no image)
# Installs what it needs with apt (under /tmp/tingfeng-apt.lock). Prints one line per image and what it took.
set -euo pipefail

readonly HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly REPO="$(cd "$HERE/../../.." && pwd)"
# shellcheck source=podman-env.sh
source "$HERE/podman-env.sh"

readonly MIRROR="${TINGFENG_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
readonly SECURITY_MIRROR="${TINGFENG_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
readonly CACHE_DIR="${TINGFENG_IMAGE_CACHE_DIR:-/var/cache/tingfeng-images}"
readonly MINBASE=localhost/tingfeng-local/bookworm:minbase
readonly NODE_IMAGE=docker.io/library/node:20-bookworm-slim
readonly KAFKA_IMAGE=docker.io/apache/kafka:3.9.1
readonly REDIS_IMAGE=docker.io/library/redis:7
readonly POSTGRES_IMAGE=docker.io/library/postgres:17
readonly LABEL=io.tingfeng.recipe
# Bump to make the Debian root file system again (it only changes when this script's debootstrap step does).
readonly MINBASE_RECIPE=bookworm-minbase-1

# Scratch directories live under one folder, removed when the script ends however it ends.
SCRATCH_ROOT="$(mktemp -d /var/tmp/tingfeng-images.XXXXXX)"
trap 'rm -rf "$SCRATCH_ROOT"' EXIT
scratch() { mktemp -d "$SCRATCH_ROOT/$1.XXXXXX"; }

log() { printf '[images] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- tools ------------------------------------------------------------------

readonly TOOLS=(podman runc buildah netavark aardvark-dns iptables catatonit debootstrap uidmap slirp4netns
  fuse-overlayfs docker-compose iproute2)

install_tools() {
  local missing=()
  for pkg in "${TOOLS[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  log "installing ${missing[*]} with apt"
  # The dpkg lock is not shared politely between sessions: every apt-get of the project takes this lock.
  flock /tmp/tingfeng-apt.lock sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"' sh "${missing[@]}" >&2
}

# --- recipes ----------------------------------------------------------------

hash_of() { sha256sum | cut -c1-16; }
files_hash() { (cd "$HERE" && find "$@" -type f -print0 | sort -z | xargs -0 sha256sum) | hash_of; }
label_of() { podman image inspect --format "{{ index .Config.Labels \"$LABEL\" }}" "$1" 2>/dev/null || true; }
image_id() { podman image inspect --format '{{.Id}}' "$1"; }
size_of() { podman image inspect --format '{{.Size}}' "$1" | awk '{ printf "%.0f MB", $1 / 1e6 }'; }

# Runs "make_<what>" when the image's label differs from the recipe, and says what it did.
ensure() {
  local image=$1 recipe=$2 make=$3 started=$SECONDS
  if [[ "$(label_of "$image")" == "$recipe" ]]; then
    log "$image: cached ($(size_of "$image"))"
    return 0
  fi
  log "$image: making it (recipe $recipe)"
  "$make" "$image" "$recipe"
  log "$image: made in $((SECONDS - started))s ($(size_of "$image"))"
}

# --- the images -------------------------------------------------------------

make_minbase() {
  local image=$1 recipe=$2 root
  mkdir -p "$CACHE_DIR/debs"
  root="$(scratch rootfs)"
  # --cache-dir keeps the downloaded packages, so making the image again fetches nothing.
  debootstrap --variant=minbase --cache-dir="$CACHE_DIR/debs" bookworm "$root" "$MIRROR" >"$CACHE_DIR/debootstrap.log" 2>&1 \
    || { tail -n 20 "$CACHE_DIR/debootstrap.log" >&2; die "debootstrap failed (see $CACHE_DIR/debootstrap.log)"; }
  cat >"$root/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb $SECURITY_MIRROR bookworm-security main
EOF
  # As in Debian's official images: no package files kept after an install, no translations downloaded.
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb "$root"/var/log/*.log
  tar -C "$root" --numeric-owner -c . \
    | podman import --change 'CMD ["bash"]' --change "LABEL $LABEL=$recipe" - "$image" >/dev/null
}

make_node() {
  local image=$1 recipe=$2 ctx
  ctx="$(scratch node)"
  # The files of this machine's nodejs package, as dpkg lists them (what dpkg-repack would pack, in seconds rather
  # than minutes), and the npm this machine runs in place of the package's own: a later `npm install -g npm` may
  # have replaced it.
  local npm_dir
  npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
  [[ -f "$npm_dir/package.json" ]] || die "npm not found next to node"
  dpkg-query -L nodejs >"$ctx/files" 2>/dev/null || die "this machine's Node.js must come from a Debian package (nodejs)"
  while IFS= read -r f; do
    if [[ (-f "$f" || -L "$f") && "$f" != "$npm_dir"/* ]]; then printf '%s\n' "${f#/}"; fi
  done <"$ctx/files" >"$ctx/node.list"
  printf '%s\n' "${npm_dir#/}" >>"$ctx/node.list"
  tar -C / -cf "$ctx/node.tar" -T "$ctx/node.list"
  rm "$ctx/files" "$ctx/node.list"
  cp "$CA_BUNDLE" "$ctx/ca-bundle.crt"
  cp "$HERE/node.Containerfile" "$ctx/Containerfile"
  podman build -q --network host --build-arg BASE="$(image_id "$MINBASE")" --label "$LABEL=$recipe" -t "$image" "$ctx" >/dev/null
}

make_kafka() {
  local image=$1 recipe=$2 ctx
  ctx="$(scratch kafka)"
  bash "$REPO/infra/kafka/kafka.sh" fetch
  mkdir -p "$ctx/libs"
  cp "$REPO"/infra/kafka/.cache/kafka-3.9.1/*.jar "$ctx/libs/"
  cp -r "$HERE/kafka/bin" "$HERE/kafka/config" "$ctx/"
  cp "$HERE/kafka.Containerfile" "$ctx/Containerfile"
  podman build -q --network host --build-arg BASE="$(image_id "$MINBASE")" --label "$LABEL=$recipe" -t "$image" "$ctx" >/dev/null
}

make_redis() {
  local image=$1 recipe=$2 ctx
  ctx="$(scratch redis)"
  cp -r "$HERE/redis" "$ctx/"
  cp "$HERE/redis.Containerfile" "$ctx/Containerfile"
  podman build -q --network host --build-arg BASE="$(image_id "$MINBASE")" --label "$LABEL=$recipe" -t "$image" "$ctx" >/dev/null
}

make_postgres() {
  local image=$1 recipe=$2 ctx
  ctx="$(scratch postgres)"
  cp -r "$HERE/postgres" "$ctx/"
  cp "$HERE/postgres.Containerfile" "$ctx/Containerfile"
  podman build -q --network host --build-arg BASE="$(image_id "$MINBASE")" --label "$LABEL=$recipe" -t "$image" "$ctx" >/dev/null
}

main() {
  install_tools
  [[ "${1:-}" == --tools-only ]] && return 0
  # One maker at a time (two worktrees, CI and a developer): the second waits and then finds the images cached.
  exec 8>/tmp/tingfeng-local-images.lock
  flock 8
  CA_BUNDLE="${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}"
  [[ -f "$CA_BUNDLE" ]] || die "no CA bundle at $CA_BUNDLE (NODE_EXTRA_CA_CERTS)"
  command -v node >/dev/null || die "node not found"

  ensure "$MINBASE" "$MINBASE_RECIPE" make_minbase
  local base
  base="$(image_id "$MINBASE" | cut -c1-12)"
  ensure "$NODE_IMAGE" "$(printf '%s\n' "$base" "$(node --version)" "$(npm --version)" "$(sha256sum <"$CA_BUNDLE")" "$(files_hash node.Containerfile)" | hash_of)" make_node
  ensure "$KAFKA_IMAGE" "$(printf '%s\n' "$base" "$(sha256sum <"$REPO/infra/kafka/pom.xml")" "$(files_hash kafka.Containerfile kafka)" | hash_of)" make_kafka
  ensure "$REDIS_IMAGE" "$(printf '%s\n' "$base" "$(files_hash redis.Containerfile redis)" | hash_of)" make_redis
  ensure "$POSTGRES_IMAGE" "$(printf '%s\n' "$base" "$(files_hash postgres.Containerfile postgres)" | hash_of)" make_postgres
}

main "$@"
