#!/usr/bin/env bash
# A one-node Grid Engine cluster on this machine, for `cryocap fleet` tests
# and demos (Debian's gridengine 8.1.9 packages).
#
#   scripts/sge-local.sh install  install gridengine-master, -exec and -client
#                                 (apt) without letting their init scripts
#                                 configure or start anything
#   scripts/sge-local.sh start    install if missing, write a cluster for this
#                                 host and start sge_qmaster and sge_execd by
#                                 hand, with one queue on this host
#   scripts/sge-local.sh stop     stop exactly the daemons `start` started
#   scripts/sge-local.sh env      print the variables clients need
#
# No systemd: the daemons are started here, their PID files live in the state
# directory and `stop` signals only those PIDs. Everything (SGE_ROOT with its
# cell, the spools, the accounting file) lives in one state directory,
# $CRYOCAP_SGE_DIR (default: /tmp/cryocap-sge); SGE_ROOT there links to the
# packaged binaries. Clients find the cluster through SGE_ROOT, SGE_CELL and
# the two port variables; run
#   eval "$(scripts/sge-local.sh env)"
# before using qsub/qstat/qacct or `cryocap fleet --scheduler sge` by hand.
#
# The daemons run as root (admin_user none) and the global configuration sets
# min_uid/min_gid 0, so that a root CI job may submit; Debian's default
# (1000) refuses root's jobs. Accounting is flushed every second so that
# `qacct -j` sees a job soon after it ends.
#
# What is changed outside the state directory, by the packages and not by
# this script: the packages' postinst scripts create the system user
# sgeadmin and write /etc/default/gridengine (with debconf told not to set
# up a cluster, nothing else). `install` keeps their init scripts from
# starting daemons with a policy-rc.d that it removes again.
set -euo pipefail

STATE_DIR=${CRYOCAP_SGE_DIR:-/tmp/cryocap-sge}
ROOT=$STATE_DIR/root
CELL=cryocap
COMMON=$ROOT/$CELL/common
QMASTER_PORT=${CRYOCAP_SGE_QMASTER_PORT:-6444}
EXECD_PORT=${CRYOCAP_SGE_EXECD_PORT:-6445}
PACKAGES=(gridengine-master gridengine-exec gridengine-client)
LIB=/usr/lib/gridengine

say() { printf 'sge-local: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 2; }

installed() {
  [ -x "$LIB/sge_qmaster" ] && [ -x "$LIB/sge_execd" ] && [ -x "$LIB/qsub" ] \
    && [ -x "$LIB/qacct" ] && [ -x "$LIB/spoolinit" ]
}

install_packages() {
  installed && return 0
  [ "$(id -u)" -eq 0 ] || die "gridengine is not installed; run as root or apt-get install ${PACKAGES[*]}"
  say "installing ${PACKAGES[*]}"
  # Tell debconf not to build a cluster under /var/lib/gridengine: this
  # script builds its own in the state directory.
  local p
  for p in gridengine-common "${PACKAGES[@]}"; do
    echo "$p shared/gridengineconfig boolean false"
  done | debconf-set-selections
  # Without a policy-rc.d, the postinst scripts start sge_execd from
  # /etc/init.d, which then waits for a master and holds the execd port.
  local policy=/usr/sbin/policy-rc.d added=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# written by cryocap scripts/sge-local.sh install, removed after it\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    added=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  local rc=0
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null; } || rc=$?
  [ "$added" -eq 1 ] && rm -f "$policy"
  [ "$rc" -eq 0 ] || die "apt-get install ${PACKAGES[*]} failed (exit $rc)"
}

export_env() {
  export SGE_ROOT=$ROOT SGE_CELL=$CELL SGE_QMASTER_PORT=$QMASTER_PORT SGE_EXECD_PORT=$EXECD_PORT
  unset SGE_ARCH
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local limit=$1 what=$2; shift 2
  local deadline=$((SECONDS + limit))
  while ((SECONDS < deadline)); do
    if [ "$(type -t "$1")" = function ]; then
      if "$@" >/dev/null 2>&1; then return 0; fi
    elif timeout 10 "$@" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.2
  done
  die "$what did not come up within ${limit}s; see the messages files under $STATE_DIR"
}

