#!/usr/bin/env bash
# The mapping benchmark (issue 3): one generated contacts export, measured in
# one run against its baselines, printing rows/s, peak memory and ratios.
#
#   infra/bench/mapbench.sh [ROWS]        # default 1,000,000 rows
#   BIG=1 infra/bench/mapbench.sh         # also the ~1 GB file's peak RSS
#   CUTOVER=/path/to/cutover infra/bench/mapbench.sh   # measure that build
#                                         # (say, of an earlier commit) instead
#                                         # of this checkout's
#
# Needs Miller (`apt-get install miller`) and GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/../.."
rows=${1:-1000000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

command -v mlr >/dev/null || { echo "mapbench: Miller is not installed: apt-get install miller" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "mapbench: GNU time is not installed: apt-get install time" >&2; exit 1; }

go build -o "$work/gencontacts" ./infra/cmd/gencontacts
go build -o "$work/csvfloor" ./infra/cmd/csvfloor
if [ -n "${CUTOVER:-}" ]; then cp "$CUTOVER" "$work/cutover"; else go build -o "$work/cutover" ./cmd/cutover; fi
"$work/gencontacts" -rows "$rows" -out "$work/contacts.csv"
size=$(stat -c %s "$work/contacts.csv")

# measure NAME COMMAND...: wall seconds, CPU seconds (user + system) and
# peak RSS (KB) of one run, the best of 3 of each. The wall time is read to
# the millisecond (GNU time prints hundredths, too coarse for the floor,
# which takes well under a second). CPU seconds are the steadier measure
# when other work shares the machine: waiting for a core costs wall time,
# not CPU time.
declare -A secs cpu rss
measure() {
  local name=$1; shift
  local best="" bestcpu="" bestrss=""
  for _ in 1 2 3; do
    local t0 t1
    t0=$(date +%s%N)
    /usr/bin/time -f "%e %M %U %S" -o "$work/t" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
    t1=$(date +%s%N)
    read -r _ m u k <"$work/t"
    s=$(awk "BEGIN{printf \"%.3f\", ($t1 - $t0) / 1e9}")
    c=$(awk "BEGIN{printf \"%.2f\", $u + $k}")
    if [ -z "$best" ] || awk "BEGIN{exit !($s < $best)}"; then best=$s bestrss=$m; fi
    if [ -z "$bestcpu" ] || awk "BEGIN{exit !($c < $bestcpu)}"; then bestcpu=$c; fi
  done
  secs[$name]=$best cpu[$name]=$bestcpu rss[$name]=$bestrss
}

measure floor "$work/csvfloor" "$work/contacts.csv"
measure miller bash -c "mlr --icsv --ocsv --from '$work/contacts.csv' rename 'Record ID,source_id,First Name,first_name,Last Name,last_name,Email,email,Phone Number,phone,Company Name,company,Create Date,created_at,Lifecycle Stage,lifecycle_stage,Notes,notes,Tags,tags' then put '
  \$first_name = capitalize(tolower(strip(\$first_name)));
  \$last_name = capitalize(tolower(strip(\$last_name)));
  \$email = tolower(strip(\$email));
  \$company = strip(\$company);
  \$lifecycle_stage = tolower(strip(\$lifecycle_stage));
  \$created_at = strftime(strptime(\$created_at, \"%d/%m/%Y %H:%M\"), \"%Y-%m-%dT%H:%M:%SZ\");
' > '$work/miller.csv'"
# `cutover map` shuffles its global operations through spill files by
# default (flat memory, every row mapped twice); --in-memory holds them in
# memory instead (one mapping, memory grows with the rows). Both are
# measured: the ratios of issue 15 item 4 were first taken in memory.
measure shared "$work/cutover" map --mapping infra/bench/shared-work.json --out "$work/shared" "$work/contacts.csv"
measure sharedmem "$work/cutover" map --in-memory --mapping infra/bench/shared-work.json --out "$work/sharedmem" "$work/contacts.csv"
measure full "$work/cutover" map --mapping infra/bench/full.json --out "$work/full" "$work/contacts.csv"
measure fullmem "$work/cutover" map --in-memory --mapping infra/bench/full.json --out "$work/fullmem" "$work/contacts.csv"
"$work/cutover" inspect --write-mapping "$work/proposed.json" "$work/contacts.csv" >/dev/null
measure proposed "$work/cutover" map --mapping "$work/proposed.json" --out "$work/proposed" "$work/contacts.csv"
measure proposedmem "$work/cutover" map --in-memory --mapping "$work/proposed.json" --out "$work/proposedmem" "$work/contacts.csv"
measure full1 env GOMAXPROCS=1 "$work/cutover" map --mapping infra/bench/full.json --out "$work/full1" "$work/contacts.csv"
measure fullmem1 env GOMAXPROCS=1 "$work/cutover" map --in-memory --mapping infra/bench/full.json --out "$work/fullmem1" "$work/contacts.csv"

printf '\n%d rows, %d MB, %d cores\n\n' "$rows" $((size >> 20)) "$(nproc)"
printf '%-34s %10s %10s %12s %10s\n' "run" "seconds" "CPU s" "rows/s" "peak MB"
for k in floor miller shared sharedmem full fullmem proposed proposedmem full1 fullmem1; do
  label=$k
  case $k in
    floor) label="encoding/csv read (floor)";;
    miller) label="Miller: renames/trim/case/dates";;
    shared) label="cutover: the same work";;
    sharedmem) label="  the same, --in-memory";;
    full) label="cutover: full map+validate";;
    fullmem) label="  the same, --in-memory";;
    proposed) label="cutover: inspect mapping, dedupe";;
    proposedmem) label="  the same, --in-memory";;
    full1) label="cutover: full, GOMAXPROCS=1";;
    fullmem1) label="  the same, --in-memory";;
  esac
  printf '%-34s %10s %10s %12.0f %10.1f\n' "$label" "${secs[$k]}" "${cpu[$k]}" "$(awk "BEGIN{print $rows/${secs[$k]}}")" "$(awk "BEGIN{print ${rss[$k]}/1024}")"
