#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for `cryocap fleet` tests and demos.
#
#   scripts/slurm-local.sh start    install slurm-wlm + munge (apt) if missing,
#                                   write a config for this host and start
#                                   munged, slurmctld and slurmd by hand
#   scripts/slurm-local.sh stop     stop exactly the daemons `start` started
#   scripts/slurm-local.sh env      print the variables clients need
#
# No systemd: the daemons run in the foreground-less classic way with PID
# files in the state directory, and `stop` signals only those PIDs. Everything
# (config, munge key and socket, spool, logs) lives in one state directory,
# $CRYOCAP_SLURM_DIR (default: /tmp/cryocap-slurm), so that nothing under /etc
# is touched. Clients find the cluster through SLURM_CONF; run
#   eval "$(scripts/slurm-local.sh env)"
# before using sbatch/squeue or `cryocap fleet` by hand. Accounting is off:
# job states come from squeue/scontrol while Slurm keeps the records
# (MinJobAge, set to one hour here). Needs root (slurmd runs jobs as their user).
set -euo pipefail

STATE_DIR=${CRYOCAP_SLURM_DIR:-/tmp/cryocap-slurm}
CONF=$STATE_DIR/slurm.conf
MUNGE_SOCKET=$STATE_DIR/munge/munge.socket
CTLD_PORT=${CRYOCAP_SLURMCTLD_PORT:-6817}
SLURMD_PORT=${CRYOCAP_SLURMD_PORT:-6818}

say() { printf 'slurm-local: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 2; }

install_packages() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
     && command -v munged >/dev/null && command -v sbatch >/dev/null; then
    return
  fi
  [ "$(id -u)" -eq 0 ] || die "slurm-wlm and munge are not installed; run as root or apt-get install slurm-wlm munge"
  say "installing slurm-wlm and munge"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
}

pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local limit=$1 what=$2; shift 2
  local i
  for ((i = 0; i < limit * 10; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  die "$what did not come up within ${limit}s; see the logs in $STATE_DIR"
}

write_config() {
  local host node_line
  host=$(hostname -s)
  # slurmd -C reports this node as slurmd sees it (CPUs, sockets, cores,
  # threads, RealMemory in MiB); the config must not claim more or the
  # node is drained. Leave 5 % of the memory to the OS.
  node_line=$(slurmd -C | head -n 1 | sed -e 's/ UpTime=.*//')
  case $node_line in NodeName=*) ;; *) die "slurmd -C printed '$node_line', not a node line" ;; esac
  local mem
  mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$node_line")
  node_line=$(sed -e "s/RealMemory=[0-9]*/RealMemory=$((mem * 95 / 100))/" <<<"$node_line")
  # A job that asks for no memory would otherwise get the whole node, and
  # `fleet submit --shared-read` runs one-CPU tasks side by side: give each
  # CPU its share, so that the two CPUs of a CI VM hold two tasks at once.
  local cpus
  cpus=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$node_line")
  [ -n "$cpus" ] && [ "$cpus" -gt 0 ] || die "slurmd -C printed no CPUs= in '$node_line'"
  cat >"$CONF" <<CONF
# Written by scripts/slurm-local.sh for a one-node test cluster.
ClusterName=cryocap-local
SlurmctldHost=$host
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
StateSaveLocation=$STATE_DIR/ctld
SlurmdSpoolDir=$STATE_DIR/slurmd
SlurmctldPidFile=$STATE_DIR/slurmctld.pid
SlurmdPidFile=$STATE_DIR/slurmd.pid
SlurmctldLogFile=$STATE_DIR/log/slurmctld.log
SlurmdLogFile=$STATE_DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
MinJobAge=3600
DefMemPerCPU=$((mem * 95 / 100 / cpus))
SchedulerParameters=sched_interval=1
$node_line State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
}

start() {
  install_packages
  if pid_alive "$STATE_DIR/slurmctld.pid" || pid_alive "$STATE_DIR/slurmd.pid"; then
    die "a cluster from $STATE_DIR is already running; run '$0 stop' first"
  fi
  mkdir -p "$STATE_DIR"/{munge,ctld,slurmd,log}
  chmod 700 "$STATE_DIR/munge"
  write_config

  # munge: a fresh key for this cluster, its own socket, PID and log files.
  if [ ! -s "$STATE_DIR/munge/munge.key" ]; then
    dd if=/dev/urandom of="$STATE_DIR/munge/munge.key" bs=1024 count=1 status=none
  fi
  chmod 400 "$STATE_DIR/munge/munge.key"
  say "starting munged"
  munged --force \
    --key-file="$STATE_DIR/munge/munge.key" \
    --socket="$MUNGE_SOCKET" \
    --pid-file="$STATE_DIR/munged.pid" \
    --log-file="$STATE_DIR/log/munged.log" \
    --seed-file="$STATE_DIR/munge/munge.seed"
  wait_for 10 munged munge --socket="$MUNGE_SOCKET" -n

  say "starting slurmctld"
  slurmctld -f "$CONF" -c
  wait_for 30 slurmctld env SLURM_CONF="$CONF" scontrol ping
  say "starting slurmd"
  slurmd -f "$CONF"
  wait_for 30 "the node" bash -c "SLURM_CONF='$CONF' sinfo -h -o %t | grep -qE '^(idle|mix|alloc)'"
  say "cluster up: $(SLURM_CONF=$CONF sinfo -h -N -o '%N %t %c CPUs %m MiB')"
  say "use it with: eval \"\$($0 env)\""
}

stop_one() { # stop_one NAME PIDFILE
  local name=$1 file=$2 pid i
  [ -s "$file" ] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    say "stopping $name (pid $pid)"
    kill -TERM "$pid"
    for ((i = 0; i < 100; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      say "$name (pid $pid) ignored SIGTERM for 10s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$file"
}

stop() {
  stop_one slurmd "$STATE_DIR/slurmd.pid"
  stop_one slurmctld "$STATE_DIR/slurmctld.pid"
  stop_one munged "$STATE_DIR/munged.pid"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  env) printf 'export SLURM_CONF=%q\n' "$CONF" ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
