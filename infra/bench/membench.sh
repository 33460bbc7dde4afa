#!/usr/bin/env bash
# Constant memory (issue 15 item 2, CLI): `cutover map` with the mapping
# `cutover inspect` proposes for a generated contacts export (e-mail dedupe
# on), in memory (`--in-memory`, the engine before the shuffle) and through
# the shuffle (the default), in one run: peak RSS, wall time, and whether
# every output file is byte-identical.
#
#   infra/bench/membench.sh [ROWS...]     # default: 200000 1000000
#   IN_MEMORY_MAX=1000000 infra/bench/membench.sh 200000 1000000 10000000
#   EXTRACT=agency infra/bench/membench.sh 1000000
#
# EXTRACT=agency maps an estate agency's export instead (half contacts,
# half tenancies naming their tenants inline; benchdata.WriteAgency) with
# the mapping `cutover inspect` proposes for the two files (the
# estate-agency layout: the people named inline are linked to the listed
# contacts).
#
# The in-memory path is skipped above IN_MEMORY_MAX rows (default
# 1,000,000: it holds every record, about 5 GB at 1M rows). Needs GNU
# time (/usr/bin/time). Not part of `make test`.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x /usr/bin/time ] || { echo "membench: GNU time is not installed: apt-get install time" >&2; exit 1; }
[ $# -gt 0 ] || set -- 200000 1000000
max=${IN_MEMORY_MAX:-1000000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/gencontacts" ./infra/cmd/gencontacts
go build -o "$work/cutover" ./cmd/cutover

printf '%-10s %-10s %10s %12s %10s\n' rows path seconds "peak RSS MB" identical
for rows in "$@"; do
  if [ "${EXTRACT:-}" = agency ]; then
    "$work/gencontacts" -rows "$rows" -out "$work/contacts.csv" -tenancies "$work/tenancies.csv"
    files=("$work/contacts.csv" "$work/tenancies.csv")
  else
    "$work/gencontacts" -rows "$rows" -out "$work/contacts.csv"
    files=("$work/contacts.csv")
  fi
  "$work/cutover" inspect --write-mapping "$work/proposed.json" "${files[@]}" >/dev/null
  shuffled_s=""
  /usr/bin/time -f "%e %M" -o "$work/t" "$work/cutover" map --mapping "$work/proposed.json" --out "$work/shuffle" "${files[@]}" >"$work/shuffle.out"
  read -r s m <"$work/t"
  shuffled_s=$s
  same="-"
  if [ "$rows" -le "$max" ]; then
    /usr/bin/time -f "%e %M" -o "$work/t" "$work/cutover" map --in-memory --mapping "$work/proposed.json" --out "$work/memory" "${files[@]}" >"$work/memory.out"
    read -r ms mm <"$work/t"
    same=yes
    for f in "$work"/memory/*; do cmp -s "$f" "$work/shuffle/$(basename "$f")" || same="NO: $(basename "$f")"; done
    [ "$(ls "$work/memory" | wc -l)" = "$(ls "$work/shuffle" | wc -l)" ] || same="NO: the files differ"
    printf '%-10s %-10s %10s %12.1f %10s\n' "$rows" in-memory "$ms" "$(awk "BEGIN{print $mm/1024}")" ""
  fi
  printf '%-10s %-10s %10s %12.1f %10s\n' "$rows" shuffle "$shuffled_s" "$(awk "BEGIN{print $m/1024}")" "$same"
  rm -rf "$work/memory" "$work/shuffle" "$work/contacts.csv" "$work/tenancies.csv"
done
