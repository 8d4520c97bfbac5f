#!/usr/bin/env bash
# Starts N local processes of one command with torchrun's variables, like
#   torchrun --standalone --nproc_per_node=N <cmd...>
# Usage: scripts/launch_local.sh N <command> [args...]
#
# Each process gets RANK=LOCAL_RANK=i, WORLD_SIZE=LOCAL_WORLD_SIZE=N, MASTER_ADDR (default 127.0.0.1)
# and MASTER_PORT (default: a port nobody listens on). Output lines are prefixed with "[rank i] ".
# When a process fails, the others are stopped and the launcher exits with the first failure's
# status; otherwise 0.
set -uo pipefail

if [ "$#" -lt 2 ] || ! [[ "$1" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 N <command> [args...]   (N >= 1 processes)" >&2
  exit 2
fi
n=$1
shift

# A port nobody listens on (from /proc/net/tcp*; no interpreter start-up on a loaded machine).
port_in_use() {
  local hex
  printf -v hex '%04X' "$1"
  grep -Eqs ":$hex [0-9A-F]+:[0-9A-F]{4} 0A " /proc/net/tcp /proc/net/tcp6
}
free_port() {
  local port
  for _ in $(seq 100); do
    port=$((20000 + RANDOM % 30000))
    port_in_use "$port" || { echo "$port"; return; }
  done
  echo 29500
}

export MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
export MASTER_PORT=${MASTER_PORT:-$(free_port)}
export WORLD_SIZE=$n LOCAL_WORLD_SIZE=$n

pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
}
trap 'stop_all; exit 130' INT TERM

for ((rank = 0; rank < n; rank++)); do
  # Process substitution keeps $! the command's own pid (not the prefixing sed's).
  RANK=$rank LOCAL_RANK=$rank "$@" > >(sed -u "s/^/[rank $rank] /") 2> >(sed -u "s/^/[rank $rank] /" >&2) &
  pids+=("$!")
done

declare -A rank_of
for i in "${!pids[@]}"; do rank_of[${pids[$i]}]=$i; done
running=("${pids[@]}")
status=0
while [ "${#running[@]}" -gt 0 ]; do
  wait -n -p finished "${running[@]}"
  code=$?
  still=()
  for pid in "${running[@]}"; do [ "$pid" != "$finished" ] && still+=("$pid"); done
  running=("${still[@]}")
  if [ "$code" -ne 0 ] && [ "$status" -eq 0 ]; then
    status=$code
    echo "launch_local: rank ${rank_of[$finished]} exited with status $code; stopping the others" >&2
    stop_all
  fi
done
wait  # let the output prefixers drain
exit "$status"
