package dev.propensity.serve;

import dev.propensity.common.PropensityException;
import dev.propensity.common.config.ConfigLoader;
import dev.propensity.common.config.JobConfig;
import java.io.File;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ./submit.sh serve [-c FILE] [key=value...]}: runs the real-time service until it is
 * stopped (SIGTERM or Ctrl-C shut it down gracefully). Plain {@code java}, no Spark.
 */
public final class ServeMain {

  private static final Logger LOG = LoggerFactory.getLogger(ServeMain.class);

  private ServeMain() {}

  public static void main(String[] args) throws Exception {
    File file = null;
    List<String> overrides = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      if ((args[i].equals("-c") || args[i].equals("--conf")) && i + 1 < args.length) {
        file = new File(args[++i]);
      } else if (args[i].equals("--env") && i + 1 < args.length) {
        file = new File("conf/" + args[++i] + ".conf");
      } else {
        overrides.add(args[i]);
      }
    }
    ServeServer server;
    try {
      JobConfig config = ConfigLoader.load(file, overrides, System.getenv());
      server = new ServeServer(ServeSettings.fromConfig(config, System.getenv()));
    } catch (PropensityException e) {
      LOG.error("serve: {}", e.getMessage());
      System.exit(e.exitCode());
      return;
    }
    server.start();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        server.close();
      } catch (Exception e) {
        LOG.error("serve: shutdown failed: {}", e.toString());
      }
    }, "serve-shutdown"));
    server.join();
  }
}