quiet() { # run a command, showing its output only if it fails (qconf
  # reports success on stderr)
  local out
  out=$("$@" 2>&1) || { printf '%s\n' "$out" >&2; return 1; }
}

pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# The spool and the global configuration, as Debian's init_cluster builds
# them (usr/share/gridengine/scripts/init_cluster), but in the state directory.
write_cluster() {
  local host=$1 d
  rm -rf "$ROOT" "$STATE_DIR/spool"
  mkdir -p "$COMMON" "$STATE_DIR/spool/qmaster/job_scripts" "$STATE_DIR/spool/execd" "$STATE_DIR/spool/db"
  for d in bin lib utilbin util; do
    ln -s "/var/lib/gridengine/$d" "$ROOT/$d"
  done
  cat >"$COMMON/bootstrap" <<EOF
# Written by scripts/sge-local.sh for a one-node test cluster.
admin_user              none
default_domain          none
ignore_fqdn             true
spooling_method         berkeleydb
spooling_lib            libspoolb
spooling_params         $STATE_DIR/spool/db
binary_path             /usr/sbin
qmaster_spool_dir       $STATE_DIR/spool/qmaster
security_mode           none
listener_threads        2
worker_threads          2
scheduler_threads       1
EOF
  echo "$host" >"$COMMON/act_qmaster"
  # This host's name may resolve to a loopback address that resolves back
  # to "localhost" (Debian's /etc/hosts, CI containers); commlib then
  # refuses every connection ("IP based host name resolving localhost
  # doesn't match client host name"). host_aliases makes them one host.
  local alias aliases=""
  for alias in localhost $(getent hosts "$host" | awk '{ for (i = 2; i <= NF; i++) print $i }'); do
    [ "$alias" = "$host" ] || aliases="$aliases $alias"
  done
  [ -z "$aliases" ] || echo "$host$aliases" >"$COMMON/host_aliases"
  echo cryocap-local >"$COMMON/cluster_name"
  sed -e "s|^execd_spool_dir .*|execd_spool_dir        $STATE_DIR/spool/execd|" \
      -e 's|^min_uid .*|min_uid                0|' \
      -e 's|^min_gid .*|min_gid                0|' \
      -e 's|^mailer .*|mailer                 /bin/true|' \
      -e 's|^load_report_time .*|load_report_time       00:00:05|' \
      -e 's|^reporting_params .*|reporting_params       accounting=true reporting=false flush_time=00:00:01 joblog=false sharelog=00:00:00 accounting_flush_time=00:00:00|' \
      /usr/share/gridengine/default-configuration >"$STATE_DIR/global.conf"
  "$LIB/spoolinit" berkeleydb libspoolb "$STATE_DIR/spool/db" init >/dev/null
  "$LIB/spooldefaults" configuration "$STATE_DIR/global.conf" >/dev/null
  "$LIB/spooldefaults" complexes /usr/share/gridengine/util/resources/centry >/dev/null
  "$LIB/spooldefaults" usersets /usr/share/gridengine/util/resources/usersets >/dev/null
  "$LIB/spooldefaults" managers root >/dev/null
}

