#!/usr/bin/env bash
# The image test: builds the router's and the example upstream's images with podman, checks
# the router's image is under 25 MB (image-size.sh), and runs them for real
# (deploy/imagetest): a signed gift through the router container to the upstream container,
# the image's HEALTHCHECK, an async callback surviving SIGKILL on its /data volume, a clean
# SIGTERM stop, and deploy/kubernetes/sidecar.yaml under `podman kube play`. It installs podman and runc when missing. Everything it starts is
# removed when it ends, and every step is bounded in time.
set -euo pipefail
cd "$(dirname "$0")/../.."

# catatonit is what podman builds its pod infra ("pause") image from, locally: without it
# `podman kube play` would try to pull one from a registry.
if ! command -v podman >/dev/null 2>&1 || ! [ -x /usr/sbin/runc ] || ! [ -x /usr/libexec/podman/catatonit ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y podman runc catatonit
fi

# These machines run no systemd and their containers get no network of their own: podman
# manages cgroups itself (containers.conf), runs runc, and every container shares the host's
# network. No image is pulled: both images are FROM scratch.
export CONTAINERS_CONF="$PWD/deploy/test/containers.conf"
export PODMAN="podman --runtime /usr/sbin/runc"
podman --version

timeout 600 make image image-examples CONTAINER="$PODMAN"
export ROUTER_BIN="$PWD/build/image/callback-router"
export ROUTER_IMAGE=callback-router:latest UPSTREAM_IMAGE=callback-router-example-upstream:latest

# The size budget first: an image over 25 MB fails here, before any container runs.
bash deploy/test/image-size.sh "$ROUTER_IMAGE"

cd deploy
go test -tags image -count=1 -timeout 10m -v ./imagetest/
