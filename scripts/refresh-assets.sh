#!/usr/bin/env bash
# Refresh the vendored front-end assets in kompass/core/static/vendor/ from the
# exact npm pins in package.json / package-lock.json.
#
# npm is needed only to run this script; the app itself (and the browser
# tests) use the committed copies. Run from anywhere:  scripts/refresh-assets.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

NM="node_modules"
VENDOR="kompass/core/static/vendor"
PKT_CSS="$NM/@oslokommune/punkt-css"
PKT_ASSETS="$NM/@oslokommune/punkt-assets"

# Icons referenced by url(...) in pkt.min.css (served from the Punkt CDN upstream).
CSS_ICONS=(check-medium chevron-thin-down minus-sign new-window-small)
# Icons for the UI. Punkt has no search/globe/logout/settings/building/bell icons;
# the nearest Punkt names are used (magnifying-glass-*, language, exit, cogwheel,
# organization, megaphone).
UI_ICONS=(
  user person group organization district home menu close cross
  chevron-thin-down chevron-thin-up chevron-thin-left chevron-thin-right
  chevron-down chevron-left chevron-right chevron-up chevron-up-and-down arrow
  magnifying-glass-small magnifying-glass-big language exit lock-locked
  plus-sign plus-circle minus-sign edit trash-can copy save print download
  filter sort list
  alert-information alert-error alert-warning alert-success information
  check check-medium check-big check-circle exclamation-mark-circle
  document-text document-pdf document-table folder archive
  cogwheel calendar clock clock-history megaphone email message
  new-window new-window-small link eye graph
)

echo "==> npm ci"
npm ci --no-audit --no-fund

echo "==> cleaning $VENDOR"
rm -rf "$VENDOR"
mkdir -p "$VENDOR"/punkt/{css,fonts,icons,logos} "$VENDOR"/axe "$VENDOR"/chartjs "$VENDOR"/cytoscape

# --- Punkt CSS: rewrite CDN icon URLs to the local ../icons/ folder -----------
css_out="$VENDOR/punkt/css/pkt.min.css"
sed -E 's#url\(["'\'']?https://punkt-cdn\.oslo\.kommune\.no/[^/)]+/icons/([A-Za-z0-9_-]+\.svg)["'\'']?\)#url(../icons/\1)#g' \
  "$PKT_CSS/dist/css/pkt.min.css" > "$css_out"
if grep -q 'https://' "$css_out"; then
  echo "ERROR: https:// URL(s) remain in $css_out:" >&2
  grep -o 'https://[^")]*' "$css_out" | sort -u >&2
  exit 1
fi
cp "$PKT_CSS/LICENSE" "$VENDOR/punkt/LICENSE"
cp "$PKT_ASSETS/LICENSE" "$VENDOR/punkt/LICENSE-punkt-assets"

# --- Fonts ----------------------------------------------------------------------
# All woff2 files, plus the .woff fallbacks: the CSS names both in each
# @font-face, and Django's ManifestStaticFilesStorage (collectstatic) fails on
# any url() that points to a missing file.
cp "$PKT_ASSETS"/dist/fonts/*.woff2 "$PKT_ASSETS"/dist/fonts/*.woff "$VENDOR/punkt/fonts/"

# --- Icons -----------------------------------------------------------------------
for name in $(printf '%s\n' "${CSS_ICONS[@]}" "${UI_ICONS[@]}" | sort -u); do
  src="$PKT_ASSETS/dist/icons/$name.svg"
  if [[ ! -f "$src" ]]; then
    echo "ERROR: icon $name.svg not found in punkt-assets" >&2
    exit 1
  fi
  cp "$src" "$VENDOR/punkt/icons/"
done

# Every relative url(../X) in the CSS must exist locally (collectstatic with
# ManifestStaticFilesStorage would fail otherwise).
for ref in $(grep -oE 'url\(["'\'']?\.\./[^"'\'')]+' "$css_out" | sed -E 's#url\(["'\'']?\.\./##' | sort -u); do
  [[ -f "$VENDOR/punkt/$ref" ]] || { echo "ERROR: CSS references missing $ref" >&2; exit 1; }
done

# --- Logos -----------------------------------------------------------------------
for f in oslologo.svg favicon.ico favicon.svg 32x32-favicon.svg apple-touch-icon.png; do
  if [[ -f "$PKT_ASSETS/dist/logos/$f" ]]; then
    cp "$PKT_ASSETS/dist/logos/$f" "$VENDOR/punkt/logos/"
  fi
done

# --- axe-core (browser tests only) ---------------------------------------------
cp "$NM/axe-core/axe.min.js" "$VENDOR/axe/axe.min.js"
cp "$NM/axe-core/LICENSE" "$VENDOR/axe/LICENSE"
cp "$NM/axe-core/LICENSE-3RD-PARTY.txt" "$VENDOR/axe/LICENSE-3RD-PARTY.txt"

# --- Chart.js (UMD build, exposes window.Chart) ----------------------------------
# The file ends with "//# sourceMappingURL=chart.umd.min.js.map". The map (1 MB)
# is not vendored, so drop that line: ManifestStaticFilesStorage (collectstatic)
# fails on a sourceMappingURL that points to a missing file.
sed -E '/^\/\/# sourceMappingURL=/d' "$NM/chart.js/dist/chart.umd.min.js" > "$VENDOR/chartjs/chart.umd.min.js"
if grep -q 'sourceMappingURL' "$VENDOR"/chartjs/*.js "$VENDOR"/axe/*.js "$VENDOR"/punkt/css/*.css; then
  echo "ERROR: sourceMappingURL left in a vendored file" >&2
  exit 1
fi
cp "$NM/chart.js/LICENSE.md" "$VENDOR/chartjs/LICENSE.md"
# Chart.js bundles @kurkle/color (MIT) into its UMD build.
cp "$NM/@kurkle/color/LICENSE.md" "$VENDOR/chartjs/LICENSE-kurkle-color.md"

# --- Cytoscape.js (UMD build, exposes window.cytoscape; used by the portfolio's integration map) -----
# No eval, so it runs under script-src 'self'; its inline <style> is avoided by the page's
# <link id="__________cytoscape_stylesheet"> (see kompass/portfolio/templates/portfolio/map.html).
cp "$NM/cytoscape/dist/cytoscape.min.js" "$VENDOR/cytoscape/cytoscape.min.js"
cp "$NM/cytoscape/LICENSE" "$VENDOR/cytoscape/LICENSE"

# --- Versions -----------------------------------------------------------------------
{
  for p in @oslokommune/punkt-css @oslokommune/punkt-assets axe-core chart.js @kurkle/color cytoscape; do
    node -p "const j=require('./$NM/$p/package.json'); j.name+'@'+j.version+' ('+j.license+')'"
  done
} > "$VENDOR/VERSIONS.txt"

# --- Summary --------------------------------------------------------------------------
echo "==> vendored into $VENDOR"
cat "$VENDOR/VERSIONS.txt"
echo
(cd "$VENDOR" && find . -type f ! -path './punkt/icons/*' | sort | xargs du -h --apparent-size)
echo "icons ($(ls "$VENDOR/punkt/icons" | wc -l), $(du -sh --apparent-size "$VENDOR/punkt/icons" | cut -f1)):"
ls "$VENDOR/punkt/icons" | sed 's/\.svg$//' | tr '\n' ' '; echo
echo "total: $(du -sh --apparent-size "$VENDOR" | cut -f1)"
