#!/usr/bin/env bash
# The policy lab: a second Postfix instance whose endpoints refuse the
# client itself rather than a line, for the tests of baselines and refusal
# causes. Addresses 127.0.12.x only, so it never clashes with the main lab.
#
#   127.0.12.1:2525  non-FQDN   reject_non_fqdn_helo_hostname, reject_non_fqdn_sender
#   127.0.12.1:2526  dnsbl      reject_rbl_client bl.policy.test (NSD on 127.0.12.53:53)
#   127.0.12.1:2527  greylist   check_policy_service postgrey (127.0.12.1:10023)
#   127.0.12.1:2528  ratelimit  smtpd_client_recipient_rate_limit = 3 per minute (anvil)
#
# Domain lab.test, mailboxes alice and postmaster, relaying refused, nothing
# delivered. The dnsbl endpoint's smtpd runs chrooted in the queue directory
# so that it reads the jail's resolv.conf (nameserver 127.0.12.53), never the
# machine's: the zone bl.policy.test lists 127.0.0.1, where the probes come from.
#
#   postfix-policy.sh install   install Postfix, NSD and postgrey (needs the network)
#   postfix-policy.sh start     write the configuration, (re)start, wait for the banners
set -euo pipefail
cd "$(dirname "$0")/../.."

addr=127.0.12.1
dnsaddr=127.0.12.53
state=${SMTPPROBE_CI_STATE:+$SMTPPROBE_CI_STATE/postfix-policy}
state=${state:-/var/lib/smtpprobe-policy}
etc=$state/etc
queue=$state/queue
data=$state/data
log=$state/postfix.log

install() {
  if [ ! -x /usr/sbin/postfix ]; then
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  fi
  if [ ! -x /usr/sbin/postfix ] || ! command -v nsd >/dev/null || ! command -v postgrey >/dev/null; then
    apt-get -o DPkg::Lock::Timeout=300 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q \
      --no-install-recommends postfix nsd postgrey >/dev/null
  fi
}

case "${1:-}" in
  install) install; exit 0 ;;
  start) ;;
  *) echo "usage: $0 install|start" >&2; exit 2 ;;
esac
for c in postfix nsd postgrey; do
  command -v "$c" >/dev/null || [ -x "/usr/sbin/$c" ] || { echo "postfix-policy: $c is not installed; run $0 install" >&2; exit 1; }
done

# ours PATTERN prints the processes whose command line holds PATTERN.
ours() {
  local p
  for p in /proc/[0-9]*; do
    if tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "$1"; then echo "${p#/proc/}"; fi
  done
}
stop_ours() {
  local pids
  pids=$(ours "$1")
  [ -z "$pids" ] || kill $pids 2>/dev/null || true
  for _ in $(seq 50); do [ -z "$(ours "$1")" ] && return 0; sleep 0.1; done
}
if [ -d "$etc" ]; then postfix -c "$etc" stop >/dev/null 2>&1 || true; fi
stop_ours "nsd -c $state/nsd/nsd.conf"
stop_ours "--dbdir=$state/postgrey"
rm -rf "$state"
mkdir -p "$etc" "$queue" "$data" "$state/nsd/zones" "$state/postgrey"
chmod 755 "$state"

# DNS for the blocklist: NSD, authoritative for bl.policy.test.
cat >"$state/nsd/zones/bl.policy.test.zone" <<'ZONE'
$ORIGIN bl.policy.test.
@               300 IN SOA ns.bl.policy.test. admin.bl.policy.test. 1 3600 600 86400 60
@               300 IN NS  ns.bl.policy.test.
ns              300 IN A   127.0.12.53
1.0.0.127       300 IN A   127.0.0.2
1.0.0.127       300 IN TXT "127.0.0.1 is listed for the smtpprobe policy lab"
ZONE
cat >"$state/nsd/nsd.conf" <<CONF
server:
  ip-address: $dnsaddr@53
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "$state/nsd/zones"
  database: ""
  zonelistfile: "$state/nsd/zone.list"
  xfrdfile: "$state/nsd/xfrd.state"
  xfrdir: "$state/nsd"
  pidfile: "$state/nsd/nsd.pid"
  logfile: "$state/nsd/nsd.log"
  server-count: 1
  hide-version: yes
remote-control:
  control-enable: no
zone:
  name: "bl.policy.test"
  zonefile: "bl.policy.test.zone"
CONF
nsd-checkconf "$state/nsd/nsd.conf"
nsd -c "$state/nsd/nsd.conf"

