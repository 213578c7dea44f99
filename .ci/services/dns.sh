#!/usr/bin/env bash
# Lab DNS server for the integration tests: NSD (an authoritative-only
# server from Debian's packages, independent of miekg/dns) serving every
# zone in testdata/zones/ on 127.0.0.1:10053, UDP and TCP.
#
#   dns.sh install   install NSD and drill (needs the network)
#   dns.sh start     stop the instance this script started before (by its
#                    configuration file), copy the zones afresh, start NSD and
#                    wait until it answers over UDP and TCP (no network needed)
#   dns.sh           both
#
# Under .ci/hermetic, SMTPPROBE_CI_STATE names a fresh directory for NSD's files.
set -euo pipefail
cd "$(dirname "$0")/../.."

addr=127.0.0.1
port=10053
state=${SMTPPROBE_CI_STATE:+$SMTPPROBE_CI_STATE/dns}
state=${state:-/var/lib/smtpprobe-dns}
zones_src=testdata/zones

install_nsd() {
  if ! command -v nsd >/dev/null || ! command -v drill >/dev/null; then
    apt-get -o DPkg::Lock::Timeout=300 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q nsd ldnsutils >/dev/null
  fi
}
case "${1:-}" in
  install) install_nsd; exit 0 ;;
  start) ;;
  "") install_nsd ;;
  *) echo "usage: $0 [install|start]" >&2; exit 2 ;;
esac
command -v nsd >/dev/null || { echo "dns: NSD is not installed; run $0 install" >&2; exit 1; }

# Stop our previous instance, and only it: the processes started with our
# configuration file (NSD renames its processes, so match the command line).
conf="$state/nsd.conf"
pidfile="$state/nsd.pid"
ours() {
  local p
  for p in /proc/[0-9]*; do
    if tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "nsd -c $conf"; then
      echo "${p#/proc/}"
    fi
  done
}
pids=$(ours)
if [ -n "$pids" ]; then
  kill $pids 2>/dev/null || true
  for _ in $(seq 50); do
    [ -z "$(ours)" ] && break
    sleep 0.1
  done
  [ -z "$(ours)" ] || { echo "dns: previous NSD ($pids) did not stop" >&2; exit 1; }
fi

rm -rf "$state"
mkdir -p "$state/zones" "$state/xfr"
cp "$zones_src"/*.zone "$state/zones/"

cat >"$conf" <<CONF
server:
  ip-address: $addr@$port
  port: $port
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "$state/zones"
  database: ""
  zonelistfile: "$state/zone.list"
  xfrdfile: "$state/xfrd.state"
  xfrdir: "$state/xfr"
  pidfile: "$pidfile"
  logfile: "$state/nsd.log"
  server-count: 1
  hide-version: yes
  verbosity: 1
remote-control:
  control-enable: no
CONF
for f in "$state"/zones/*.zone; do
  name=$(basename "$f" .zone)
  nsd-checkzone "$name" "$f" >/dev/null
  printf 'zone:\n  name: "%s"\n  zonefile: "%s"\n' "$name" "$(basename "$f")" >>"$conf"
done
nsd-checkconf "$conf"

if ! nsd -c "$conf"; then
  echo "dns: NSD failed to start on $addr:$port; its log:" >&2
  cat "$state/nsd.log" >&2 || true
  exit 1
fi

# Wait until both transports answer for every zone.
for _ in $(seq 100); do
  if drill -p "$port" @"$addr" mx.test SOA 2>/dev/null | grep -q 'rcode: NOERROR' &&
     drill -t -p "$port" @"$addr" big.mx.test MX 2>/dev/null | grep -q 'ANSWER: 40' &&
     drill -p "$port" @"$addr" 40.0.0.127.in-addr.arpa PTR 2>/dev/null | grep -q 'good.ptr.mx.test'; then
    echo "dns: NSD serving testdata/zones on $addr:$port (UDP and TCP)"
    exit 0
  fi
  sleep 0.1
done
echo "dns: NSD did not answer on $addr:$port; its log:" >&2
cat "$state/nsd.log" >&2 || true
exit 1
