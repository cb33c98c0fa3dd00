#!/usr/bin/env bash
# Checks `make dist`: every platform's archive is there, SHA256SUMS verifies, each archive
# holds exactly the release files, each binary is built for its platform and stamped with
# the version, a second build under another umask is byte for byte the same, and the
# linux/amd64 one runs. Leaves nothing but dist/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/../.."

version=v0.0.0-check
make dist VERSION="$version" >/dev/null

(cd dist && sha256sum --check --strict SHA256SUMS)

want="callback-router config.yaml callback-router.service callback-router.env LICENSE README.md"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
count=0
for platform in linux/amd64 linux/arm64 darwin/arm64 darwin/amd64; do
  os=${platform%/*} arch=${platform#*/}
  name=callback-router_${version}_${os}_${arch}
  archive=dist/$name.tar.gz
  [ -f "$archive" ] || { echo "missing $archive"; exit 1; }
  grep -q " $name.tar.gz\$" dist/SHA256SUMS || { echo "$archive is not in SHA256SUMS"; exit 1; }
  got=$(tar -tzf "$archive" | grep -v '/$' | sed "s|^$name/||" | sort | tr '\n' ' ')
  expected=$(echo "$want" | tr ' ' '\n' | sort | tr '\n' ' ')
  [ "$got" = "$expected" ] || { echo "$archive holds: $got; want: $expected"; exit 1; }
  tar -xzf "$archive" -C "$work"
  info=$(go version -m "$work/$name/callback-router")
  # grpcnotrace keeps the binary (and the image) small: see TAGS in the Makefile.
  for setting in "GOOS=$os" "GOARCH=$arch" "CGO_ENABLED=0" "-trimpath=true" "-tags=grpcnotrace"; do
    echo "$info" | grep -q -- "$setting" || { echo "$archive: binary not built with $setting:"; echo "$info"; exit 1; }
  done
  # -trimpath leaves -ldflags out of the build information: look for the stamp itself.
  grep -q -a -- "$version" "$work/$name/callback-router" || { echo "$archive: binary not stamped with $version"; exit 1; }
  count=$((count + 1))
done
[ "$(wc -l < dist/SHA256SUMS)" -eq "$count" ] || { echo "SHA256SUMS lists other files:"; cat dist/SHA256SUMS; exit 1; }

# Reproducible: the same commit gives the same archives, whatever the builder's umask (the
# files' modes are set, not inherited).
cp dist/SHA256SUMS "$work/SHA256SUMS.first"
(umask 0002 && make dist VERSION="$version" >/dev/null)
if ! cmp -s dist/SHA256SUMS "$work/SHA256SUMS.first"; then
  echo "make dist is not reproducible: a second build under umask 0002 differs:"
  diff "$work/SHA256SUMS.first" dist/SHA256SUMS || true
  tar -tvzf "dist/callback-router_${version}_linux_amd64.tar.gz"
  exit 1
fi

out=$("$work/callback-router_${version}_linux_amd64/callback-router" version)
case "$out" in
  "callback-router $version (commit "*) echo "$out" ;;
  *) echo "linux/amd64 binary: version printed $out, want $version"; exit 1 ;;
esac
echo "make dist: $count archives, SHA256SUMS verified"
