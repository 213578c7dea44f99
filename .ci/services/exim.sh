#!/usr/bin/env bash
# A real Exim for the integration tests: Debian's exim4-daemon-light (4.96)
# on 127.0.0.1:2530, for the domain exim.lab.test with mailboxes alice and
# postmaster; every other address there is unrouteable, mail for other
# domains is refused (relay not permitted), VRFY is answered, nothing is
# ever delivered (no transports, queue_only, no queue runner).
#
# Postfix is installed for the other labs, and Debian's exim4 packages
# conflict with it, so Exim is not installed: its packages are fetched
# with apt-get download and unpacked with dpkg-deb -x into a private
# prefix, and run from there with a configuration of this script's own.
# The binary looks up the user Debian-exim when it starts (its compiled-in
# Exim user); the script creates that system user if it is missing.
#
#   exim.sh install   fetch and unpack the packages (needs the network)
#   exim.sh start     stop the Exim this script started, write the configuration, start it, wait for 220
#   exim.sh           both
set -euo pipefail
cd "$(dirname "$0")/../.."

addr=127.0.0.1
port=2530
prefix=${SMTPPROBE_EXIM_PREFIX:-/var/lib/smtpprobe-exim-prefix}
cache=$prefix/debs
state=${SMTPPROBE_CI_STATE:+$SMTPPROBE_CI_STATE/exim}
state=${state:-/var/lib/smtpprobe-exim}
exim=$prefix/root/usr/sbin/exim4
libs=$prefix/root/usr/lib/x86_64-linux-gnu
# The packages Exim's binary needs that this machine lacks (libidn12
# comes with exim4-base's dependencies, not with Postfix's).
packages=(exim4-daemon-light exim4-base libidn12)

install() {
  if [ -x "$exim" ] && LD_LIBRARY_PATH=$libs ldd "$exim" | grep -q 'not found'; then rm -rf "$prefix/root"; fi
  if [ ! -x "$exim" ]; then
    mkdir -p "$cache"
    if ! (cd "$cache" && apt-get download "${packages[@]}" >/dev/null 2>&1); then
      apt-get -o DPkg::Lock::Timeout=300 update -qq
      (cd "$cache" && apt-get download "${packages[@]}" >/dev/null)
    fi
    rm -rf "$prefix/root.new"
    for p in "${packages[@]}"; do
      deb=$(ls -t "$cache/${p}"_*.deb | head -n 1)
      dpkg-deb -x "$deb" "$prefix/root.new"
    done
    rm -rf "$prefix/root"
    mv "$prefix/root.new" "$prefix/root"
  fi
  if LD_LIBRARY_PATH=$libs ldd "$exim" | grep 'not found' >&2; then
    echo "exim: the unpacked binary misses the libraries above" >&2
    exit 1
  fi
}

case "${1:-}" in
  install) install; exit 0 ;;
  start) ;;
  "") install ;;
  *) echo "usage: $0 [install|start]" >&2; exit 2 ;;
esac
[ -x "$exim" ] || { echo "exim: Exim is not unpacked in $prefix; run $0 install" >&2; exit 1; }

if ! getent passwd Debian-exim >/dev/null; then
  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin Debian-exim
fi

# Stop the daemon this script started, by its pid file, if it is still Exim.
pidfile=$state/exim.pid
if [ -e "$pidfile" ]; then
  pid=$(cat "$pidfile")
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-C $state/exim.conf"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do [ -e "/proc/$pid" ] || break; sleep 0.1; done
  fi
fi
rm -rf "$state"
mkdir -p "$state/spool" "$state/log"
chown -R Debian-exim:Debian-exim "$state/spool" "$state/log"
chmod 755 "$state"

cat >"$state/exim.conf" <<CONF
# smtpprobe Exim lab (written by .ci/services/exim.sh)
primary_hostname = mx.exim.lab.test
qualify_domain = exim.lab.test
domainlist local_domains = exim.lab.test
daemon_smtp_ports = $port
local_interfaces = <; $addr
exim_user = Debian-exim
exim_group = Debian-exim
spool_directory = $state/spool
log_file_path = $state/log/%slog
pid_file_path = $pidfile
# Nothing is delivered: mail is only queued, and no queue runner is started.
queue_only = true
# No DNS, no ident: the lab runs where nothing but loopback answers.
host_lookup =
rfc1413_hosts =
# The daemon keeps the library path of the private prefix for its re-execs.
keep_environment = LD_LIBRARY_PATH
acl_smtp_rcpt = acl_check_rcpt
acl_smtp_vrfy = acl_check_vrfy

begin acl

acl_check_rcpt:
  require message = relay not permitted
          domains = +local_domains
  require verify = recipient
  accept

acl_check_vrfy:
  accept

begin routers

# alice and postmaster exist; redirected to :blackhole:, they need no
# transport. Every other address is unrouteable.
lab_mailboxes:
  driver = redirect
  domains = +local_domains
  local_parts = alice : postmaster
  data = :blackhole:

begin transports
CONF

LD_LIBRARY_PATH=$libs "$exim" -C "$state/exim.conf" -bV >"$state/version" 2>&1 || {
  cat "$state/version" >&2
  echo "exim: the configuration does not load" >&2
  exit 1
}
LD_LIBRARY_PATH=$libs "$exim" -C "$state/exim.conf" -bd -oX "$port" -oP "$pidfile" >"$state/log/daemon.out" 2>&1 || {
  cat "$state/log/daemon.out" "$state/log/paniclog" 2>/dev/null >&2 || true
  echo "exim: the daemon did not start" >&2
  exit 1
}

banner() {
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" || exit 1; IFS= read -r l <&3 || exit 1; printf "QUIT\r\n" >&3; printf "%s\n" "$l"' _ "$addr" "$port" 2>/dev/null || true
}
for _ in $(seq 100); do
  case "$(banner)" in 220*) break ;; esac
  sleep 0.1
done
b=$(banner)
case "$b" in
  220*Exim*) echo "exim: $(grep -m 1 '^Exim version' "$state/version") on $addr:$port" ;;
  *) echo "exim: $addr:$port sends no Exim banner (got '$b'); logs in $state/log" >&2
    cat "$state/log/"* >&2 2>/dev/null || true
    exit 1 ;;
esac
