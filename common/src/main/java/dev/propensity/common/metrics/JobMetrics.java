package dev.propensity.common.metrics;

import dev.propensity.common.Secrets;
import dev.propensity.common.config.JobConfig;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gauges one job run reports, pushed to a Prometheus Pushgateway when
 * {@code propensity.metrics.pushgateway-url} is set.
 *
 * <p>A push is one HTTP {@code POST} of the text exposition format (version 0.0.4) to
 * {@code <url>/metrics/job/<job>/pipeline/<pipeline>[/environment/<environment>]}: the grouping
 * key is the job plus {@code propensity.metrics.pipeline} (and {@code environment} when set), so
 * two pipelines never overwrite each other, and no label carries a per-run value (a run id or
 * snapshot date would make a new series every run). {@code POST} replaces the metrics of the
 * same names in that group and keeps the others, so {@code
 * propensity_job_last_success_timestamp_seconds} survives a failed run. Every push adds {@code
 * propensity_job_duration_seconds}, {@code propensity_job_exit_code}, {@code
 * propensity_job_success} and {@code propensity_job_last_run_timestamp_seconds}, and on success
 * {@code propensity_job_last_success_timestamp_seconds}. Plain {@code java.net.http}: the format
 * is a few lines of text, no client library needed.
 *
 * <p>Monitoring must not break the pipeline: a failed push is logged as a warning, never thrown.
 */
public final class JobMetrics {

  private static final Logger LOG = LoggerFactory.getLogger(JobMetrics.class);
  private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
  private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
  /** Labels of the grouping key, and labels whose values change every run. */
  private static final java.util.Set<String> RESERVED = java.util.Set.of("job", "pipeline",
      "environment", "run_id", "snapshot_date", "instance");

  /** One gauge sample: name, help text, labels and value. */
  public record Sample(String name, String help, Map<String, String> labels, double value) {
    public Sample {
      if (!METRIC_NAME.matcher(name).matches()) {
        throw new IllegalArgumentException("Invalid metric name '" + name + "'");
      }
      labels = new TreeMap<>(labels);
      for (String l : labels.keySet()) {
        if (!LABEL_NAME.matcher(l).matches() || l.startsWith("__") || RESERVED.contains(l)) {
          throw new IllegalArgumentException("Invalid label name '" + l + "' on " + name);
        }
      }
    }
  }

  private final String job;
  private final long startNanos;
  private final List<Sample> samples = new ArrayList<>();

  private JobMetrics(String job) {
    this.job = job;
    this.startNanos = System.nanoTime();
  }

  /**
   * @param job the job name, the {@code job} label of every sample
   * @return an empty set of metrics whose duration clock starts now
   */
  public static JobMetrics start(String job) {
    return new JobMetrics(job);
  }

  /** @return the job name */
  public String job() {
    return job;
  }

  /**
   * Adds a gauge sample.
   *
   * @param labelPairs label name, value, name, value...
   * @return this
   */
  public JobMetrics gauge(String name, String help, double value, String... labelPairs) {
    if (labelPairs.length % 2 != 0) {
      throw new IllegalArgumentException("Labels of " + name + " must come in name/value pairs");
    }
    Map<String, String> labels = new LinkedHashMap<>();
    for (int i = 0; i < labelPairs.length; i += 2) {
      labels.put(labelPairs[i], labelPairs[i + 1]);
    }
    samples.add(new Sample(name, help, labels, value));
    return this;
  }

  /** @return the samples added so far (without the ones {@link #push} adds) */
  public List<Sample> samples() {
    return List.copyOf(samples);
  }

