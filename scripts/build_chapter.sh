#!/usr/bin/env bash
# Build one chapter as a tiny stand-alone book, to look at its rendered page quickly.
#   scripts/build_chapter.sh 02_min_norm [scale]   -> /tmp/chapter_02_min_norm/_build/html/
set -euo pipefail
slug=$1; scale=${2:-test}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=/tmp/chapter_$slug
rm -rf "$dir"; mkdir -p "$dir/notebooks"
ln -s "$root/book" "$dir/book"
cp "$root/notebooks/$slug.md" "$dir/notebooks/"
sed "s/^  execute_notebooks: cache$/  execute_notebooks: force/" "$root/_config.yml" > "$dir/_config.yml"
printf 'format: jb-book\nroot: notebooks/%s\noptions:\n  numbered: true\nchapters:\n  - file: book/bibliography\n' "$slug" > "$dir/_toc.yml"
cd "$dir"
OVERPARAM_SCALE=$scale OVERPARAM_PROGRESS=0 OVERPARAM_CLAIMS_DIR=$dir/_build/claims \
  "$root/.venv/bin/jupyter-book" build . --keep-going 2>&1 | grep -Ev "^(reading sources|writing output|copying|checking consistency|preparing documents|pickling|loading)" | tail -40
echo "page: $dir/_build/html/notebooks/$slug.html"
