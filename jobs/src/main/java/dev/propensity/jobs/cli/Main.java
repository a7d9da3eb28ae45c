package dev.propensity.jobs.cli;

import com.typesafe.config.ConfigException;
import dev.propensity.common.PropensityException;
import dev.propensity.common.config.ConfigLoader;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.spark.SparkSessions;
import dev.propensity.jobs.Job;
import java.io.File;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Command line of every job: {@code JOB [-c FILE | --env NAME] [key=value ...]}. For {@code sql}
 * the first free argument is the statements and {@code --csv} selects CSV output.
 *
 * <p>Exit codes: 0 success, 1 unexpected failure, 2 bad config or input (the message says how to
 * fix it), 3 significant drift with {@code propensity.drift.on-significant = fail}, 4 a degraded
 * model with {@code propensity.performance.on-degraded = fail} (3 and 4 after writing the
 * tables, so a scheduler can branch to retraining).
 */
public final class Main {

  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  private Main() {}

  public static void main(String[] args) {
    int code = run(args);
    if (code != 0) {
      System.exit(code);
    }
  }

  /** Parses, runs and returns the exit code (no System.exit, so tests can call it). */
  public static int run(String[] args) {
    if (args.length == 0 || "--help".equals(args[0]) || "-h".equals(args[0])) {
      System.out.println(usage());
      return args.length == 0 ? PropensityException.EXIT_USER_ERROR : 0;
    }
    SparkSession spark = null;
    try {
      Job job = Jobs.byName(args[0]);
      JobConfig config = parse(job, args);
      LOG.info("{}: config from {}", job.name(), config.sources());
      spark = SparkSessions.getOrCreate(config);
      String summary = job.run(spark, config);
      if (!summary.isEmpty()) {
        System.out.println(summary);
      }
      return 0;
    } catch (PropensityException e) {
      if (e.isSignal()) {
        System.out.println(e.getMessage());
      } else {
        System.err.println("ERROR: " + e.getMessage());
      }
      return e.exitCode();
    } catch (ConfigException e) {
      System.err.println("ERROR: invalid config: " + e.getMessage());
      return PropensityException.EXIT_USER_ERROR;
    } catch (RuntimeException e) {
      LOG.error("{} failed", args[0], e);
      return 1;
    }
  }

  static JobConfig parse(Job job, String[] args) {
    File file = null;
    List<String> overrides = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "-c", "--config" -> file = new File(requireValue(args, ++i, a));
        case "--env" -> file = new File(System.getenv().getOrDefault("PROPENSITY_CONF_DIR",
            "conf"), requireValue(args, ++i, a) + ".conf");
        case "--csv" -> overrides.add("sql.format=csv");
        default -> {
          if (a.contains("=") && !a.startsWith("-") && !("sql".equals(job.name())
              && a.trim().matches("(?is)^(select|with|show|describe|desc|explain)\\b.*"))) {
            overrides.add(a);
          } else if ("sql".equals(job.name()) && !a.startsWith("-")) {
            overrides.add("sql.query=" + quote(a));
          } else {
            throw new PropensityException("Unknown argument '" + a + "'.\n" + usage());
          }
        }
      }
    }
    return ConfigLoader.load(file, overrides, System.getenv());
  }

  private static String quote(String s) {
    return "\"\"\"" + s + "\"\"\"";
  }

  private static String requireValue(String[] args, int i, String flag) {
    if (i >= args.length) {
      throw new PropensityException("Missing value after " + flag + ".\n" + usage());
    }
    return args[i];
  }

  static String usage() {
    return "Usage: JOB [-c FILE | --env NAME] [key=value ...]\n"
        + "  jobs: " + String.join(", ", Jobs.all().keySet()) + "\n"
        + "  sql:  sql \"STATEMENT; STATEMENT\" [--csv]\n"
        + "  keys: see reference.conf (the 'propensity.' prefix may be left off)";
  }
}
