#!/usr/bin/env bash
# DNSSEC lab for the transport-security tests: NSD serving the zones of
# testdata/dnssec/ on 127.0.10.54:53, signed afresh at every start with
# ldns-signzone, and Unbound on 127.0.10.53:53 as a validating resolver that
# trusts dane.test's key (answers with the AD bit), trusts a key bogus.test is
# not signed with (SERVFAIL: bogus), and has no key for plain.test (insecure).
#
#   dnssec.sh install   install NSD, ldnsutils and Unbound (needs the network)
#   dnssec.sh start     stop the instance this script started before, sign the
#                       zones, start NSD and Unbound, wait until Unbound answers
#                       dane.test with the AD bit (no network needed)
#   dnssec.sh           both
#
# Under .ci/hermetic, SMTPPROBE_CI_STATE names a fresh directory for the files.
set -euo pipefail
cd "$(dirname "$0")/../.."

nsd_addr=127.0.10.54
resolver_addr=127.0.10.53
port=53
state=${SMTPPROBE_CI_STATE:+$SMTPPROBE_CI_STATE/dnssec}
state=${state:-/var/lib/smtpprobe-dnssec}
zones_src=testdata/dnssec

install_packages() {
  if ! command -v nsd >/dev/null || ! command -v ldns-signzone >/dev/null || ! command -v unbound >/dev/null || ! command -v drill >/dev/null; then
    apt-get -o DPkg::Lock::Timeout=300 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q nsd ldnsutils unbound >/dev/null
  fi
}
case "${1:-}" in
  install) install_packages; exit 0 ;;
  start) ;;
  "") install_packages ;;
  *) echo "usage: $0 [install|start]" >&2; exit 2 ;;
esac
for c in nsd unbound ldns-signzone ldns-keygen drill; do
  command -v "$c" >/dev/null || { echo "dnssec: $c is not installed; run $0 install" >&2; exit 1; }
done

nsd_conf="$state/nsd.conf"
unbound_conf="$state/unbound.conf"
# ours prints the processes started with our configuration files (NSD renames
# its processes, so match the command line).
ours() {
  local p
  for p in /proc/[0-9]*; do
    if tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qE -- "(nsd|unbound) -c ($nsd_conf|$unbound_conf)"; then
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
  [ -z "$(ours)" ] || { echo "dnssec: previous NSD/Unbound ($pids) did not stop" >&2; exit 1; }
fi

rm -rf "$state"
mkdir -p "$state/zones" "$state/keys" "$state/xfr"
cd "$state/keys"
# sign ZONE: a KSK and a ZSK, the zone signed with both (NSEC, default validity of
# four weeks from now), and the KSK's DS written as ZONE.ds.
sign() {
  local zone=$1 ksk zsk
  ksk=$(ldns-keygen -a ECDSAP256SHA256 -k "$zone")
  zsk=$(ldns-keygen -a ECDSAP256SHA256 "$zone")
  ldns-signzone -f "$state/zones/$zone.zone" "$OLDPWD/$zones_src/$zone.zone" "$zsk" "$ksk"
  cp "$ksk.ds" "$state/$zone.ds"
}
sign dane.test
sign bogus.test
# The anchor for bogus.test is a key that never signed it.
other=$(ldns-keygen -a ECDSAP256SHA256 -k bogus.test)
cp "$other.ds" "$state/bogus.test.ds"
cd "$OLDPWD"
cp "$zones_src/plain.test.zone" "$state/zones/plain.test.zone"

cat >"$nsd_conf" <<CONF
server:
  ip-address: $nsd_addr@$port
  port: $port
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "$state/zones"
  database: ""
  zonelistfile: "$state/zone.list"
  xfrdfile: "$state/xfrd.state"
  xfrdir: "$state/xfr"
  pidfile: "$state/nsd.pid"
  logfile: "$state/nsd.log"
  server-count: 1
  hide-version: yes
  verbosity: 1
remote-control:
  control-enable: no
CONF
for z in dane.test bogus.test plain.test; do
  nsd-checkzone "$z" "$state/zones/$z.zone" >/dev/null
  printf 'zone:\n  name: "%s"\n  zonefile: "%s.zone"\n' "$z" "$z" >>"$nsd_conf"
done
nsd-checkconf "$nsd_conf"

cat >"$unbound_conf" <<CONF
server:
  interface: $resolver_addr
  port: $port
  do-ip6: no
  username: ""
  chroot: ""
  directory: "$state"
  pidfile: "$state/unbound.pid"
  logfile: "$state/unbound.log"
  use-syslog: no
  verbosity: 1
  val-log-level: 2
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
  module-config: "validator iterator"
  trust-anchor-file: "$state/dane.test.ds"
  trust-anchor-file: "$state/bogus.test.ds"
  domain-insecure: "plain.test"
  local-zone: "test." nodefault
  qname-minimisation: no
  cache-max-ttl: 30
  cache-max-negative-ttl: 5
remote-control:
  control-enable: no
CONF
for z in dane.test bogus.test plain.test; do
  printf 'stub-zone:\n  name: "%s"\n  stub-addr: %s@%s\n' "$z" "$nsd_addr" "$port" >>"$unbound_conf"
done
unbound-checkconf "$unbound_conf" >/dev/null

if ! nsd -c "$nsd_conf"; then
  echo "dnssec: NSD failed to start on $nsd_addr:$port; its log:" >&2
  cat "$state/nsd.log" >&2 || true
  exit 1
fi
if ! unbound -c "$unbound_conf"; then
  echo "dnssec: Unbound failed to start on $resolver_addr:$port; its log:" >&2
  cat "$state/unbound.log" >&2 || true
  exit 1
fi

for _ in $(seq 100); do
  if drill -D @"$resolver_addr" dane.test MX 2>/dev/null | grep -qE 'flags:.* ad' &&
     drill -D @"$resolver_addr" _25._tcp.mx1.dane.test TLSA 2>/dev/null | grep -qE 'flags:.* ad' &&
     drill -D @"$resolver_addr" bogus.test MX 2>/dev/null | grep -q 'rcode: SERVFAIL' &&
     drill @"$resolver_addr" plain.test MX 2>/dev/null | grep -q 'rcode: NOERROR'; then
    echo "dnssec: NSD on $nsd_addr:$port (signed dane.test and bogus.test, unsigned plain.test), Unbound validating on $resolver_addr:$port"
    exit 0
  fi
  sleep 0.1
done
echo "dnssec: Unbound on $resolver_addr did not validate dane.test; logs:" >&2
tail -n 30 "$state/nsd.log" "$state/unbound.log" >&2 || true
exit 1
