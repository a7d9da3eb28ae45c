-- wrk reporting shared by the serve benchmark scripts: one machine-readable RESULT line.
function report(summary, latency)
  local seconds = summary.duration / 1e6
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout
  io.write(string.format("RESULT requests=%d seconds=%.1f rps=%.0f p50_ms=%.3f p99_ms=%.3f"
      .. " p999_ms=%.3f max_ms=%.3f socket_errors=%d non_2xx=%d\n", summary.requests, seconds,
      summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      latency:percentile(99.9) / 1000, latency.max / 1000, errors, summary.errors.status))
end
