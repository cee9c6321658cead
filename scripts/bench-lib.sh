# Shared by scripts/bench, scripts/bench-growth and scripts/bench-cases (sourced, not run).

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

# CPU busy (%) over one second, from /proc/stat.
busy() {
  local a b
  a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
  awk -v u1="${a[1]}" -v n1="${a[2]}" -v s1="${a[3]}" -v i1="${a[4]}" -v w1="${a[5]}" -v q1="${a[6]}" -v r1="${a[7]}" \
      -v u2="${b[1]}" -v n2="${b[2]}" -v s2="${b[3]}" -v i2="${b[4]}" -v w2="${b[5]}" -v q2="${b[6]}" -v r2="${b[7]}" \
      'BEGIN { t = (u2+n2+s2+i2+w2+q2+r2) - (u1+n1+s1+i1+w1+q1+r1); idle = (i2+w2) - (i1+w1); printf "%d", t ? 100 * (t - idle) / t : 0 }'
}
quiet() {
  local n=0 b
  while b=$(busy); [ "$b" -ge 10 ]; do
    n=$((n + 1))
    if [ "$n" -ge 60 ]; then echo "  (warning: the machine stayed busy, $b % CPU)" >&2; return; fi
  done
}

# cpu_ticks PID: user + system time of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TCK=$(getconf CLK_TCK)

# Ticks the machine's CPUs were taken by its host (steal, /proc/stat's eighth column): a
# virtual machine's CPU lent elsewhere while a run was on it shows in every latency of that run.
steal_ticks() { awk '/^cpu / {print $9}' /proc/stat; }

# one PID WRK-ARGS…: quiet check, one wrk run; prints "rps p99 µs-per-request steal-%", the
# last the share of the two CPUs' time over the run taken by the host. With WARM=1, first an
# unmeasured two-second run of the same requests: the data they read is then in memory, as on
# a server they are asked of. (This machine's host takes back file pages not read for about a
# minute — DAMON's pageout, /sys/kernel/mm/damon/admin/kdamonds; 10.9 GB in its first hour —
# so an endpoint measured first after a minute of others read its data from disk: the first
# second of the dashboard on SQLite had a p99 of 26 ms with its file out of memory, 4–6 ms
# in memory, and earlier runs showed it as a first round's p99 of 16–64 ms.)
one() {
  local pid=$1; shift
  if [ "${WARM:-0}" = 1 ]; then wrk -t2 -c16 -d2s "$@" > /dev/null; fi
  # A run in which the host took 10 % of the CPUs or more measures the host, not the server
  # (one run had 33–44 % taken from PostgreSQL's rounds, halving their ratios): it is run again,
  # up to twice more, and the last run is the one printed, with its steal.
  local out tries=0
  while out=$(one_run "$pid" "$@"); tries=$((tries + 1))
        [ "$tries" -lt 3 ] && awk -v s="${out##* }" 'BEGIN { exit !(s >= 10) }'; do
    echo "  (the host took ${out##* } % of the CPUs during a run: run again)" >&2
  done
  echo "$out"
}

# one_run PID WRK-ARGS…: `one` without the warm-up and the repeat.
one_run() {
  local pid=$1; shift
  quiet
  local t0 t1 s0 s1 w0 w1 out rps p99 n
  t0=$(cpu_ticks "$pid"); s0=$(steal_ticks); w0=$(ms)
  out=$(wrk -t2 -c16 -d"${DURATION}s" --latency "$@")
  t1=$(cpu_ticks "$pid"); s1=$(steal_ticks); w1=$(ms)
  rps=$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  # A failing answer is quick: a run with any would measure errors, not the page.
  echo "$out" | awk '/Non-2xx/ {print "  (warning: " $NF " answers not 2xx)"}' >&2
  echo "$rps $p99 $(awk -v d=$((t1 - t0)) -v n="$n" -v t="$TCK" 'BEGIN { printf "%.0f", n ? d * 1e6 / t / n : 0 }') \
$(awk -v s=$((s1 - s0)) -v w=$((w1 - w0)) -v t="$TCK" -v c="$(nproc)" 'BEGIN { printf "%.1f", w ? 100 * s / t / (w / 1000) / c : 0 }')"
}

# ", host N %" when the host took at least 1 % of the CPUs during the run.
stolen() { awk -v s="$1" 'BEGIN { if (s >= 1) printf ", host %s %%", s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b ? a / b : 0 }'; }
