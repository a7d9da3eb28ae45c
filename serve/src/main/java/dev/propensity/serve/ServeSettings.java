package dev.propensity.serve;

import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import java.net.URI;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The service's settings ({@code propensity.serve.*} in {@code reference.conf}), validated at
 * start-up. The bearer token is read from the environment variable that {@code
 * propensity.serve.auth-token-env} names; it is never part of the config, never logged.
 *
 * @param warehouse the warehouse root as a URI ({@code file:/...})
 * @param host the bind address
 * @param port the port (0: any free port)
 * @param reloadInterval how often the table version and the champion are checked
 * @param batchLimit the most rows {@code POST /score/batch} takes
 * @param maxBodyBytes the largest request body
 * @param threads the server's worker threads
 * @param stopTimeout how long a shutdown waits for requests in flight
 * @param accessLog whether each request is logged (one JSON line, logger {@code
 *     dev.propensity.serve.access})
 * @param reasonCodes how many reason codes a live score carries ({@code
 *     propensity.explain.top-k}, as the batch scorer; 0: none)
 * @param skipUnsupportedVoters {@code propensity.explain.unsupported-voters = skip}
 * @param loadThreads how many threads load the lookup table at start-up (and while nothing is
 *     served)
 * @param reloadThreads how many threads reload it beside live traffic
 * @param token the bearer token for {@code /score} and {@code /admin}, if auth is on
 */
public record ServeSettings(String warehouse, String host, int port, Duration reloadInterval,
    int batchLimit, long maxBodyBytes, int threads, Duration stopTimeout, boolean accessLog,
    int reasonCodes, boolean skipUnsupportedVoters, int loadThreads, int reloadThreads, Optional<String> token) {

  /** The config section. */
  public static final String PREFIX = "propensity.serve.";

  /** Never printed: the token is redacted. */
  @Override
  public String toString() {
    return String.format("ServeSettings[warehouse=%s, host=%s, port=%d, reload-interval=%s,"
        + " batch-limit=%d, max-body-bytes=%d, threads=%d, stop-timeout=%s, access-log=%s,"
        + " load-threads=%d, reload-threads=%d, auth=%s]", warehouse, host, port, reloadInterval,
        batchLimit, maxBodyBytes, threads, stopTimeout, accessLog, loadThreads, reloadThreads,
        token.isPresent() ? "on" : "off");
  }

  /**
   * @param config the loaded config
   * @param env the process environment, for the token
   * @return the validated settings
   * @throws dev.propensity.common.PropensityException naming the key of an invalid value
   */
  public static ServeSettings fromConfig(JobConfig config, Map<String, String> env) {
    int port = config.integer(PREFIX + "port");
    if (port < 0 || port > 65535) {
      throw Errors.invalidConfig(PREFIX + "port", port, "a port from 0 to 65535 (0: any free)");
    }
    int batch = config.integer(PREFIX + "batch-limit");
    if (batch < 1) {
      throw Errors.invalidConfig(PREFIX + "batch-limit", batch, "at least 1");
    }
    long body = config.raw().getBytes(PREFIX + "max-body-size");
    if (body < 1024) {
      throw Errors.invalidConfig(PREFIX + "max-body-size", body, "at least 1k");
    }
    int threads = config.integer(PREFIX + "threads");
    if (threads < 4) {
      throw Errors.invalidConfig(PREFIX + "threads", threads, "at least 4");
    }
    Duration interval = config.raw().getDuration(PREFIX + "reload-interval");
    if (interval.isNegative()) {
      throw Errors.invalidConfig(PREFIX + "reload-interval", interval, "0 (off) or more");
    }
    int topK = config.integer("propensity.explain.top-k");
    if (topK < 0) {
      throw Errors.invalidConfig("propensity.explain.top-k", topK,
          "an integer of at least 0 (0: no reason codes)");
    }
    String unsupported = config.string("propensity.explain.unsupported-voters");
    if (!unsupported.equalsIgnoreCase("skip") && !unsupported.equalsIgnoreCase("fail")) {
      throw Errors.invalidConfig("propensity.explain.unsupported-voters", unsupported,
          "skip or fail");
    }
    int loadThreads = config.integer(PREFIX + "load-threads");
    if (loadThreads < 0) {
      throw Errors.invalidConfig(PREFIX + "load-threads", loadThreads,
          "0 (one per core) or more");
    }
    int reloadThreads = config.integer(PREFIX + "reload-threads");
    if (reloadThreads < 1) {
      throw Errors.invalidConfig(PREFIX + "reload-threads", reloadThreads, "at least 1");
    }
    String tokenEnv = config.string(PREFIX + "auth-token-env");
    Optional<String> token = tokenEnv.isEmpty() ? Optional.empty()
        : Optional.ofNullable(env.get(tokenEnv)).filter(t -> !t.isBlank());
    return new ServeSettings(root(config.string("propensity.warehouse")),
        config.string(PREFIX + "host"), port, interval, batch, body, threads,
        config.raw().getDuration(PREFIX + "stop-timeout"), config.bool(PREFIX + "access-log"),
        topK, unsupported.equalsIgnoreCase("skip"),
        loadThreads == 0 ? Runtime.getRuntime().availableProcessors() : loadThreads,
        reloadThreads, token);
  }

  /** The warehouse root as a URI without a trailing slash, as {@code Warehouse} has it. */
  static String root(String root) {
    String r = root.endsWith("/") ? root.substring(0, root.length() - 1) : root;
    if (URI.create(r.replace(" ", "%20")).getScheme() != null && !r.matches("^[A-Za-z]:.*")) {
      return r;
    }
    return "file:" + Paths.get(r).toAbsolutePath().normalize();
  }

  /** @return the location of a table under the warehouse */
  public String table(String name) {
    return warehouse + "/" + name;
  }
}