# postgrey: greylist every new (client, sender, recipient) for 5 minutes.
chown postgrey "$state/postgrey" 2>/dev/null || true
postgrey --inet="$addr:10023" --dbdir="$state/postgrey" --pidfile="$state/postgrey/postgrey.pid" \
  --delay=300 --daemonize --user=postgrey --group=nogroup >/dev/null 2>&1 ||
  postgrey --inet="$addr:10023" --dbdir="$state/postgrey" --pidfile="$state/postgrey/postgrey.pid" \
    --delay=300 --daemonize >/dev/null

cat >"$etc/main.cf" <<CF
# smtpprobe policy lab (written by .ci/services/postfix-policy.sh)
compatibility_level = 3.6
queue_directory = $queue
data_directory = $data
maillog_file = $log
myhostname = policy.lab.test
mydomain = lab.test
myorigin = lab.test
mydestination = lab.test
local_recipient_maps = texthash:$etc/recipients
alias_maps =
alias_database =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.2/32
smtpd_relay_restrictions = reject_unauth_destination
default_transport = error:outbound mail is disabled in the smtpprobe policy lab
local_transport = discard:smtpprobe policy lab
in_flow_delay = 0s
biff = no
anvil_rate_time_unit = 60s
smtpd_client_event_limit_exceptions =
CF
cat >"$etc/master.cf" <<CF
$addr:2525 inet n - n - - smtpd
  -o syslog_name=postfix-policy/nonfqdn
  -o smtpd_helo_required=yes
  -o smtpd_helo_restrictions=reject_non_fqdn_helo_hostname
  -o smtpd_sender_restrictions=reject_non_fqdn_sender
$addr:2526 inet n - y - - smtpd
  -o syslog_name=postfix-policy/dnsbl
  -o smtpd_client_restrictions=reject_rbl_client,bl.policy.test
$addr:2527 inet n - n - - smtpd
  -o syslog_name=postfix-policy/greylist
  -o smtpd_recipient_restrictions=reject_unauth_destination,check_policy_service,inet:$addr:10023
$addr:2528 inet n - n - - smtpd
  -o syslog_name=postfix-policy/ratelimit
  -o smtpd_client_recipient_rate_limit=3
pickup     unix  n       -       n       60      1       pickup
cleanup    unix  n       -       n       -       0       cleanup
qmgr       unix  n       -       n       300     1       qmgr
rewrite    unix  -       -       n       -       -       trivial-rewrite
bounce     unix  -       -       n       -       0       bounce
defer      unix  -       -       n       -       0       bounce
trace      unix  -       -       n       -       0       bounce
verify     unix  -       -       n       -       1       verify
flush      unix  n       -       n       1000?   0       flush
proxymap   unix  -       -       n       -       -       proxymap
smtp       unix  -       -       n       -       -       smtp
showq      unix  n       -       n       -       -       showq
error      unix  -       -       n       -       -       error
retry      unix  -       -       n       -       -       error
discard    unix  -       -       n       -       -       discard
local      unix  -       n       n       -       -       local
anvil      unix  -       -       n       -       1       anvil
scache     unix  -       -       n       -       1       scache
postlog    unix-dgram n  -       n       -       1       postlogd
CF
printf '%s\n' 'alice OK' 'postmaster OK' >"$etc/recipients"
# The chrooted smtpd of the dnsbl endpoint reads these from the jail.
mkdir -p "$queue/etc"
printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$dnsaddr" >"$queue/etc/resolv.conf"
printf '127.0.0.1 localhost\n' >"$queue/etc/hosts"
printf 'hosts: files dns\n' >"$queue/etc/nsswitch.conf"
for f in /etc/services /etc/localtime; do [ -e "$f" ] && cp -L "$f" "$queue/etc/" || true; done
touch "$log"
postfix -c "$etc" set-permissions >/dev/null 2>&1 || true
postfix -c "$etc" check
postfix -c "$etc" start >/dev/null 2>&1 || { tail -n 20 "$log" >&2 || true; echo "postfix-policy: Postfix failed to start" >&2; exit 1; }

banner() {
  timeout 3 bash -c 'exec 3<>"/dev/tcp/${1%:*}/${1##*:}" || exit 1; IFS= read -r l <&3 || exit 1; printf "QUIT\r\n" >&3; printf "%s\n" "$l"' _ "$1" 2>/dev/null || true
}
for port in 2525 2526 2527 2528; do
  for _ in $(seq 150); do
    case "$(banner "$addr:$port")" in 220*) break ;; esac
    sleep 0.2
  done
  case "$(banner "$addr:$port")" in 220*) ;; *) echo "postfix-policy: $addr:$port sends no banner (log: $log)" >&2; tail -n 20 "$log" >&2 || true; exit 1 ;; esac
done
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/$addr/10023") 2>/dev/null && break
  sleep 0.1
done
echo "postfix-policy: non-FQDN, dnsbl, greylist and ratelimit endpoints on $addr:2525-2528"
