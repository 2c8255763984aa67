#!/bin/sh
# Install the Debian packages Axon needs, only those missing; do nothing
# when all are present.  Daemons shipped by the interop packages
# (prometheus, alertmanager, node_exporter, pushgateway) are not started
# by the install: tests start their own on loopback.
set -eu

PKGS="build-essential pkg-config clang clang-format libnng-dev libprotobuf-c-dev \
protobuf-c-compiler libuv1-dev libcjson-dev libcurl4-openssl-dev libyaml-dev \
libsnappy-dev libmicrohttpd-dev libpcre2-dev libxxhash-dev zlib1g-dev libssl-dev \
libcmocka-dev curl jq procps openssl python3-consul \
prometheus prometheus-alertmanager prometheus-node-exporter prometheus-pushgateway"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	exit 0
fi
echo "deps: installing:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
	SUDO="sudo"
fi
# Keep package maintainer scripts from starting the interop daemons.
made_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod +x /usr/sbin/policy-rc.d
	made_policy=1
fi
cleanup() {
	if [ "$made_policy" = 1 ]; then
		$SUDO rm -f /usr/sbin/policy-rc.d
	fi
}
trap cleanup EXIT
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq
# shellcheck disable=SC2086
$SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends $missing
# In case an init system started them anyway (e.g. no policy honoured).
for svc in prometheus prometheus-alertmanager prometheus-node-exporter prometheus-pushgateway; do
	if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
		$SUDO systemctl stop "$svc" || true
		$SUDO systemctl disable "$svc" >/dev/null 2>&1 || true
	fi
done
echo "deps: done"