configure_queue() {
  local host=$1 slots
  slots=$(nproc)
  quiet qconf -as "$host"
  qconf -ah "$host" >/dev/null 2>&1 || true
  # Schedule every second, and right after each submit and each job end.
  qconf -ssconf | sed -e 's/^schedule_interval .*/schedule_interval 0:0:1/' \
      -e 's/^flush_submit_sec .*/flush_submit_sec 1/' \
      -e 's/^flush_finish_sec .*/flush_finish_sec 1/' >"$STATE_DIR/sched.conf"
  quiet qconf -Msconf "$STATE_DIR/sched.conf"
  # `fleet submit` asks for a whole node with -l exclusive=true: Grid Engine
  # 8.1 has the EXCL relation but no such complex until an admin adds one
  # (sge_complex(5)); add it, and offer it on this host.
  qconf -sc | grep -v '^#' >"$STATE_DIR/complexes.conf"
  echo 'exclusive excl BOOL EXCL YES YES 0 1000' >>"$STATE_DIR/complexes.conf"
  quiet qconf -Mc "$STATE_DIR/complexes.conf"
  printf 'hostname %s\nload_scaling NONE\ncomplex_values exclusive=true\nuser_lists NONE\nxuser_lists NONE\nprojects NONE\nxprojects NONE\nusage_scaling NONE\nreport_variables NONE\n' \
    "$host" >"$STATE_DIR/exechost.conf"
  quiet qconf -Ae "$STATE_DIR/exechost.conf"
  printf 'group_name @allhosts\nhostlist %s\n' "$host" >"$STATE_DIR/hostgroup.conf"
  quiet qconf -Ahgrp "$STATE_DIR/hostgroup.conf"
  # all.q from the built-in template, on this host, one slot per CPU, with
  # no load threshold: a busy CI machine (load above 1.75 per CPU, the
  # template's np_load_avg) would otherwise put the queue in alarm and
  # schedule nothing.
  qconf -sq | sed -e 's/^qname .*/qname all.q/' \
      -e 's/^hostlist .*/hostlist @allhosts/' \
      -e "s/^slots .*/slots $slots/" \
      -e 's/^pe_list .*/pe_list NONE/' \
      -e 's/^load_thresholds .*/load_thresholds NONE/' \
      -e 's/^shell .*/shell \/bin\/bash/' >"$STATE_DIR/queue.conf"
  quiet qconf -Aq "$STATE_DIR/queue.conf"
}

execd_pid_file() {
  local f
  for f in "$STATE_DIR"/spool/execd/*/execd.pid; do
    [ -s "$f" ] && { printf '%s\n' "$f"; return 0; }
  done
  return 1
}

queue_up() { # the queue instance on this host exists and is neither unknown nor disabled
  # qstat -f: "all.q@HOST  BIP  0/0/2  0.10  lx-amd64  [states]"
  timeout 10 qstat -f -q "all.q@$1" 2>/dev/null \
    | awk -v q="all.q@$1" '$1 == q { found = 1; if ($6 ~ /[uadE]/) bad = 1 } END { exit !(found && !bad) }'
}

start() {
  install_packages
  [ "$(id -u)" -eq 0 ] || die "start needs root: the daemons run jobs as their submitting user"
  if pid_alive "$STATE_DIR/qmaster.pid" || pid_alive "$STATE_DIR/execd.pid"; then
    die "a cluster from $STATE_DIR is already running; run '$0 stop' first"
  fi
  local host
  host=$(hostname)
  getent hosts "$host" >/dev/null || die "this host's name '$host' does not resolve; add it to /etc/hosts"
  mkdir -p "$STATE_DIR"
  export_env
  write_cluster "$host"

  say "starting sge_qmaster (port $QMASTER_PORT)"
  "$LIB/sge_qmaster"
  wait_for 30 sge_qmaster test -s "$STATE_DIR/spool/qmaster/qmaster.pid"
  cp "$STATE_DIR/spool/qmaster/qmaster.pid" "$STATE_DIR/qmaster.pid"
  wait_for 30 sge_qmaster qstat -g c
  configure_queue "$host"

  say "starting sge_execd (port $EXECD_PORT)"
  "$LIB/sge_execd"
  # The execd names its spool directory after this host as it resolves it
  # before host_aliases apply (often "localhost"): take whichever appears.
  wait_for 30 sge_execd execd_pid_file
  cp "$(execd_pid_file)" "$STATE_DIR/execd.pid"
  wait_for 60 "the queue all.q@$host" queue_up "$host"
  say "cluster up: $(qstat -f -q "all.q@$host" | awk -v q="all.q@$host" '$1 == q { print $1, "slots", $3 }')"
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
  stop_one sge_execd "$STATE_DIR/execd.pid"
  stop_one sge_qmaster "$STATE_DIR/qmaster.pid"
}

case ${1:-} in
  install) install_packages ;;
  start) start ;;
  stop) stop ;;
  env)
    printf 'export SGE_ROOT=%q SGE_CELL=%q SGE_QMASTER_PORT=%q SGE_EXECD_PORT=%q\n' \
      "$ROOT" "$CELL" "$QMASTER_PORT" "$EXECD_PORT"
    printf 'unset SGE_ARCH\n'
    ;;
  *) echo "usage: $0 install|start|stop|env" >&2; exit 2 ;;
esac
