#!/usr/bin/env bash
# Checks deploy/systemd/callback-router.service with `systemd-analyze verify`: every
# directive known and valid, and the commands it runs executable. Clean means no output at
# all (verify reports some problems as warnings with exit status 0). The unit runs
# /usr/local/bin/callback-router, which this machine need not have: the check builds the
# binary and mounts it there in a private mount namespace, leaving the machine as it was.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v systemd-analyze >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y systemd
fi
systemd-analyze --version | head -1

bindir=$(mktemp -d)
trap 'rm -rf "$bindir"' EXIT
CGO_ENABLED=0 go build -trimpath -o "$bindir/callback-router" .
chmod 0755 "$bindir"

unit=deploy/systemd/callback-router.service
out=$(unshare --mount --propagation private sh -c \
  'mount --bind "$1" /usr/local/bin && systemd-analyze verify "$2" 2>&1' sh "$bindir" "$unit") || {
  echo "systemd-analyze verify $unit failed:"; echo "$out"; exit 1
}
if [ -n "$out" ]; then
  echo "systemd-analyze verify $unit is not clean:"; echo "$out"; exit 1
fi
echo "systemd-analyze verify $unit: clean"
