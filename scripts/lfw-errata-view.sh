#!/bin/sh
# usage: mkclean.sh LFW_DIR OUT_DIR — a view of LFW (symbolic links) without the images and folders
# listed in docs/engine-lfw-errata.txt (the LFW maintainers' published errata).
set -eu
src=$1; out=$2; list=$(dirname "$0")/../docs/engine-lfw-errata.txt
mkdir -p "$out"
grep -v '^#' "$list" | grep . > "$out/.exclude"
for d in "$src"/*/; do
  p=$(basename "$d")
  grep -qx "$p/" "$out/.exclude" && continue
  mkdir -p "$out/$p"
  for f in "$d"*.jpg; do
    grep -qx "$p/$(basename "$f")" "$out/.exclude" && continue
    ln -sf "$f" "$out/$p/"
  done
done
