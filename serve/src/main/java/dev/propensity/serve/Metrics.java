package dev.propensity.serve;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * The service's metrics in the Prometheus text exposition format (version 0.0.4): request
 * counts and latency histograms by endpoint and status, plus gauges the service registers (table
 * version, model run, reloads). Lock-free on the request path.
 */
final class Metrics {

  /** Latency bucket upper bounds, in seconds. */
  static final double[] BUCKETS = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05, 0.1, 0.25, 0.5, 1, 2.5};

  private record Key(String endpoint, int status) {}

  private static final class Series {
    final LongAdder[] buckets = new LongAdder[BUCKETS.length];
    final LongAdder count = new LongAdder();
    final LongAdder micros = new LongAdder();

    Series() {
      for (int i = 0; i < buckets.length; i++) {
        buckets[i] = new LongAdder();
      }
    }
  }

  private final Map<Key, Series> requests = new ConcurrentHashMap<>();
  private final Map<String, Supplier<String>> gauges = new ConcurrentHashMap<>();
  final LongAdder reloads = new LongAdder();
  final LongAdder reloadFailures = new LongAdder();

  /** Records one request. */
  void request(String endpoint, int status, long nanos) {
    Series s = requests.computeIfAbsent(new Key(endpoint, status), k -> new Series());
    double seconds = nanos / 1e9;
    for (int i = 0; i < BUCKETS.length; i++) {
      if (seconds <= BUCKETS[i]) {
        s.buckets[i].increment();
        break;
      }
    }
    s.count.increment();
    s.micros.add(nanos / 1000);
  }

  /** Registers a gauge: {@code text} gives its sample lines (without HELP and TYPE). */
  void gauge(String name, String help, Supplier<String> text) {
    gauges.put(name, () -> "# HELP " + name + " " + help + "\n# TYPE " + name + " gauge\n"
        + text.get());
  }

  /** @return every metric in the text format */
  String render() {
    StringBuilder out = new StringBuilder();
    out.append("# HELP propensity_serve_requests_total Requests by endpoint and status\n")
        .append("# TYPE propensity_serve_requests_total counter\n");
    Map<Key, Series> sorted = new TreeMap<>((a, b) -> a.endpoint().equals(b.endpoint())
        ? Integer.compare(a.status(), b.status()) : a.endpoint().compareTo(b.endpoint()));
    sorted.putAll(requests);
    sorted.forEach((k, s) -> out.append("propensity_serve_requests_total").append(labels(k))
        .append(' ').append(s.count.sum()).append('\n'));
    out.append("# HELP propensity_serve_request_seconds Request latency by endpoint and status\n")
        .append("# TYPE propensity_serve_request_seconds histogram\n");
    sorted.forEach((k, s) -> {
      long cumulative = 0;
      String base = "endpoint=\"" + k.endpoint() + "\",status=\"" + k.status() + "\"";
      for (int i = 0; i < BUCKETS.length; i++) {
        cumulative += s.buckets[i].sum();
        out.append("propensity_serve_request_seconds_bucket{").append(base).append(",le=\"")
            .append(format(BUCKETS[i])).append("\"} ").append(cumulative).append('\n');
      }
      long count = s.count.sum();
      out.append("propensity_serve_request_seconds_bucket{").append(base)
          .append(",le=\"+Inf\"} ").append(count).append('\n');
      out.append("propensity_serve_request_seconds_sum{").append(base).append("} ")
          .append(format(s.micros.sum() / 1e6)).append('\n');
      out.append("propensity_serve_request_seconds_count{").append(base).append("} ")
          .append(count).append('\n');
    });
    out.append("# HELP propensity_serve_reloads_total Completed reloads of the table or model\n")
        .append("# TYPE propensity_serve_reloads_total counter\n")
        .append("propensity_serve_reloads_total ").append(reloads.sum()).append('\n');
    out.append("# HELP propensity_serve_reload_failures_total Failed reloads (the old state"
        + " stays)\n# TYPE propensity_serve_reload_failures_total counter\n")
        .append("propensity_serve_reload_failures_total ").append(reloadFailures.sum())
        .append('\n');
    new TreeMap<>(gauges).values().forEach(g -> out.append(g.get()));
    return out.toString();
  }

  private static String labels(Key k) {
    return "{endpoint=\"" + k.endpoint() + "\",status=\"" + k.status() + "\"}";
  }

  static String format(double v) {
    return String.format(Locale.ROOT, "%s", v);
  }

  /** @return a label value escaped for the text format */
  static String escape(String v) {
    return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }
}
