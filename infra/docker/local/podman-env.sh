# Sourced by images.sh (and mirrored by scripts/containers-verify.ts): how podman runs on a machine of this kind.
# Builds run in a chroot with the host's network (no nested namespaces for the RUN steps, and the package
# registries are reached directly); everything else comes from containers.conf beside this file.
export CONTAINERS_CONF="${CONTAINERS_CONF:-$HERE/containers.conf}"
export BUILDAH_ISOLATION=chroot
