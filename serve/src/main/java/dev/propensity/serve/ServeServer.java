package dev.propensity.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real-time service: Jetty on the configured address, the {@link Api} endpoints, the {@link
 * ServingState} and its background reloads. {@link #start} loads the table and the model before
 * it returns; {@link #close} stops taking connections, waits up to {@code
 * propensity.serve.stop-timeout} for requests in flight, then stops.
 */
public final class ServeServer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ServeServer.class);

  private final ServeSettings settings;
  private final Metrics metrics = new Metrics();
  private final ServingState state;
  private final Server server;
  private final ServerConnector connector;

  /** @param settings the validated settings */
  public ServeServer(ServeSettings settings) {
    this.settings = settings;
    ObjectMapper json = new ObjectMapper();
    this.state = new ServingState(settings, metrics);
    QueuedThreadPool pool = new QueuedThreadPool(settings.threads(), Math.min(4,
        settings.threads()));
    pool.setName("serve");
    this.server = new Server(pool);
    this.connector = new ServerConnector(server);
    connector.setHost(settings.host());
    connector.setPort(settings.port());
    server.addConnector(connector);
    GracefulHandler graceful = new GracefulHandler();
    graceful.setHandler(new Api(settings, state, metrics, json));
    server.setHandler(graceful);
    server.setStopTimeout(settings.stopTimeout().toMillis());
    metrics.gauge("propensity_serve_table_version", "Delta version of the lookup table served",
        () -> "propensity_serve_table_version " + state.get().lookup()
            .map(l -> l.version()).orElse(-1L) + "\n");
    metrics.gauge("propensity_serve_customers", "Customers in the lookup table served",
        () -> "propensity_serve_customers " + state.get().lookup().map(LookupTable::size)
            .orElse(0) + "\n");
    metrics.gauge("propensity_serve_model_info", "The champion run live scoring uses (1)",
        () -> "propensity_serve_model_info{run_id=\"" + Metrics.escape(state.get().model()
            .runId().orElse("")) + "\",live_scoring=\"" + state.get().model().scorer().isPresent()
            + "\"} 1\n");
    metrics.gauge("propensity_serve_ready", "1 when the table and the model are loaded",
        () -> "propensity_serve_ready " + (state.get().ready() ? 1 : 0) + "\n");
  }

  /**
   * Starts listening (alive, not ready: {@code GET /health} answers, lookups and scores are 503
   * until loaded), loads the table and the champion, then starts the background reloads.
   *
   * @return this server, loaded (or unready when the first load failed)
   */
  public ServeServer start() throws Exception {
    long t0 = System.nanoTime();
    server.start();
    try {
      state.reload(true);
    } catch (RuntimeException e) {
      LOG.error("serve: initial load failed; starting unready, reloads will retry: {}",
          e.toString());
    }
    state.startBackgroundReload();
    LOG.info("serve: listening on http://{}:{} ({}), ready={} after {} s", settings.host(),
        port(), settings, state.get().ready(), String.format("%.2f",
            (System.nanoTime() - t0) / 1e9));
    return this;
  }

  /** @return the port it listens on (the one chosen when the config says 0) */
  public int port() {
    return connector.getLocalPort();
  }

  /** Blocks until the server stops. */
  public void join() throws InterruptedException {
    server.join();
  }

  @Override
  public void close() throws Exception {
    LOG.info("serve: shutting down (waiting up to {} for requests in flight)",
        settings.stopTimeout());
    state.close();
    server.stop();
  }
}
