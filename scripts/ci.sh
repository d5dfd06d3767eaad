#!/usr/bin/env bash
# The test command: installs what the tests need (Debian packages, a venv with the project and
# its dev tools), then runs ruff, mypy and pytest with coverage of src/wnm.
# Integration tests start their own dockerd, systemd-nspawn container and network namespaces
# and clean them up; they skip (with the reason) where the machine cannot run them.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(docker.io systemd-container debootstrap ufw firewalld nftables iptables
              busybox-static iproute2 dbus)
missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    if [ "$(id -u)" = 0 ]; then
        echo "ci: installing ${missing[*]}"
        apt-get update -q >/dev/null
        # postinst scripts must not start services on the host (no systemd here anyway)
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
        rm -f /usr/sbin/policy-rc.d
    else
        echo "ci: not root; integration tests needing ${missing[*]} will skip"
    fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -e . -r requirements-dev.txt 2>&1 | grep -v "is ignored" || true

echo "ci: ruff"
.venv/bin/ruff check src tests scripts alembic
echo "ci: mypy"
.venv/bin/mypy src/wnm
echo "ci: pytest"
.venv/bin/pytest -p no:cacheprovider --cov=wnm --cov-report=term --cov-report=xml:coverage.xml "$@"
