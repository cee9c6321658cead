# Shared by scripts/bench and scripts/bench-cases (sourced, not run).

# Milliseconds since the epoch.
ms() { date +%s%N | awk '{printf "%d", $1/1000000}'; }

# run NAME WRK-ARGS…: one wrk measurement (2 threads, 16 connections, $DURATION s), printed as
# req/s and p99, with the count of non-2xx answers if there were any.
run() {
  local name=$1; shift
  local out rps p99 non2xx
  out=$(wrk -t2 -c16 -d"${DURATION}s" --latency "$@")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  printf '%-44s %10s req/s   p99 %8s%s\n' "$name" "$rps" "$p99" "${non2xx:+   non-2xx: $non2xx}"
}
