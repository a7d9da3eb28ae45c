package dev.propensity.common.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValueFactory;
import dev.propensity.common.Errors;
import java.io.File;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Builds a {@link JobConfig} from the layers, lowest precedence first:
 *
 * <ol>
 *   <li>{@code reference.conf} on the classpath (every key and its default);
 *   <li>a config file ({@code -c FILE}, or {@code conf/<env>.conf} for {@code --env NAME});
 *   <li>{@code key=value} arguments ({@code propensity.} may be left off);
 *   <li>the documented environment variables in {@link #ENV_OVERRIDES}.
 * </ol>
 *
 * <p>Keys under {@code propensity.} that {@code reference.conf} does not define are rejected with
 * the list of known keys, before any Spark work. Free-form sections ({@link #OPEN_SECTIONS}) take
 * any key.
 */
public final class ConfigLoader {

  /** Environment variables that override a config key (highest precedence). */
  public static final Map<String, String> ENV_OVERRIDES = Map.of(
      "PROPENSITY_WAREHOUSE", "propensity.warehouse",
      "PROPENSITY_S3_ENDPOINT", "propensity.s3.endpoint",
      "PROPENSITY_SPARK_MASTER", "propensity.spark.master");

  /**
   * Sections whose keys are not fixed (Spark settings and reader options passed through as they
   * are, category aliases); {@code *} stands for one key segment.
   */
  public static final List<String> OPEN_SECTIONS = List.of("propensity.spark.conf",
      "propensity.schema.options", "propensity.features.input.*.options",
      "propensity.features.cleaning.category-aliases");

  private ConfigLoader() {}

  /**
   * Loads and validates the config.
   *
   * @param file a config file, or null for the defaults alone
   * @param overrides {@code key=value} pairs from the command line, in order
   * @param env the process environment (pass {@code System.getenv()})
   * @return the resolved config
   * @throws dev.propensity.common.PropensityException on an unknown key, a missing file or a
   *     malformed value
   */
  public static JobConfig load(File file, List<String> overrides, Map<String, String> env) {
    return loadFrom(file == null ? null : file.getPath(), overrides, env);
  }

  /**
   * Loads and validates the config, the file named by a path or any Hadoop URI.
   *
   * @param location a local path, a file shipped with {@code spark-submit --files} (found by
   *     its name in the working directory when the path does not exist), or a Hadoop URI
   *     ({@code s3a://}, {@code hdfs://}, {@code abfss://}, {@code file:}) read through Hadoop's
   *     FileSystem with the JVM's {@code spark.hadoop.*} settings; null for the defaults alone
   * @param overrides {@code key=value} pairs from the command line, in order
   * @param env the process environment (pass {@code System.getenv()})
   * @return the resolved config
   * @throws dev.propensity.common.PropensityException on an unknown key, a missing file or a
   *     malformed value
   */
  public static JobConfig loadFrom(String location, List<String> overrides,
      Map<String, String> env) {
    Config reference = ConfigFactory.parseResourcesAnySyntax("reference");
    Config layered = reference;
    List<String> sources = new ArrayList<>();
    sources.add("reference.conf");
    if (location != null) {
      ConfigFiles.Found found = ConfigFiles.find(location);
      layered = found.parse().withFallback(layered);
      sources.add(found.description());
    }
    Map<String, String> args = parseOverrides(overrides);
    for (Map.Entry<String, String> arg : args.entrySet()) {
      layered = parseValue(arg.getKey(), arg.getValue()).withFallback(layered);
    }
    if (!args.isEmpty()) {
      sources.add("arguments " + args.keySet());
    }
    for (Map.Entry<String, String> e : ENV_OVERRIDES.entrySet()) {
      String value = env.get(e.getKey());
      if (value != null && !value.isBlank()) {
        layered = ConfigFactory.empty()
            .withValue(e.getValue(), ConfigValueFactory.fromAnyRef(value, "env " + e.getKey()))
            .withFallback(layered);
        sources.add("env " + e.getKey());
      }
    }
    Config resolved;
    try {
      resolved = layered.resolve();
    } catch (ConfigException e) {
      throw Errors.invalidConfig("(substitution)", e.getMessage(), "a resolvable config");
    }
    rejectUnknownKeys(resolved);
    return new JobConfig(resolved, sources);
  }

  /** Parses {@code key=value} arguments; a key without {@code propensity.} gets it prepended. */
  static Map<String, String> parseOverrides(List<String> overrides) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String arg : overrides) {
      int eq = arg.indexOf('=');
      if (eq <= 0) {
        throw Errors.invalidConfig(arg, "", "key=value (for example generate.customers=1000)");
      }
      String key = arg.substring(0, eq).trim();
      out.put(key.startsWith("propensity.") ? key : "propensity." + key, arg.substring(eq + 1));
    }
    return out;
  }

  static Config parseValue(String key, String value) {
    // HOCON first so lists and numbers keep their type; anything else is a plain string
    try {
      Config parsed = ConfigFactory.parseString(key + " = " + value);
      if (parsed.hasPath(key)) {
        return parsed;
      }
    } catch (ConfigException ignored) {
      // not HOCON: fall through to a string value
    }
    return ConfigFactory.empty()
        .withValue(key, ConfigValueFactory.fromAnyRef(value, "argument " + key));
  }

  static void rejectUnknownKeys(Config resolved) {
    Set<String> known = leafKeys(ConfigFactory.parseResourcesAnySyntax("reference"));
    Set<String> unknown = new TreeSet<>();
    for (String key : leafKeys(resolved)) {
      if (!known.contains(key) && OPEN_SECTIONS.stream().noneMatch(s -> inSection(key, s))) {
        unknown.add(key);
      }
    }
    if (!unknown.isEmpty()) {
      Set<String> listed = new TreeSet<>(known);
      listed.addAll(OPEN_SECTIONS.stream().map(s -> s + ".*").toList());
      throw Errors.unknownConfigKeys(unknown, listed);
    }
  }

  /** @return whether {@code key} lies under {@code section}, where {@code *} is one segment */
  static boolean inSection(String key, String section) {
    String pattern = java.util.regex.Pattern.quote(section + ".").replace("*", "\\E[^.]+\\Q");
    return java.util.regex.Pattern.compile("^" + pattern + ".+").matcher(key).matches();
  }

  private static Set<String> leafKeys(Config config) {
    Set<String> keys = new TreeSet<>();
    if (config.hasPath("propensity")) {
      config.getConfig("propensity").entrySet().forEach(e -> keys.add("propensity." + e.getKey()));
    }
    return keys;
  }
}
