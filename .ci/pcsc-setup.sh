#!/bin/sh
# Install and start pcscd with Debian's virtual smart-card reader (vpcd) for the
# PC/SC tests (tests/integration/devices/test_pcsc.py, marker "pcsc").
# Idempotent: installs only what is missing, starts pcscd only if it is not
# already running with vpcd loaded.
#
# CI and development machines only: vpcd listens for virtual cards on
# 0.0.0.0:35963 and :35964 (it has no bind-address option). Do not run this on a
# production host. The tests connect their virtual card (vicc) to 127.0.0.1.
#
# The venv also needs pyscard:  .venv/bin/pip install -e '.[dev,pcsc]'
# (it builds against libpcsclite-dev with swig, both installed here).
set -eu

PACKAGES="pcscd libpcsclite-dev swig vsmartcard-vpcd vsmartcard-vpicc python3-virtualsmartcard"
VPCD_PORT_HEX=8C7B # 35963, vpcd's first slot ("Virtual PCD 00 00")

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

missing=""
for pkg in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $pkg"
    fi
done
if [ -n "$missing" ]; then
    echo "pcsc-setup: installing$missing"
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086 # word splitting of the package list is intended
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $missing
fi

vpcd_listening() {
    # LISTEN (state 0A) on the vpcd port, read from /proc so no extra tool is needed.
    grep -qi ":$VPCD_PORT_HEX 00000000:0000 0A" /proc/net/tcp 2>/dev/null
}

pcscd_pid() {
    pid=$(cat /run/pcscd/pcscd.pid 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        echo "$pid"
    fi
}

if vpcd_listening; then
    echo "pcsc-setup: pcscd is running with vpcd"
    exit 0
fi

# On systemd hosts pcscd is socket-activated and exits when idle, which would take
# vpcd's port away between tests: stop the units and run one pcscd of our own.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    $SUDO systemctl stop pcscd.socket pcscd.service 2>/dev/null || true
fi
# A pcscd started before vpcd was installed has not loaded it: restart it.
pid=$(pcscd_pid)
if [ -n "$pid" ]; then
    echo "pcsc-setup: restarting pcscd (pid $pid) to load vpcd"
    $SUDO kill "$pid"
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
fi

$SUDO pcscd
i=0
while ! vpcd_listening && [ $i -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
done
if ! vpcd_listening; then
    echo "pcsc-setup: pcscd started but vpcd does not listen on port 35963" >&2
    exit 1
fi
echo "pcsc-setup: pcscd running with vpcd (pid $(pcscd_pid))"
