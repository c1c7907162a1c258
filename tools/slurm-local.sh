#!/usr/bin/env bash
# Runs a command against a private single-node Slurm cluster on this machine:
# writes a slurm.conf for this host into a temporary directory, starts munged,
# slurmctld and slurmd there itself (no systemd, no system configuration
# touched, ports chosen free), runs the command with SLURM_CONF pointing at the
# cluster, then stops the daemons and removes the directory.
#
#   tools/slurm-local.sh COMMAND [ARGS...]
#
# Exits 77 with one line on stderr when the cluster cannot start (Debian
# packages slurm-wlm and munge missing, not root, daemons failing); otherwise
# with the command's exit code. Used by the ctest test sweep_on_local_slurm.
set -euo pipefail

skip() {
  echo "slurm-local: skipped: $*" >&2
  exit 77
}

[ $# -ge 1 ] || { echo "usage: tools/slurm-local.sh COMMAND [ARGS...]" >&2; exit 2; }
for p in munged slurmctld slurmd sbatch sinfo; do
  command -v "$p" >/dev/null 2>&1 || [ -x "/usr/sbin/$p" ] ||
    skip "'$p' not found (install the Debian packages slurm-wlm and munge)"
done
export PATH="$PATH:/usr/sbin"
# slurmd must start job steps as the submitting user, which needs root.
[ "$(id -u)" -eq 0 ] || skip "the Slurm daemons need root to run jobs"

dir=$(mktemp -d /tmp/pcnn-slurm.XXXXXX)
chmod 700 "$dir"
pids=()
cleanup() {
  for f in slurmd slurmctld munged; do
    [ -s "$dir/$f.pid" ] && kill "$(cat "$dir/$f.pid")" 2>/dev/null || true
  done
  for f in slurmd slurmctld munged; do
    if [ -s "$dir/$f.pid" ]; then
      pid=$(cat "$dir/$f.pid")
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail_start() {
  echo "slurm-local: skipped: $1 did not start; its log ends with:" >&2
  tail -n 5 "$dir/$1.log" 2>/dev/null | sed 's/^/  /' >&2 || true
  exit 77
}

# A free TCP port from 20000..39999.
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  skip "no free TCP port found"
}

host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$dir/state" "$dir/spool"
head -c 1024 /dev/urandom >"$dir/munge.key"
chmod 400 "$dir/munge.key"
munged --force --key-file="$dir/munge.key" --socket="$dir/munge.socket" \
  --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge.seed" \
  >/dev/null 2>&1 || fail_start munged

cat >"$dir/slurm.conf" <<EOF
ClusterName=pcnnlocal
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
KillWait=5
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$dir/slurm.conf"

slurmctld -c -f "$SLURM_CONF" >/dev/null 2>&1 || fail_start slurmctld
slurmd -f "$SLURM_CONF" -N "$host" >/dev/null 2>&1 || fail_start slurmd
for _ in $(seq 100); do
  state=$(sinfo -h -N -o %T 2>/dev/null || true)
  [ "$state" = idle ] && break
  sleep 0.2
done
[ "$state" = idle ] || fail_start slurmd

status=0
"$@" || status=$?
exit "$status"
