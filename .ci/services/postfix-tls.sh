#!/usr/bin/env bash
# Postfix with STARTTLS for the transport-security tests: one instance of its
# own (config, queue and data under one directory; nothing under /etc/postfix is
# touched) serving 127.0.10.25:2550 and 127.0.10.26:2550 with the certificate
# testdata/tls/mx.pem (names mx1, mx2 and mx3.dane.test), sent with its issuer
# testdata/tls/ca.pem so that a DANE-TA record can match. The signed zone of
# .ci/services/dnssec.sh publishes TLSA records for it: matching for mx1, not
# for mx2. 127.0.10.27:2550 is the same server without STARTTLS.
#
#   postfix-tls.sh install   install Postfix (needs the network)
#   postfix-tls.sh start     write the configuration, start the instance, wait for
#                            a 220 banner on both addresses (no network needed)
#   postfix-tls.sh           both
#
# Under .ci/hermetic, SMTPPROBE_CI_STATE names a fresh directory for the files.
set -euo pipefail
cd "$(dirname "$0")/../.."

port=2550
addrs=(127.0.10.25 127.0.10.26 127.0.10.27)
root=${SMTPPROBE_CI_STATE:+$SMTPPROBE_CI_STATE/postfix-tls}
root=${root:-/var/lib/smtpprobe-postfix-tls}
etc=$root/etc

install_postfix() {
  if [ ! -x /usr/sbin/postfix ]; then
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get -o DPkg::Lock::Timeout=300 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends postfix >/dev/null
  fi
}
case "${1:-}" in
  install) install_postfix; exit 0 ;;
  start) ;;
  "") install_postfix ;;
  *) echo "usage: $0 [install|start]" >&2; exit 2 ;;
esac
[ -x /usr/sbin/postfix ] || { echo "postfix-tls: Postfix is not installed; run $0 install" >&2; exit 1; }

pf() { postfix -c "$etc" "$@"; }
if [ -f "$etc/main.cf" ] && pf status >/dev/null 2>&1; then
  pf stop >/dev/null 2>&1 || true
  for _ in $(seq 50); do
    pf status >/dev/null 2>&1 || break
    sleep 0.1
  done
fi
rm -rf "$root"
mkdir -p "$etc/tls" "$root/queue" "$root/data"
cat testdata/tls/mx.pem testdata/tls/ca.pem >"$etc/tls/chain.pem"
install -m 600 testdata/tls/mx.key "$etc/tls/key.pem"

cat >"$etc/main.cf" <<CF
# smtpprobe transport-security lab (written by .ci/services/postfix-tls.sh).
compatibility_level = 3.6
queue_directory = $root/queue
data_directory = $root/data
maillog_file = $root/postfix.log
maillog_file_prefixes = $root
myhostname = mx1.dane.test
mydomain = dane.test
myorigin = dane.test
mydestination = dane.test
local_recipient_maps =
alias_maps =
alias_database =
# master.cf binds the two addresses; inet_interfaces must name configured
# interfaces, which 127.0.10.x are not (Linux routes all of 127/8 to lo).
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.10.255/32
smtpd_relay_restrictions = reject_unauth_destination
relayhost =
default_transport = error:outbound mail is disabled in the smtpprobe lab
local_transport = discard:smtpprobe lab
in_flow_delay = 0s
smtpd_tls_security_level = may
smtpd_tls_cert_file = $etc/tls/chain.pem
smtpd_tls_key_file = $etc/tls/key.pem
smtpd_tls_loglevel = 1
smtp_tls_security_level = none
CF
{
  echo "# service type private unpriv chroot wakeup maxproc command"
  for a in "${addrs[@]:0:2}"; do
    printf '%s:%s inet n - n - - smtpd\n  -o syslog_name=postfix-tls/%s\n' "$a" "$port" "$a"
  done
  # The third address offers no STARTTLS: a downgrade when TLSA records exist.
  printf '%s:%s inet n - n - - smtpd\n  -o syslog_name=postfix-tls/plain\n  -o smtpd_tls_security_level=none\n' "${addrs[2]}" "$port"
  cat <<'CF'
pickup     unix  n       -       n       60      1       pickup
cleanup    unix  n       -       n       -       0       cleanup
qmgr       unix  n       -       n       300     1       qmgr
tlsmgr     unix  -       -       n       1000?   1       tlsmgr
rewrite    unix  -       -       n       -       -       trivial-rewrite
bounce     unix  -       -       n       -       0       bounce
defer      unix  -       -       n       -       0       bounce
trace      unix  -       -       n       -       0       bounce
verify     unix  -       -       n       -       1       verify
flush      unix  n       -       n       1000?   0       flush
proxymap   unix  -       -       n       -       -       proxymap
proxywrite unix  -       -       n       -       1       proxymap
smtp       unix  -       -       n       -       -       smtp
relay      unix  -       -       n       -       -       smtp
showq      unix  n       -       n       -       -       showq
error      unix  -       -       n       -       -       error
retry      unix  -       -       n       -       -       error
discard    unix  -       -       n       -       -       discard
local      unix  -       n       n       -       -       local
anvil      unix  -       -       n       -       1       anvil
scache     unix  -       -       n       -       1       scache
postlog    unix-dgram n  -       n       -       1       postlogd
CF
} >"$etc/master.cf"
touch "$root/postfix.log"
pf set-permissions >/dev/null 2>&1 || true
pf check
pf start >/dev/null 2>&1 || { tail -n 20 "$root/postfix.log" >&2 || true; echo "postfix-tls: Postfix failed to start" >&2; exit 1; }

banner() {
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" || exit 1; IFS= read -r line <&3 || exit 1; printf "QUIT\r\n" >&3; printf "%s\n" "$line"' _ "$1" "$2" 2>/dev/null || true
}
for a in "${addrs[@]}"; do
  for _ in $(seq 150); do
    case "$(banner "$a" "$port")" in 220*) continue 2 ;; esac
    sleep 0.2
  done
  echo "postfix-tls: $a:$port sent no 220 banner; log:" >&2
  tail -n 20 "$root/postfix.log" >&2 || true
  exit 1
done
echo "postfix-tls: Postfix with STARTTLS on ${addrs[0]}:$port and ${addrs[1]}:$port, without on ${addrs[2]}:$port"
