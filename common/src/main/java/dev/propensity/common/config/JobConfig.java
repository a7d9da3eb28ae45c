package dev.propensity.common.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import dev.propensity.common.Errors;
import dev.propensity.common.Secrets;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * The resolved configuration a job runs with. Keys are full paths ({@code propensity.x.y}) so
 * error messages can name them; getters turn Typesafe errors into messages that name the key.
 */
public final class JobConfig {

  private final Config config;
  private final List<String> sources;

  JobConfig(Config config, List<String> sources) {
    this.config = config;
    this.sources = List.copyOf(sources);
  }

  /** @return defaults only (reference.conf), with no file, arguments or environment */
  public static JobConfig defaults() {
    return ConfigLoader.load(null, List.of(), Map.of());
  }

  /**
   * @param overrides {@code key=value} pairs applied over this config
   * @return a new config with the overrides applied and validated
   */
  public JobConfig with(String... overrides) {
    Config out = config;
    for (Map.Entry<String, String> e : ConfigLoader.parseOverrides(List.of(overrides)).entrySet()) {
      out = ConfigLoader.parseValue(e.getKey(), e.getValue()).withFallback(out);
    }
    out = out.resolve();
    ConfigLoader.rejectUnknownKeys(out);
    return new JobConfig(out, sources);
  }

  /**
   * @param key a full key ({@code propensity.sql.query})
   * @param value taken literally, never parsed as HOCON (SQL text, say)
   * @return a new config with that value, validated
   */
  public JobConfig withLiteral(String key, Object value) {
    Config out = config.withValue(key, ConfigValueFactory.fromAnyRef(value, "argument " + key));
    ConfigLoader.rejectUnknownKeys(out);
    return new JobConfig(out, sources);
  }

  /** @return the underlying Typesafe config (full paths) */
  public Config raw() {
    return config;
  }

  /** @return where the layers came from, lowest precedence first */
  public List<String> sources() {
    return sources;
  }

  public String string(String key) {
    try {
      return config.getString(key);
    } catch (ConfigException e) {
      throw Errors.invalidConfig(key, describe(key), "a string");
    }
  }

  public int integer(String key) {
    try {
      return config.getInt(key);
    } catch (ConfigException e) {
      throw Errors.invalidConfig(key, describe(key), "an integer");
    }
  }

  public long longValue(String key) {
    try {
      return config.getLong(key);
    } catch (ConfigException e) {
      throw Errors.invalidConfig(key, describe(key), "an integer");
    }
  }

  public double number(String key) {
    try {
      return config.getDouble(key);
    } catch (ConfigException e) {
      throw Errors.invalidConfig(key, describe(key), "a number");
    }
  }

  public boolean bool(String key) {
    try {
      return config.getBoolean(key);
    } catch (ConfigException e) {
      throw Errors.invalidConfig(key, describe(key), "true or false");
    }
  }

  public List<String> strings(String key) {
    try {
      return config.getStringList(key);
    } catch (ConfigException e) {
      throw Errors.invalidConfig(key, describe(key), "a list of strings, e.g. [a, b]");
    }
  }

  public List<Double> numbers(String key) {
    try {
      return config.getDoubleList(key);
    } catch (ConfigException e) {
      throw Errors.invalidConfig(key, describe(key), "a list of numbers, e.g. [0.1, 1.0]");
    }
  }

  /** @return the value of {@code key}, which must be one of {@code allowed} */
  public String oneOf(String key, Collection<String> allowed) {
    String value = string(key);
    if (!allowed.contains(value)) {
      throw Errors.unknownName(key, value, allowed);
    }
    return value;
  }

  /** @return a flat map of a free-form section (e.g. Spark settings) */
  public Map<String, String> section(String key) {
    java.util.Map<String, String> out = new java.util.TreeMap<>();
    if (config.hasPath(key)) {
      for (Map.Entry<String, ConfigValue> e : config.getConfig(key).entrySet()) {
        out.put(e.getKey().replace("\"", ""), String.valueOf(e.getValue().unwrapped()));
      }
    }
    return out;
  }

  /**
   * @return the {@code propensity} tree as HOCON with secrets replaced by {@code "***"} (see
   *     {@link Secrets}: secret-looking names, URL user info, SAS signatures, private keys); safe
   *     to log and to write to a run folder
   */
  public String renderRedacted() {
    Config redacted = config.getConfig("propensity").atKey("propensity");
    for (Map.Entry<String, ConfigValue> e : redacted.entrySet()) {
      Object raw = e.getValue().unwrapped();
      Object safe;
      if (Secrets.isSecretKey(e.getKey())) {
        safe = Secrets.MASK;
      } else if (raw instanceof String s) {
        safe = Secrets.redactValue(s);
      } else if (raw instanceof List<?> list) {
        safe = list.stream().map(v -> v instanceof String s ? Secrets.redactValue(s) : v)
            .toList();
      } else {
        continue;
      }
      if (!safe.equals(raw)) {
        redacted = redacted.withValue(e.getKey(), ConfigValueFactory.fromAnyRef(safe));
      }
    }
    return redacted.root().render(
        ConfigRenderOptions.defaults().setOriginComments(false).setComments(false).setJson(false));
  }

  /** @return whether a key looks like it holds a secret (see {@link Secrets#isSecretKey}) */
  public static boolean isSecret(String key) {
    return Secrets.isSecretKey(key);
  }

  private String describe(String key) {
    return config.hasPathOrNull(key) && !config.getIsNull(key)
        ? String.valueOf(config.getValue(key).unwrapped()) : "(missing)";
  }
}
