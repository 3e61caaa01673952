#!/usr/bin/env bash
# A one-node Slurm on localhost for the tests (../../apps/worker/test/slurm-array.test.ts):
#   scripts/services/slurm.sh start   installs munge + Slurm if missing (apt, root), starts munged,
#                                     slurmctld and slurmd, waits for the node to be idle, and
#                                     prints `export SLURM_CONF=...` (eval it, or read it from
#                                     $XCEPTION_SLURM_DIR/env)
#   scripts/services/slurm.sh stop    stops the daemons it started
# No systemd: the daemons are started directly, as ../../../shared/ENVIRONMENT.md describes
# (no cgroups: proctrack/linuxproc, task/none). State lives in $XCEPTION_SLURM_DIR
# (default /tmp/xception-slurm). AuthInfo=cred_expire=10 makes a requeued task start again
# after ~10 s instead of 120 s. Exit 0 and the node idle, or exit 1 with one line saying why.
set -euo pipefail
DIR=${XCEPTION_SLURM_DIR:-/tmp/xception-slurm}
CONF=$DIR/slurm.conf
say() { echo "slurm.sh: $*" >&2; }

install_if_missing() {
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null && command -v munged >/dev/null && return 0
  if [ "$(id -u)" != 0 ]; then say "Slurm is not installed and installing it needs root (apt-get)"; exit 1; fi
  command -v apt-get >/dev/null || { say "Slurm is not installed and there is no apt-get"; exit 1; }
  say "installing munge and Slurm (apt-get)"
  # `update` only when the first try does not find the packages.
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends munge slurmctld slurmd slurm-client >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends munge slurmctld slurmd slurm-client >/dev/null \
      || { say "apt-get install munge slurmctld slurmd slurm-client failed"; exit 1; }
  fi
}

write_conf() {
  mkdir -p "$DIR/ctld" "$DIR/d" "$DIR/log"
  local node; node=$(slurmd -C | head -1 | sed 's/^NodeName=[^ ]*/NodeName=localhost/; s/ UpTime=.*//')
  cat > "$CONF" <<CONF
ClusterName=xception-test
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=cred_expire=10
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobRequeue=1
KillWait=10
MinJobAge=600
ReturnToService=2
StateSaveLocation=$DIR/ctld
SlurmdSpoolDir=$DIR/d
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldPort=${XCEPTION_SLURMCTLD_PORT:-6817}
SlurmdPort=${XCEPTION_SLURMD_PORT:-6818}
$node State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
  echo "export SLURM_CONF=$CONF" > "$DIR/env"
}

start() {
  install_if_missing
  if [ -f "$DIR/slurmctld.pid" ] && kill -0 "$(cat "$DIR/slurmctld.pid")" 2>/dev/null; then
    say "already running ($DIR)"; cat "$DIR/env"; return 0
  fi
  write_conf
  export SLURM_CONF=$CONF
  mkdir -p /run/munge && chown munge:munge /run/munge
  [ -s /etc/munge/munge.key ] || { mungekey --create 2>/dev/null || create-munge-key -f; chown munge:munge /etc/munge/munge.key; }
  if ! pgrep -u munge -x munged >/dev/null; then runuser -u munge -- munged; fi
  slurmctld -f "$CONF" -i   # -i: ignore state from an earlier start
  slurmd -f "$CONF" -N localhost
  for _ in $(seq 1 60); do
    if sinfo -h -N -o '%T' 2>/dev/null | grep -qx idle; then cat "$DIR/env"; return 0; fi
    sleep 0.5
  done
  say "the node did not become idle within 30 s; see $DIR/log"; sinfo -N >&2 || true; exit 1
}

stop() {
  for pidfile in "$DIR/slurmd.pid" "$DIR/slurmctld.pid"; do
    [ -f "$pidfile" ] || continue
    local pid; pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    rm -f "$pidfile"
  done
  # munged stays: other users of munge on this machine may need it.
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: scripts/services/slurm.sh start|stop" >&2; exit 2 ;;
esac
