package dev.propensity.jobs.cli;

import com.typesafe.config.ConfigException;
import dev.propensity.common.Failures;
import dev.propensity.common.PropensityException;
import dev.propensity.common.config.ConfigLoader;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.metrics.JobMetrics;
import dev.propensity.common.spark.SparkSessions;
import dev.propensity.jobs.Job;
import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Command line of every job: {@code JOB [-c FILE | --env NAME] [key=value ...]}; FILE is a
 * local path, a file shipped with {@code spark-submit --files} or any Hadoop URI. For {@code sql}
 * the first free argument is the statements and {@code --csv} selects CSV output.
 *
 * <p>Exit codes: 0 success, 1 unexpected failure (a bug: the log has the trace), 2 bad config or
 * input, a Spark analysis error or a write conflict that outlived its retries (the message says
 * how to fix it), 3 significant drift with {@code propensity.drift.on-significant = fail}, 4 a
 * degraded model with {@code propensity.performance.on-degraded = fail} (3 and 4 after writing
 * the tables, so a scheduler can branch to retraining), 5 storage unavailable after the
 * configured retries (transient: retry later). Every failure ends with one {@code ERROR:} line
 * on stderr naming its root cause.
 */
public final class Main {

  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  /** A config override: a key (letters, digits, dots, dashes, quotes) then {@code =}. */
  private static final Pattern OVERRIDE = Pattern.compile("^[A-Za-z0-9_.\"-]+=[\\s\\S]*");

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
    String endpoint = "";
    JobConfig config = null;
    JobMetrics outcome = JobMetrics.start(args[0]);
    MDC.put("job", args[0]);
    try {
      Job job = Jobs.byName(args[0]);
      config = parse(job, args);
      endpoint = config.string("propensity.s3.endpoint");
      LOG.info("{}: config from {}", job.name(), config.sources());
      SparkSession spark = SparkSessions.getOrCreate(config);
      // the Spark UI groups every Spark job of this run under the job's name
      spark.sparkContext().setJobGroup(job.name(), job.name(), false);
      String summary = job.run(spark, config);
      if (!summary.isEmpty()) {
        System.out.println(summary);
      }
      return finish(outcome, config, 0);
    } catch (ConfigException e) {
      System.err.println("ERROR: invalid config: " + e.getMessage());
      return finish(outcome, config, PropensityException.EXIT_USER_ERROR);
    } catch (Throwable t) { // Spark and Scala throw checked exceptions undeclared
      if (t instanceof VirtualMachineError && !(t instanceof OutOfMemoryError)) {
        throw (VirtualMachineError) t;
      }
      Optional<PropensityException> known = Failures.classify(t, endpoint);
      if (known.isPresent()) {
        if (known.get() != t) {
          LOG.debug("{} failed", args[0], t);
        }
        if (known.get().isSignal()) {
          // an outcome for the scheduler (e.g. the retraining policy), not a failure
          System.out.println(known.get().getMessage());
        } else {
          System.err.println("ERROR: " + known.get().getMessage());
        }
        return finish(outcome, config, known.get().exitCode());
      }
      LOG.error("{} failed", args[0], t);
      System.err.println("ERROR: unexpected failure in " + args[0] + ": "
          + Failures.oneLine(Failures.root(t)) + (Failures.location(t).isEmpty() ? ""
          : " (at " + Failures.location(t) + ")") + ". This is a bug: the log above has the"
          + " trace; please report it.");
      return finish(outcome, config, 1);
    } finally {
      MDC.remove("job");
      MDC.remove("run_id");
    }
  }

  /**
   * Pushes every job's outcome (exit code, success, duration, last success time) to the
   * Pushgateway when one is configured, failures included; never throws.
   */
  private static int finish(JobMetrics outcome, JobConfig config, int code) {
    if (config != null) {
      try {
        outcome.push(config, code);
      } catch (RuntimeException e) {
        LOG.warn("metrics: cannot push the outcome of {}: {}", outcome.job(), e.toString());
      }
    }
    return code;
  }

  static JobConfig parse(Job job, String[] args) {
    boolean sql = "sql".equals(job.name());
    String file = null;
    String statement = null;
    List<String> overrides = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "-c", "--config" -> file = requireValue(args, ++i, a);
        case "--env" -> file = new File(System.getenv().getOrDefault("PROPENSITY_CONF_DIR",
            "conf"), requireValue(args, ++i, a) + ".conf").getPath();
        case "--csv" -> overrides.add("sql.format=csv");
        case "--allow-writes" -> overrides.add("sql.allow-writes=true");
        default -> {
          if (sql && statement == null && !a.startsWith("-")) {
            // the first free argument of sql is the statement, never key=value
            statement = a;
          } else if (OVERRIDE.matcher(a).matches()) {
            overrides.add(a);
          } else {
            throw new PropensityException("Unknown argument '" + a + "'.\n" + usage());
          }
        }
      }
    }
    JobConfig config = ConfigLoader.loadFrom(file, overrides, System.getenv());
    return statement == null ? config : config.withLiteral("propensity.sql.query", statement);
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
        + "  sql:  sql \"STATEMENT; STATEMENT\" [--csv] [--allow-writes]\n"
        + "  keys: see reference.conf (the 'propensity.' prefix may be left off)";
  }
}
