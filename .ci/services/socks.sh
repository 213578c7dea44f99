#!/usr/bin/env bash
# A real SOCKS5 proxy for the proxy tests: microsocks (Debian's package) on
# 127.0.14.41:1080, user "probe", password "probe-pass", its outgoing
# connections bound to 127.0.14.41; behind it, Postfix's smtp-sink on
# 127.0.14.40:25 (mxsocks.batch.test in testdata/zones/batch.test.zone).
#
# The direct path is blocked where the server sits: an nftables table
# "smtpprobe_socks" rejects (TCP reset) every connection to 127.0.14.40:25
# that does not come from 127.0.14.41, the proxy's address. A client on this
# machine connects from 127.0.0.1, so only the proxy path can reach the
# server, as from a network that blocks outbound port 25. This needs root
# (CI runs the tests as root in the network namespace of .ci/hermetic);
# without nftables the services run but the direct path stays open, and
# the tests say so (and fail under CI=true).
#
#   socks.sh install   install microsocks, Postfix (smtp-sink) and nftables
#   socks.sh start     stop what this script started, start it afresh
#   socks.sh           both
set -euo pipefail
cd "$(dirname "$0")/../.."

state=${SMTPPROBE_CI_STATE:+$SMTPPROBE_CI_STATE/socks}
state=${state:-/var/lib/smtpprobe-socks}
proxy_ip=127.0.14.41
server_ip=127.0.14.40

install() {
  if ! command -v microsocks >/dev/null || ! command -v nft >/dev/null || { ! command -v smtp-sink >/dev/null && [ ! -x /usr/sbin/smtp-sink ]; }; then
    apt-get -o DPkg::Lock::Timeout=300 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q microsocks postfix nftables >/dev/null
  fi
}
case "${1:-}" in
  install) install; exit 0 ;;
  start) ;;
  "") install ;;
  *) echo "usage: $0 [install|start]" >&2; exit 2 ;;
esac
command -v microsocks >/dev/null || { echo "socks: microsocks is not installed; run $0 install" >&2; exit 1; }
sink=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)

mkdir -p "$state"
for f in "$state"/*.pid; do
  [ -e "$f" ] || continue
  pid=$(cat "$f")
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qE 'microsocks|smtp-sink'; then kill "$pid" 2>/dev/null || true; fi
  rm -f "$f"
done
sleep 0.2

user=postfix
id "$user" >/dev/null 2>&1 || user=nobody
"$sink" -u "$user" -t 30 "$server_ip:25" 256 >"$state/sink.log" 2>&1 &
echo $! >"$state/sink.pid"
microsocks -i "$proxy_ip" -p 1080 -u probe -P probe-pass -b "$proxy_ip" >"$state/microsocks.log" 2>&1 &
echo $! >"$state/microsocks.pid"

for _ in $(seq 100); do
  if (exec 3<>"/dev/tcp/$server_ip/25") 2>/dev/null && (exec 3<>"/dev/tcp/$proxy_ip/1080") 2>/dev/null; then
    break
  fi
  sleep 0.1
done
if ! (exec 3<>"/dev/tcp/$proxy_ip/1080") 2>/dev/null; then
  echo "socks: microsocks did not start; its log:" >&2
  cat "$state/microsocks.log" >&2 || true
  exit 1
fi

if command -v nft >/dev/null && nft list tables >/dev/null 2>&1; then
  nft delete table inet smtpprobe_socks 2>/dev/null || true
  printf 'table inet smtpprobe_socks {\nchain input {\ntype filter hook input priority 0; policy accept;\nip daddr %s tcp dport 25 ip saddr != %s counter reject with tcp reset\n}\n}\n' "$server_ip" "$proxy_ip" | nft -f -
  echo "socks: microsocks on $proxy_ip:1080; smtp-sink on $server_ip:25, reachable only through the proxy"
else
  echo "socks: microsocks on $proxy_ip:1080; smtp-sink on $server_ip:25; no nftables here, so the direct path is NOT blocked" >&2
fi
