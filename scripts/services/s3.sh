#!/usr/bin/env bash
# A real S3 server for the tests (packages/test-kit/src/s3-server.ts): Ceph's RADOS Gateway on
# 127.0.0.1:7480 with one monitor and one OSD on memstore (RAM), no mgr
# (../../../shared/ENVIRONMENT.md).
#   scripts/services/s3.sh start   installs ceph-mon, ceph-osd, ceph-common and radosgw if missing
#                                  (apt, root), creates a throw-away cluster in $XCEPTION_S3_DIR
#                                  (default /tmp/xception-s3), starts it, creates the test user and
#                                  prints the AWS_* variables to eval; returns at once when it is up
#   scripts/services/s3.sh env     prints those variables: eval "$(scripts/services/s3.sh env)"
#   scripts/services/s3.sh stop    stops the daemons it started and removes the state
# Exit 0 with the gateway answering, or exit 1 with one line saying why.
#
# Auth is off (auth_*_required = none: a loopback-only throw-away cluster). radosgw alone defaults
# ms_mon_client_mode to `secure`, which the `none` auth method cannot provide, so without
# `ms mon client mode = crc secure` it never reaches the monitor: its log repeats
# "get_initial_auth_request returned -13" (EACCES: no mode both sides accept).
set -euo pipefail
DIR=${XCEPTION_S3_DIR:-/tmp/xception-s3}
PORT=${XCEPTION_S3_PORT:-7480}
MON_PORT=${XCEPTION_S3_MON_PORT:-3300}
CONF=$DIR/ceph.conf
ACCESS_KEY=xception-test
SECRET_KEY=xception-test-secret
START_SECONDS=$SECONDS
say() { echo "s3.sh: $*" >&2; }

install_if_missing() {
  command -v radosgw >/dev/null && command -v ceph-mon >/dev/null && command -v ceph-osd >/dev/null && command -v radosgw-admin >/dev/null && return 0
  if [ "$(id -u)" != 0 ]; then say "Ceph's radosgw is not installed and installing it needs root (apt-get)"; exit 1; fi
  command -v apt-get >/dev/null || { say "Ceph's radosgw is not installed and there is no apt-get"; exit 1; }
  say "installing ceph-mon, ceph-osd, ceph-common and radosgw (apt-get)"
  local pkgs=(ceph-mon ceph-osd ceph-common radosgw)
  # `update` only when the first try does not find the packages.
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null \
      || { say "apt-get install ${pkgs[*]} failed"; exit 1; }
  fi
}

print_env() {
  cat <<ENV
export AWS_ENDPOINT_URL=http://127.0.0.1:$PORT
export AWS_ACCESS_KEY_ID=$ACCESS_KEY
export AWS_SECRET_ACCESS_KEY=$SECRET_KEY
export AWS_REGION=us-east-1
export AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED
export AWS_RESPONSE_CHECKSUM_VALIDATION=WHEN_REQUIRED
ENV
}

write_conf() {
  rm -rf "$DIR"; mkdir -p "$DIR/mon" "$DIR/osd" "$DIR/rgw" "$DIR/run" "$DIR/log"
  cat > "$CONF" <<CONF
[global]
fsid = $(cat /proc/sys/kernel/random/uuid)
mon host = v2:127.0.0.1:$MON_PORT
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc secure
run dir = $DIR/run
log file = $DIR/log/\$name.log
admin socket = $DIR/run/\$name.asok
pid file = $DIR/run/\$name.pid
osd objectstore = memstore
memstore device bytes = 1073741824
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
[mon.a]
mon data = $DIR/mon
[osd.0]
osd data = $DIR/osd
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$PORT
rgw data = $DIR/rgw
CONF
}

answering() { curl -fsS -o /dev/null "http://127.0.0.1:$PORT" 2>/dev/null; }

start_daemons() {
  ceph-authtool --create-keyring "$DIR/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  monmaptool --create --addv a "[v2:127.0.0.1:$MON_PORT]" --fsid "$(sed -n 's/^fsid = //p' "$CONF")" "$DIR/monmap" >/dev/null
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/mon.keyring"
  ceph-mon -c "$CONF" -i a 9>&-   # 9>&-: a daemon holding the lock's descriptor would hold the lock
  local id; id=$(timeout 30 ceph -c "$CONF" osd create) || { say "the monitor did not answer within 30 s; see $DIR/log"; exit 1; }
  ceph-osd -c "$CONF" -i "$id" --mkfs >/dev/null 2>&1 || { say "ceph-osd --mkfs failed; see $DIR/log"; exit 1; }
  ceph-osd -c "$CONF" -i "$id" >/dev/null 2>&1 9>&-
  radosgw -c "$CONF" -n client.rgw 9>&-
}

start() {
  install_if_missing
  if answering && [ -f "$CONF" ]; then say "already running ($DIR)"; print_env; return 0; fi
  stop   # whatever is left of an earlier cluster in $DIR
  write_conf
  start_daemons
  for _ in $(seq 1 120); do answering && break; sleep 0.5; done
  answering || { say "radosgw did not answer on 127.0.0.1:$PORT within 60 s; see $DIR/log"; exit 1; }
  radosgw-admin -c "$CONF" -n client.rgw user create --uid xception-test --display-name xception-test \
    --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" >/dev/null 2>&1 \
    || { say "radosgw-admin user create failed; see $DIR/log"; exit 1; }
  say "up in $((SECONDS - START_SECONDS)) s ($DIR)"
  print_env
}

# A killed daemon stays a zombie until PID 1 reaps it (up to ~2 s here): kill -0 would still succeed.
alive() { local state; state=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $state != Z* ]]; }

stop() {
  # SIGKILL: the cluster is thrown away with its folder, and a polite OSD waits ~5 s for the monitor.
  for name in client.rgw osd.0 mon.a; do
    local pidfile=$DIR/run/$name.pid
    [ -f "$pidfile" ] || continue
    local pid; pid=$(cat "$pidfile")
    kill -9 "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
  done
  rm -rf "$DIR"
}

# Test files run in parallel workers, each may call `start`: one creates the cluster, the others
# wait for it and find it up.
serialized() { exec 9>"$DIR.lock"; flock 9; "$@"; }

case "${1:-}" in
  start) serialized start ;;
  stop) serialized stop ;;
  env) print_env ;;
  *) echo "usage: scripts/services/s3.sh start|stop|env" >&2; exit 2 ;;
esac