done
printf '\nratios (same run):\n'
printf '  cutover shared work vs Miller:   %.2fx faster (target >= 3x)\n' "$(awk "BEGIN{print ${secs[miller]}/${secs[shared]}}")"
printf '  full path vs bare parse:         %.2fx slower (target <= 10x)\n' "$(awk "BEGIN{print ${secs[full]}/${secs[floor]}}")"
printf '  inspect mapping (dedupe on):     %.2fx slower than the bare parse\n' "$(awk "BEGIN{print ${secs[proposed]}/${secs[floor]}}")"
printf '  the same in CPU seconds:         shared work %.2fx faster than Miller, full path %.2fx the floor, inspect mapping %.2fx the floor\n' \
  "$(awk "BEGIN{print ${cpu[miller]}/${cpu[shared]}}")" "$(awk "BEGIN{print ${cpu[full]}/${cpu[floor]}}")" "$(awk "BEGIN{print ${cpu[proposed]}/${cpu[floor]}}")"
printf '  --in-memory, CPU seconds:        shared work %.2fx faster than Miller, full path %.2fx the floor, inspect mapping %.2fx the floor\n' \
  "$(awk "BEGIN{print ${cpu[miller]}/${cpu[sharedmem]}}")" "$(awk "BEGIN{print ${cpu[fullmem]}/${cpu[floor]}}")" "$(awk "BEGIN{print ${cpu[proposedmem]}/${cpu[floor]}}")"
printf '  --in-memory, wall seconds:       shared work %.2fx faster than Miller, full path %.2fx the floor\n' \
  "$(awk "BEGIN{print ${secs[miller]}/${secs[sharedmem]}}")" "$(awk "BEGIN{print ${secs[fullmem]}/${secs[floor]}}")"
printf '  parallel speed-up (all cores):   %.2fx over one core (--in-memory: %.2fx)\n' "$(awk "BEGIN{print ${secs[full1]}/${secs[full]}}")" "$(awk "BEGIN{print ${secs[fullmem1]}/${secs[fullmem]}}")"

if [ "${BIG:-0}" = 1 ]; then
  "$work/gencontacts" -rows 9500000 -out "$work/big.csv"
  rm -rf "$work/full" "$work/full1" "$work/shared" "$work/fullmem" "$work/fullmem1" "$work/sharedmem" "$work/proposedmem"
  /usr/bin/time -f "%e %M" -o "$work/t" "$work/cutover" map --mapping infra/bench/shared-work.json --records=false --out "$work/big" "$work/big.csv" >/dev/null
  read -r s m <"$work/t"
  printf '\n~1 GB file (%d MB): %.1f s, peak RSS %.1f MB (target < 100 MB)\n' $(($(stat -c %s "$work/big.csv") >> 20)) "$s" "$(awk "BEGIN{print $m/1024}")"
fi
