#!/usr/bin/env bash
# Mail hosts for the batch tests and scripts/batch-bench: Postfix's smtp-sink
# (a real SMTP server from Debian's postfix package, event-driven, that takes
# every command and stores nothing) on 127.0.14.10 to 127.0.14.19, port 25 —
# mx0.batch.test to mx9.batch.test in testdata/zones/batch.test.zone, which
# .ci/services/dns.sh serves. 127.0.14.30 (mxdead) is left with nothing
# listening.
#
# The connections each server has open from a client are counted where the
# server sits, by the kernel: an nftables table "smtpprobe_batch" with, for
# N in 1 2 4 8, a rule that counts each new connection to one of these
# addresses while N or more are already open to that same address (a meter
# keyed by destination address, ct count). A counter "over_N" that stays at
# 0 proves no address ever had more than N at once. Without nft (not root,
# or no nftables) the sinks still run and the counters are absent.
#
#   batch.sh install   install Postfix (for smtp-sink) and nftables (network)
#   batch.sh start     stop the sinks this script started, start them afresh,
#                      reset the counters; wait until every sink answers
#   batch.sh           both
set -euo pipefail
cd "$(dirname "$0")/../.."

state=${SMTPPROBE_CI_STATE:+$SMTPPROBE_CI_STATE/batch}
state=${state:-/var/lib/smtpprobe-batch}
first=10
last=19

install() {
  if ! command -v smtp-sink >/dev/null && [ ! -x /usr/sbin/smtp-sink ] || ! command -v nft >/dev/null; then
    apt-get -o DPkg::Lock::Timeout=300 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q postfix nftables >/dev/null
  fi
}
case "${1:-}" in
  install) install; exit 0 ;;
  start) ;;
  "") install ;;
  *) echo "usage: $0 [install|start]" >&2; exit 2 ;;
esac
sink=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
[ -x "$sink" ] || { echo "batch: smtp-sink is not installed; run $0 install" >&2; exit 1; }

mkdir -p "$state"
for f in "$state"/sink-*.pid; do
  [ -e "$f" ] || continue
  pid=$(cat "$f")
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q smtp-sink; then kill "$pid" 2>/dev/null || true; fi
  rm -f "$f"
done
sleep 0.2

user=postfix
id "$user" >/dev/null 2>&1 || user=nobody
for i in $(seq $first $last); do
  # -m: sessions at once (the default 256 is fewer than a relaxed benchmark
  # may open in all); -t: command timeout; backlog 1024.
  "$sink" -u "$user" -m 1000 -t 30 "127.0.14.$i:25" 1024 >"$state/sink-$i.log" 2>&1 &
  echo $! >"$state/sink-$i.pid"
done

# counters sets up the nftables table, after the readiness checks so their
# connections are not counted.
counters() {
  if ! command -v nft >/dev/null || ! nft list tables >/dev/null 2>&1; then
    echo "batch: no nftables here: the per-address connection counters are absent" >&2
    return 0
  fi
  nft delete table inet smtpprobe_batch 2>/dev/null || true
  local rules="" n
  for n in 1 2 4 8; do
    rules+="counter over_$n {}
"
  done
  rules+="chain input {
type filter hook input priority 0; policy accept;
"
  for n in 1 2 4 8; do
    rules+="ip daddr 127.0.14.$first-127.0.14.$last tcp dport 25 ct state new meter open_$n { ip daddr ct count over $n } counter name over_$n
"
  done
  printf 'table inet smtpprobe_batch {\n%s}\n}\n' "$rules" | nft -f -
  echo "batch: connection counters in nftables table inet smtpprobe_batch"
}

for _ in $(seq 100); do
  ok=1
  for i in $(seq $first $last); do
    if ! (exec 3<>"/dev/tcp/127.0.14.$i/25") 2>/dev/null; then ok=0; break; fi
  done
  if [ $ok = 1 ]; then
    echo "batch: smtp-sink on 127.0.14.$first-$last:25"
    counters
    exit 0
  fi
  sleep 0.1
done
echo "batch: smtp-sink did not start; its logs:" >&2
cat "$state"/sink-*.log >&2 || true
exit 1
