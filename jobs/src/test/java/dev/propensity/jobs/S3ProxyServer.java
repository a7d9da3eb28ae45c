package dev.propensity.jobs;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

/**
 * A real S3-compatible server (S3Proxy, filesystem backend) in its own process on 127.0.0.1,
 * started from the jar Maven copies to {@code target/test-servers}. The identity and secret are
 * the AWS_* variables surefire sets, so s3a finds them through its default provider chain.
 */
public final class S3ProxyServer implements AutoCloseable {

  private Process process;
  private final int port;
  private final Path dataDir;
  private final Path props;

  private S3ProxyServer(Process process, int port, Path dataDir, Path props) {
    this.process = process;
    this.port = port;
    this.dataDir = dataDir;
    this.props = props;
  }

  /** Starts the server with the given buckets and waits until it answers HTTP. */
  public static S3ProxyServer start(String... buckets) throws IOException, InterruptedException {
    String jar = System.getProperty("s3proxy.jar", "target/test-servers/s3proxy.jar");
    if (!new File(jar).isFile()) {
      throw new IllegalStateException("S3Proxy jar not found at " + jar
          + ": run the tests through Maven (mvn test) so it is copied in");
    }
    int port = freePort();
    Path dir = Files.createTempDirectory("s3proxy");
    Path data = Files.createDirectories(dir.resolve("data"));
    for (String b : buckets) {
      Files.createDirectories(data.resolve(b));
    }
    Path props = dir.resolve("s3proxy.properties");
    Files.writeString(props, String.join("\n",
        "s3proxy.endpoint=http://127.0.0.1:" + port,
        "s3proxy.authorization=aws-v2-or-v4",
        "s3proxy.identity=" + env("AWS_ACCESS_KEY_ID"),
        "s3proxy.credential=" + env("AWS_SECRET_ACCESS_KEY"),
        "jclouds.provider=filesystem",
        "jclouds.filesystem.basedir=" + data,
        "jclouds.identity=ignored",
        "jclouds.credential=ignored", ""));
    S3ProxyServer server = new S3ProxyServer(launch(props), port, data, props);
    server.awaitUp(Duration.ofSeconds(60), dir.resolve("s3proxy.log"));
    return server;
  }

  private static Process launch(Path props) throws IOException {
    String jar = System.getProperty("s3proxy.jar", "target/test-servers/s3proxy.jar");
    return new ProcessBuilder(javaBin(), "-Xmx512m", "-jar", jar, "--properties",
        props.toString())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(
            props.resolveSibling("s3proxy.log").toFile()))
        .start();
  }

  /** Starts the stopped server again on the same port and data (an outage ends). */
  public void restart() throws IOException, InterruptedException {
    close();
    process = launch(props);
    awaitUp(Duration.ofSeconds(60), props.resolveSibling("s3proxy.log"));
  }

  /** @return the endpoint URL */
  public String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  /** @return the folder holding the buckets (to check what landed on "S3") */
  public Path dataDir() {
    return dataDir;
  }

  private void awaitUp(Duration timeout, Path log) throws InterruptedException, IOException {
    Instant end = Instant.now().plus(timeout);
    while (Instant.now().isBefore(end)) {
      if (!process.isAlive()) {
        throw new IllegalStateException("S3Proxy exited: " + Files.readString(log));
      }
      try {
        HttpURLConnection c = (HttpURLConnection) URI.create(endpoint() + "/").toURL()
            .openConnection();
        c.setConnectTimeout(500);
        c.getResponseCode();
        return;
      } catch (IOException notYet) {
        Thread.sleep(200);
      }
    }
    close();
    throw new IllegalStateException("S3Proxy did not start in " + timeout + ": "
        + Files.readString(log));
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

  private static String env(String name) {
    String v = System.getenv(name);
    if (v == null) {
      throw new IllegalStateException(name + " is not set: surefire sets it (see jobs/pom.xml)");
    }
    return v;
  }

  private static String javaBin() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
