# layerdu bench fixture generator (busybox sh + awk). Run inside the fixture's build containers:
#   sh gen.sh layer  PREFIX N TAG   N small files under PREFIX/tT/sS/fI, 100 per leaf directory;
#                                   every 13th is empty, every 1009th ~6 KB, the rest a few bytes;
#                                   100 hardlinks and 100 symlinks under PREFIX/links
#   sh gen.sh modify PREFIX N       in a later layer: delete 1000 of a layer's files (whiteouts),
#                                   rewrite 1000 (overwrites) and replace one directory (opaque)
#   sh gen.sh copyup A B N COUNT    in a container: append to COUNT files of layers A and B
# Appends only ever add a constant string: no file is read into itself.
set -eu
set -o pipefail
mode=$1
AWKLIB='
function layout(n) { leaves = int((n + 99) / 100); top = 1; while (top * top < leaves) top++; per = int((leaves + top - 1) / top) }
function path(p, i,   l) { l = int(i / 100); return p "/t" int(l / per) "/s" (l % per) "/f" i }
'
case "$mode" in
layer)
  P=$2 N=$3 TAG=$4
  mkdir -p "$P/links"
  awk -v P="$P" -v N="$N" "$AWKLIB"'BEGIN { layout(N); for (l = 0; l < leaves; l++) print P "/t" int(l / per) "/s" (l % per) }' | xargs mkdir -p
  awk -v P="$P" -v N="$N" -v TAG="$TAG" "$AWKLIB"'BEGIN {
    layout(N)
    for (i = 0; i < N; i++) {
      f = path(P, i)
      if (i % 13 == 0) printf "" > f
      else if (i % 1009 == 0) { for (k = 0; k < 100; k++) printf "%s %d line %d: padding padding padding padding padding\n", TAG, i, k > f }
      else printf "%s %d\n", TAG, i > f
      close(f)
    }
  }'
  awk -v P="$P" -v N="$N" "$AWKLIB"'BEGIN { layout(N); s = int(N / 100); for (j = 0; j < 100; j++) print path(P, j * s + 1), P "/links/h" j }' | xargs -n 2 ln
  awk -v P="$P" -v N="$N" "$AWKLIB"'BEGIN { layout(N); s = int(N / 100); for (j = 0; j < 100; j++) print ".." substr(path(P, j * s + 2), length(P) + 1), P "/links/s" j }' | xargs -n 2 ln -s
  ;;
modify)
  P=$2 N=$3
  awk -v P="$P" -v N="$N" "$AWKLIB"'BEGIN { layout(N); s = int(N / 1000); for (j = 0; j < 1000; j++) print path(P, j * s + 7) }' | xargs rm -f
  awk -v P="$P" -v N="$N" "$AWKLIB"'BEGIN { layout(N); s = int(N / 1000); for (j = 0; j < 1000; j++) { f = path(P, j * s + 8); printf "rewritten %d\n", j > f; close(f) } }'
  rm -rf "$P/t0/s1"
  mkdir "$P/t0/s1"
  echo replaced > "$P/t0/s1/only"
  ;;
copyup)
  A=$2 B=$3 N=$4 C=$5
  for P in "$A" "$B"; do
    awk -v P="$P" -v N="$N" -v C="$C" "$AWKLIB"'BEGIN { layout(N); h = int(C / 2); s = int(N / h); for (j = 0; j < h; j++) { f = path(P, j * s + 3); printf "appended %d\n", j >> f; close(f) } }'
  done
  echo written by the container > /container-note
  ;;
*)
  echo "gen.sh: unknown mode $mode" >&2
  exit 2
  ;;
esac
