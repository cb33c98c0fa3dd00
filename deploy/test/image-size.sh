#!/usr/bin/env bash
# Usage: image-size.sh IMAGE
#
# Fails unless IMAGE (the router's, built by `make image`) is under the 25 MB the project
# promises, as podman reports it (decimal megabytes, as `podman images` shows them). image.sh
# runs it right after the build, before any container starts, so that a dependency which
# bloats the binary stops CI at once and says by how much.
#
# When it fails, find what grew: the image is the binary plus a CA bundle, so
#   go build -tags grpcnotrace -ldflags=-dumpdep .   (why the linker keeps a symbol)
#   go tool nm -size -sort size BINARY               (the biggest symbols of an unstripped build)
# The Makefile's TAGS say why the release builds carry build tags.
set -euo pipefail

image=${1:?usage: image-size.sh IMAGE}
max_bytes=25000000
podman_cmd=${PODMAN:-podman}

size=$($podman_cmd image inspect --format '{{.Size}}' "$image")
if ! [[ $size =~ ^[0-9]+$ ]]; then
  echo "image-size: podman gave no size for $image: $size" >&2
  exit 1
fi
mb=$(awk -v b="$size" 'BEGIN { printf "%.2f", b / 1e6 }')
if [ "$size" -ge "$max_bytes" ]; then
  echo "FAIL image size: $image is $size bytes ($mb MB), want under $max_bytes (25 MB)" >&2
  exit 1
fi
echo "image size: $image is $size bytes ($mb MB), under $max_bytes"
