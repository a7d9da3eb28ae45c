package dev.propensity.serve;

import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.jobs.cli.Jobs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One small real warehouse for all serve tests in the JVM: the pipeline's steps up to the lookup
 * table and its segments (generate, features, train logistic + GBT, select, bins with the serving
 * export, promote, score, segments) on 2,000 customers in local[2], built once per JVM (the
 * log says how long it took); then services started on loopback against it.
 */
final class ServeFixture extends SparkTestBase {

  private static ServeFixture instance;

  final Path warehouse;
  final JobConfig config;

  private ServeFixture(Path warehouse, JobConfig config) {
    this.warehouse = warehouse;
    this.config = config;
  }

  /** @return the shared fixture, built on first use */
  static synchronized ServeFixture get() {
    if (instance == null) {
      Path w = tempWarehouse("serve");
      JobConfig config = JobConfig.defaults().with("warehouse=" + w, "generate.customers=2000",
          "train.cv.num-folds=2", "train.candidates=[logistic, gbt]",
          "train.logistic.reg-param=[0.01]", "train.logistic.elastic-net-param=[0.0]",
          "train.logistic.max-iter=25", "train.gbt.max-depth=[3]", "train.gbt.max-iter=8",
          "report.on-complete=false");
      // the pipeline's steps up to the lookup table and its segments (no drift or report)
      long start = System.nanoTime();
      for (String step : List.of("generate", "features", "train", "select", "bins", "promote",
          "score", "segments")) {
        Jobs.byName(step).run(spark(), config);
      }
      org.slf4j.LoggerFactory.getLogger(ServeFixture.class).info(
          "serve fixture: warehouse built in {} s", (System.nanoTime() - start) / 1_000_000_000L);
      instance = new ServeFixture(w, config);
    }
    return instance;
  }

  /** Starts a service on a free loopback port; {@code env} may hold the token. */
  ServeServer start(Map<String, String> env, String... overrides) throws Exception {
    List<String> args = new ArrayList<>(List.of("serve.port=0", "serve.reload-interval=0s",
        "serve.host=127.0.0.1"));
    args.addAll(List.of(overrides));
    ServeSettings settings = ServeSettings.fromConfig(config.with(args.toArray(new String[0])),
        env);
    return new ServeServer(settings).start();
  }

  /** A response. */
  record Reply(int status, String body, HttpResponse<String> raw) {}

  /** A small HTTP client against one service. */
  static final class Client {
    private final HttpClient http = HttpClient.newBuilder()
        .connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;
    private final String token;

    Client(ServeServer server, String token) {
      this.base = "http://127.0.0.1:" + server.port();
      this.token = token;
    }

    Reply get(String path) {
      return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
    }

    Reply post(String path, String body) {
      return send(HttpRequest.newBuilder(URI.create(base + path))
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    private Reply send(HttpRequest.Builder request) {
      if (token != null) {
        request.header("Authorization", "Bearer " + token);
      }
      try {
        HttpResponse<String> r = http.send(request.timeout(Duration.ofSeconds(30)).build(),
            HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), r.body(), r);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }
}
