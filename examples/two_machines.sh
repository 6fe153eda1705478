#!/usr/bin/env bash
# The post's two-machine example, as three OS processes on loopback: process1_node and logger_node listen
# (on free ports), client sends them "test-message" (synchronously) and "Log Message!". Both node logs
# are shown, then the nodes are stopped with SIGTERM. Exits non-zero unless the client printed the reply
# "Message Received!" and the logger "Log Message!".
#
#   two_machines.sh <directory with the example binaries> [<nodes' transport> [<client's transport>]]
#
# A transport is per-message or pooled (default pooled); the client uses the nodes' unless told: the two
# TCP transports talk to each other, each sending its own way.
set -euo pipefail
usage="usage: two_machines.sh <bin dir> [per-message|pooled [per-message|pooled]]"
bin=${1:?$usage}
transport=${2:-pooled}
client_transport=${3:-$transport}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Starts a node in the background (in this shell, so that its pid is ours to stop).
start_node() {  # name
  "$bin/example_$1" --listen 127.0.0.1:0 --transport "$transport" >"$work/$1.log" 2>&1 &
  pids+=($!)
}

# Waits for a node's "listening on <address>" line and prints the address.
address_of() {  # name
  for _ in $(seq 1 100); do
    if address=$(grep -m1 -o 'listening on .*' "$work/$1.log" 2>/dev/null); then
      echo "${address#listening on }"
      return 0
    fi
    sleep 0.05
  done
  echo "$1 did not start:" >&2
  cat "$work/$1.log" >&2
  return 1
}

start_node process1_node
start_node logger_node
process1=$(address_of process1_node)
logger=$(address_of logger_node)
echo "machine1: process1 at $process1, logger at $logger (transport: $transport)"
echo "machine2: client sends \"test-message\" to process1 and \"Log Message!\" to logger (transport: $client_transport)"
client_status=0
"$bin/example_client" --process1 "$process1" --logger "$logger" --transport "$client_transport" >"$work/client.log" 2>&1 ||
  client_status=$?  # checked at the end, after the nodes' logs are shown
sed 's/^/  client: /' "$work/client.log"

# Give the logger a moment to print, then stop both nodes cleanly.
for _ in $(seq 1 40); do grep -q 'Log Message!' "$work/logger_node.log" && break; sleep 0.05; done
for p in "${pids[@]}"; do kill -TERM "$p"; done
for p in "${pids[@]}"; do wait "$p"; done
pids=()
sed 's/^/  process1_node: /' "$work/process1_node.log"
sed 's/^/  logger_node: /' "$work/logger_node.log"
[ "$client_status" -eq 0 ] && grep -q 'Message Received!' "$work/client.log" &&
  grep -q 'test-message' "$work/process1_node.log" && grep -q 'Log Message!' "$work/logger_node.log"