  /**
   * Pushes the samples plus duration, exit code and timestamp when a gateway is configured.
   *
   * @param config reads {@code propensity.metrics.pushgateway-url} and {@code timeout-seconds}
   * @param exitCode the exit code the job ends with (0 for success)
   * @return whether a push was made and accepted
   */
  public boolean push(JobConfig config, int exitCode) {
    String url = config.string("propensity.metrics.pushgateway-url").trim();
    if (url.isEmpty()) {
      return false;
    }
    double now = System.currentTimeMillis() / 1000.0;
    List<Sample> all = new ArrayList<>(samples);
    all.add(new Sample("propensity_job_duration_seconds", "Wall time of the job run", Map.of(),
        (System.nanoTime() - startNanos) / 1e9));
    all.add(new Sample("propensity_job_exit_code", "Exit code of the job run (0 = success)",
        Map.of(), exitCode));
    all.add(new Sample("propensity_job_success", "1 when the job run succeeded, else 0",
        Map.of(), exitCode == 0 ? 1 : 0));
    all.add(new Sample("propensity_job_last_run_timestamp_seconds",
        "Unix time the job run ended", Map.of(), now));
    if (exitCode == 0) {
      all.add(new Sample("propensity_job_last_success_timestamp_seconds",
          "Unix time the job last ended successfully", Map.of(), now));
    }
    URI target = URI.create((url.endsWith("/") ? url.substring(0, url.length() - 1) : url)
        + groupingPath(config));
    Duration timeout = Duration.ofSeconds(config.integer("propensity.metrics.timeout-seconds"));
    try {
      HttpClient client = HttpClient.newBuilder().connectTimeout(timeout).build();
      HttpRequest request = HttpRequest.newBuilder(target).timeout(timeout)
          .header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
          .POST(HttpRequest.BodyPublishers.ofString(exposition(all), StandardCharsets.UTF_8))
          .build();
      HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() / 100 != 2) {
        LOG.warn("metrics: the Pushgateway at {} answered {}: {} (propensity.metrics"
            + ".pushgateway-url)", safe(target), response.statusCode(), response.body());
        return false;
      }
      LOG.info("metrics: pushed {} samples of job {} to {}", all.size(), job, safe(target));
      return true;
    } catch (IOException | IllegalArgumentException e) {
      LOG.warn("metrics: cannot push to the Pushgateway at {} ({}); check"
          + " propensity.metrics.pushgateway-url", safe(target),
          Secrets.redactValue(e.toString()));
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * @return the grouping key as a URL path: {@code /metrics/job/<job>/pipeline/<pipeline>} and
   *     {@code /environment/<environment>} when {@code propensity.metrics.environment} is set
   */
  String groupingPath(JobConfig config) {
    StringBuilder path = new StringBuilder("/metrics/job/").append(encode(job));
    String pipeline = config.string("propensity.metrics.pipeline").trim();
    path.append("/pipeline/").append(encode(pipeline.isEmpty() ? "default" : pipeline));
    String environment = config.string("propensity.metrics.environment").trim();
    if (!environment.isEmpty()) {
      path.append("/environment/").append(encode(environment));
    }
    return path.toString();
  }

  private static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** @return the samples in the Prometheus text format, one HELP/TYPE header per name */
  public static String exposition(List<Sample> samples) {
    Map<String, List<Sample>> byName = new LinkedHashMap<>();
    samples.forEach(s -> byName.computeIfAbsent(s.name(), k -> new ArrayList<>()).add(s));
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, List<Sample>> e : byName.entrySet()) {
      String help = e.getValue().get(0).help().replace("\\", "\\\\").replace("\n", "\\n");
      sb.append("# HELP ").append(e.getKey()).append(' ').append(help).append('\n');
      sb.append("# TYPE ").append(e.getKey()).append(" gauge\n");
      for (Sample s : e.getValue()) {
        sb.append(s.name());
        if (!s.labels().isEmpty()) {
          List<String> pairs = new ArrayList<>();
          s.labels().forEach((k, v) -> pairs.add(k + "=\"" + escape(v) + "\""));
          sb.append('{').append(String.join(",", pairs)).append('}');
        }
        sb.append(' ').append(format(s.value())).append('\n');
      }
    }
    return sb.toString();
  }

  private static String escape(String v) {
    return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }

  private static String format(double v) {
    if (Double.isNaN(v)) {
      return "NaN";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "+Inf" : "-Inf";
    }
    return Double.toString(v);
  }

  /** The gateway URL as logged: user info and secret query parameters redacted. */
  private static String safe(URI target) {
    return Secrets.redactValue(target.toString());
  }
}
