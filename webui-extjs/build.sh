#!/bin/sh
# Builds the Co-Pilot web UI into $OUT (default build/webui): the app, the loader and
# only the ExtJS 6.2 GPL files the panel loads (sandbox build + classic sandbox theme +
# charts, wrapped so they register on Ext6). ExtJS comes from npm `extjs-gpl@6.2.0`,
# downloaded once into $CACHE (git-ignored) with `npm pack` (checks the registry's integrity).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
OUT=${OUT:-$root/build/webui}
CACHE=${CACHE:-$root/build/cache}
VERSION=6.2.0
tgz=$CACHE/extjs-gpl-$VERSION.tgz
ext=$CACHE/extjs-$VERSION
mkdir -p "$CACHE"
if [ ! -s "$tgz" ]; then
  command -v npm >/dev/null || { echo "webui: npm is needed to fetch extjs-gpl@$VERSION (apt-get install npm)" >&2; exit 1; }
  echo "webui: fetching extjs-gpl@$VERSION from npm (about 120 MB, once)"
  (cd "$CACHE" && npm pack --silent "extjs-gpl@$VERSION" >/dev/null)
fi
# Mermaid (npm `mermaid`, MIT) renders the Traces page's flowcharts; its UMD build sets window.mermaid.
MERMAID=10.9.3
mtgz=$CACHE/mermaid-$MERMAID.tgz
if [ ! -s "$mtgz" ]; then
  command -v npm >/dev/null || { echo "webui: npm is needed to fetch mermaid@$MERMAID (apt-get install npm)" >&2; exit 1; }
  echo "webui: fetching mermaid@$MERMAID from npm (about 5 MB, once)"
  (cd "$CACHE" && npm pack --silent "mermaid@$MERMAID" >/dev/null)
fi
if [ ! -f "$ext/.done2" ]; then
  rm -rf "$ext" && mkdir -p "$ext"
  tar -xzf "$tgz" -C "$ext" --strip-components=1 \
    package/LICENSE package/build/ext-all-sandbox-debug.js \
    package/build/packages/charts/classic/charts-debug.js \
    package/build/packages/charts/classic/classic/resources/charts-all.css \
    package/build/classic/theme-classic-sandbox/resources
  touch "$ext/.done2"
fi
rm -rf "$OUT" && mkdir -p "$OUT/ext/theme"
cp "$ext/LICENSE" "$OUT/ext/LICENSE"
# The *debug* sandbox build: Sencha's minified ext-all-sandbox.js has the "x-" CSS prefix
# inlined into hundreds of literals (so it renders unstyled against the x6- theme); the
# debug build reads Ext.baseCSSPrefix ("x6-") everywhere but one spacer class, fixed here.
sed "s/cls: 'x-scroller-spacer'/cls: 'x6-scroller-spacer'/" "$ext/build/ext-all-sandbox-debug.js" > "$OUT/ext/ext-all-sandbox.js"
# The charts package is built against the global `Ext`; run it against the sandbox's Ext6.
{ echo "(function(Ext){"; sed "s/'x-component'/'x6-component'/g" "$ext/build/packages/charts/classic/charts-debug.js"; echo; echo "})(this.Ext6);"; } > "$OUT/ext/charts-sandbox.js"
sed 's/\.x-/.x6-/g' "$ext/build/packages/charts/classic/classic/resources/charts-all.css" > "$OUT/ext/charts-sandbox.css"
theme=$ext/build/classic/theme-classic-sandbox/resources
cp -r "$theme/images" "$OUT/ext/theme/"
cp "$theme"/theme-classic-sandbox-all.css "$theme"/theme-classic-sandbox-all_1.css "$theme"/theme-classic-sandbox-all_2.css "$OUT/ext/theme/"
cp "$here"/app/* "$OUT/"
tar -xzf "$mtgz" -O package/dist/mermaid.min.js > "$OUT/mermaid.min.js"
mkdir -p "$OUT/mermaid" && tar -xzf "$mtgz" -O package/LICENSE > "$OUT/mermaid/LICENSE"
cp "$here"/loader/copilot-loader.js "$OUT/"
echo "webui: built $OUT ($(du -sh "$OUT" | cut -f1))"
