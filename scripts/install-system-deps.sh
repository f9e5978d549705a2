#!/usr/bin/env bash
# Debian packages the test suite needs. Installed only when running as root and missing,
# so `make test` stays fast once set up and never asks for a password.
set -euo pipefail

PACKAGES=(
  mono-devel  # the .NET bridge: mcs, mono, and the netstandard facade Python.Runtime.dll needs
  chromium         # AssetGen Studio's browser tests (tests/studio), run headless
  chromium-driver  # ...driven by Selenium through chromedriver
  espeak-ng        # synthesised speech for the lip-sync tests and timing evaluation
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-system-deps: please install these Debian packages: ${missing[*]}" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
