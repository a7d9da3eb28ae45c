package dev.propensity.jobs;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

/**
 * A real Prometheus Pushgateway (Debian's {@code prometheus-pushgateway}) in its own process on
 * 127.0.0.1, for the metrics tests. {@code ./verify.sh} installs the package; without it the test
 * fails and says so.
 */
public final class PushgatewayServer implements AutoCloseable {

  private static final String BINARY = "/usr/bin/prometheus-pushgateway";

  private final Process process;
  private final int port;

  private PushgatewayServer(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  /** Starts the gateway on a free loopback port and waits until it answers. */
  public static PushgatewayServer start() throws IOException, InterruptedException {
    String binary = System.getProperty("pushgateway.bin", BINARY);
    if (!new File(binary).canExecute()) {
      throw new IllegalStateException("The Prometheus Pushgateway binary " + binary + " is"
          + " missing: ./verify.sh installs it (apt-get install -y prometheus-pushgateway), or set"
          + " -Dpushgateway.bin=PATH");
    }
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path log = Files.createTempFile("pushgateway", ".log");
    // Debian's build persists to /var/lib/prometheus/pushgateway.data by default, which every
    // gateway on the machine shares: each test gateway gets its own file
    Path data = Files.createTempFile("pushgateway", ".data");
    Files.delete(data);
    Process p = new ProcessBuilder(binary, "--web.listen-address=127.0.0.1:" + port,
            "--persistence.file=" + data)
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    PushgatewayServer server = new PushgatewayServer(p, port);
    Instant end = Instant.now().plusSeconds(30);
    while (Instant.now().isBefore(end)) {
      if (!p.isAlive()) {
        throw new IllegalStateException("Pushgateway exited: " + Files.readString(log));
      }
      try {
        server.metrics();
        return server;
      } catch (IOException notYet) {
        Thread.sleep(200);
      }
    }
    server.close();
    throw new IllegalStateException("Pushgateway did not start in 30 s: " + Files.readString(log));
  }

  /** @return the gateway's URL */
  public String url() {
    return "http://127.0.0.1:" + port;
  }

  /** @return what the gateway exposes at {@code /metrics} */
  public String metrics() throws IOException, InterruptedException {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create(url() + "/metrics")).timeout(Duration.ofSeconds(5)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException("GET /metrics answered " + r.statusCode());
    }
    return r.body();
  }

  @Override
  public void close() {
    process.destroy();
    try {
      process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
