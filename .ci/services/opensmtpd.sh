#!/usr/bin/env bash
# A real OpenSMTPD (Debian's opensmtpd 6.8) on 127.0.0.1:2531, a server that
# does not advertise PIPELINING. Domain opensmtpd.lab.test, mailboxes alice
# and postmaster, every other mailbox and relaying refused, nothing ever
# delivered (the prober never sends DATA).
#
# Debian's package conflicts with Postfix (both provide mail-transport-agent),
# so it is not installed: `install` downloads the .deb into a cache and
# extracts it into a private prefix, and creates the users its privilege
# separation runs as (opensmtpd, opensmtpq; the names the Debian build uses).
#
# The build has its queue (/var/spool/smtpd) and control socket
# (/var/run/smtpd.sock) compiled in. `start` runs smtpd in a private mount
# namespace in which the state directory's own spool, run directory and
# resolv.conf ("lookup file": the client's name comes from /etc/hosts, no
# DNS query is sent) are mounted over the machine's, so two instances (one in
# .ci/hermetic's namespace, one outside) never share a queue or a socket.
#
#   opensmtpd.sh install   download and extract opensmtpd, create its users
#   opensmtpd.sh start     stop what this script started, start it afresh, wait for the banner
#   opensmtpd.sh           both
set -euo pipefail
cd "$(dirname "$0")/../.."

addr=127.0.0.1
port=2531
cache=/var/cache/smtpprobe-opensmtpd
prefix=$cache/root
smtpd=$prefix/usr/sbin/smtpd
state=${SMTPPROBE_CI_STATE:+$SMTPPROBE_CI_STATE/opensmtpd}
state=${state:-/var/lib/smtpprobe-opensmtpd}

# users creates the privilege separation users and their chroot if missing.
users() {
  local u
  for u in opensmtpd opensmtpq; do
    getent group "$u" >/dev/null || groupadd --system "$u"
    id "$u" >/dev/null 2>&1 || useradd --system --gid "$u" --home-dir /var/lib/opensmtpd/empty \
      --no-create-home --shell /usr/sbin/nologin --comment "OpenSMTPD for the smtpprobe lab" "$u"
  done
  mkdir -p /var/lib/opensmtpd/empty /var/spool/smtpd
  chmod 755 /var/lib/opensmtpd/empty
}

install() {
  if [ ! -x "$smtpd" ]; then
    mkdir -p "$cache"
    rm -rf "$prefix" "$cache"/opensmtpd_*.deb
    (cd "$cache" && apt-get download -q opensmtpd 2>/dev/null) ||
      { apt-get -o DPkg::Lock::Timeout=300 update -qq && (cd "$cache" && apt-get download -q opensmtpd); }
    dpkg-deb -x "$cache"/opensmtpd_*.deb "$prefix"
  fi
  # Its libraries (libevent, libssl, libdb...) conflict with nothing.
  if ldd "$smtpd" | grep -q 'not found'; then
    apt-get -o DPkg::Lock::Timeout=300 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends \
      libevent-2.1-7 libssl3 libdb5.3 libpam0g libcrypt1 zlib1g >/dev/null
  fi
  users
}

case "${1:-}" in
  install) install; exit 0 ;;
  start) ;;
  "") install ;;
  *) echo "usage: $0 [install|start]" >&2; exit 2 ;;
esac
[ -x "$smtpd" ] || { echo "opensmtpd: $smtpd is missing; run $0 install" >&2; exit 1; }
users

if [ -f "$state/smtpd.pid" ]; then
  pid=$(cat "$state/smtpd.pid")
  if tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "-f $state/smtpd.conf"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do [ -e "/proc/$pid" ] || break; sleep 0.1; done
  fi
fi
rm -rf "$state"
mkdir -p "$state/spool" "$state/run" "$state/mail"
chmod 755 "$state"
chmod 711 "$state/spool"

# A bare RCPT TO:<postmaster> is taken as postmaster at the listener's hostname.
printf '%s\n' opensmtpd.lab.test mx.opensmtpd.lab.test >"$state/domains"
valid="alice@opensmtpd.lab.test postmaster@opensmtpd.lab.test postmaster@mx.opensmtpd.lab.test"
printf '%s\n' $valid >"$state/valid"
printf '%s nobody\n' $valid >"$state/virtuals"
printf 'lookup file\n' >"$state/resolv.conf"
cat >"$state/smtpd.conf" <<CONF
# smtpprobe OpenSMTPD lab (written by .ci/services/opensmtpd.sh)
table domains file:$state/domains
table valid file:$state/valid
table virtuals file:$state/virtuals
listen on $addr port $port hostname mx.opensmtpd.lab.test
action "local" maildir "$state/mail" virtual <virtuals>
match from any for domain <domains> rcpt-to <valid> action "local"
CONF
check=$("$smtpd" -n -f "$state/smtpd.conf" 2>&1) || { echo "opensmtpd: $check" >&2; exit 1; }

# The spool, run directory and resolver are the state directory's, in smtpd's
# mount namespace only.
unshare --mount --propagation private -- sh -c '
  mount --bind "$1/spool" /var/spool/smtpd &&
  mount --bind "$1/run" /var/run/ &&
  mount --bind "$1/resolv.conf" /etc/resolv.conf &&
  exec "$2" -d -f "$1/smtpd.conf"' _ "$state" "$smtpd" >"$state/smtpd.log" 2>&1 </dev/null &
echo $! >"$state/smtpd.pid"

banner() {
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" || exit 1; IFS= read -r l <&3 || exit 1; printf "QUIT\r\n" >&3; printf "%s\n" "$l"' _ "$addr" "$port" 2>/dev/null || true
}
for _ in $(seq 100); do
  case "$(banner)" in 220*OpenSMTPD*) break ;; esac
  [ -e "/proc/$(cat "$state/smtpd.pid")" ] || break
  sleep 0.1
done
b=$(banner)
case "$b" in
  220*OpenSMTPD*) ;;
  *) echo "opensmtpd: $addr:$port sends no OpenSMTPD banner (${b:-none}); its log:" >&2; tail -n 20 "$state/smtpd.log" >&2 || true; exit 1 ;;
esac
echo "opensmtpd: $b on $addr:$port"
