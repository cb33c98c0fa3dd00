#!/usr/bin/env bash
# Checks deploy/systemd/callback-router.service with `systemd-analyze verify`: every
# directive known and valid, and the commands it runs executable. Clean means no output at
# all (verify reports some problems as warnings with exit status 0). The unit runs
# /usr/local/bin/callback-router, which this machine need not have: the check builds the
# binary and mounts it there in a private mount namespace, leaving the machine as it was.
#
# Then it runs the unit for real under systemd, with all its sandboxing: these machines do
# not run systemd as PID 1, so it boots systemd in a podman container whose root is this
# machine's own under an overlay (nothing written reaches the machine), with no network but
# its loopback. There the unit is installed as its header says, started, sent a signed
# callback, reloaded with `systemctl reload` and stopped, which must drain and exit 0.
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

# --- the unit, run --------------------------------------------------------------------
if ! command -v podman >/dev/null 2>&1 || ! [ -x /usr/sbin/runc ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y podman runc
fi
export CONTAINERS_CONF="$PWD/deploy/test/containers.conf"
podman=(podman --runtime /usr/sbin/runc)
name=cr-systemd-test-$$
stage=$(mktemp -d)
trap '"${podman[@]}" rm -f -t 0 "$name" >/dev/null 2>&1 || true; rm -rf "$bindir" "$stage"' EXIT
cp "$bindir/callback-router" deploy/systemd/callback-router.service deploy/systemd/callback-router.env \
  config.yaml examples/callbacks/Live.CallbackAfterCreateRoom.json "$stage/"
chmod -R a+rX "$stage"

# /tmp, /run and /var/tmp are fresh, not copies of this machine's (which change under it).
timeout 60 "${podman[@]}" run -d --name "$name" --privileged --network none --systemd=always \
  --tmpfs /tmp:rw,notmpcopyup --tmpfs /run:rw,notmpcopyup --tmpfs /var/tmp:rw,notmpcopyup \
  -v "$stage:/mnt/stage:ro" --rootfs /:O /lib/systemd/systemd --unit=basic.target >/dev/null
in_box() { timeout 60 "${podman[@]}" exec "$name" sh -c "$1"; }
fail() {
  echo "systemd run: $1"
  in_box 'systemctl status callback-router --no-pager; journalctl -u callback-router --no-pager | tail -30' || true
  exit 1
}
for _ in $(seq 60); do
  state=$(in_box 'systemctl is-system-running' 2>/dev/null || true)
  case "$state" in running|degraded) break ;; esac
  sleep 0.5
done
case "$state" in running|degraded) ;; *) fail "systemd did not boot (state: ${state:-none})" ;; esac

# Installed as the unit's header says.
in_box 'cd /mnt/stage &&
  install -m 0755 callback-router /usr/local/bin/callback-router &&
  install -D -m 0644 config.yaml /etc/callback-router/config.yaml &&
  install -m 0600 callback-router.env /etc/callback-router/callback-router.env &&
  install -m 0644 callback-router.service /etc/systemd/system/ &&
  systemctl daemon-reload && systemctl enable --now callback-router' >/dev/null 2>&1 || fail "install and start failed"
ready=""
for _ in $(seq 60); do
  if in_box 'callback-router healthcheck -config /etc/callback-router/config.yaml' >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.5
done
[ -n "$ready" ] || fail "not ready within 30s"

# A signed async callback (with the token of the EnvironmentFile) is stored in the state
# directory, in a file owned by the service's dynamic user.
out=$(in_box '. /etc/callback-router/callback-router.env && cd /mnt/stage &&
  callback-router send -url http://127.0.0.1:8080/ -token "$CALLBACK_ROUTER_TENCENT_AUTH_TOKEN" Live.CallbackAfterCreateRoom.json' 2>&1) ||
  fail "signed callback: $out"
case "$out" in *"200 OK"*) ;; *) fail "signed callback: got $out, want 200 OK" ;; esac
owner=$(in_box 'stat -c %U /var/lib/callback-router/data/deliveries.db' 2>&1) || fail "no store in the state directory: $owner"
[ "$owner" = callback-router ] || fail "store owned by $owner, want the dynamic user callback-router"
out=$(in_box 'callback-router send -url http://127.0.0.1:8080/ -token not-the-token /mnt/stage/Live.CallbackAfterCreateRoom.json' 2>&1) || true
case "$out" in *401*) ;; *) fail "callback signed with another token: got $out, want 401 (the token from the EnvironmentFile)" ;; esac

# systemctl reload sends SIGHUP, which reloads the config.
in_box 'systemctl reload callback-router' || fail "systemctl reload failed"
reloaded=""
for _ in $(seq 20); do
  if in_box 'journalctl -u callback-router --no-pager -o cat | grep -q "\"trigger\":\"sighup\""'; then reloaded=1; break; fi
  sleep 0.5
done
[ -n "$reloaded" ] || fail "no reload logged after systemctl reload"

# systemctl stop drains (SIGTERM) and the service ends cleanly, well within TimeoutStopSec.
start=$(date +%s)
in_box 'systemctl stop callback-router' || fail "systemctl stop failed"
took=$(( $(date +%s) - start ))
result=$(in_box 'systemctl show callback-router -p Result -p ExecMainStatus --value | tr "\n" " "')
[ "$result" = "success 0 " ] || fail "after stop: Result and ExecMainStatus are '$result', want 'success 0 '"
[ "$took" -lt 30 ] || fail "stop took ${took}s, want less than TimeoutStopSec (30s)"
echo "systemd run: started, served a signed callback into the state directory, reloaded, stopped cleanly in ${took}s"
