package dev.propensity.common.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import dev.propensity.common.Errors;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the config file of {@code -c}: a local path, a file that {@code spark-submit --files}
 * shipped into the driver's working directory (YARN and Kubernetes cluster mode), or a Hadoop
 * URI read through Hadoop's FileSystem, so an EMR step or a Kubernetes driver in cluster mode can
 * read its config from object storage.
 */
final class ConfigFiles {

  private static final Logger LOG = LoggerFactory.getLogger(ConfigFiles.class);
  /** A URI scheme of two or more characters (one letter is a Windows drive). */
  private static final Pattern SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]+:.*");

  private ConfigFiles() {}

  /** A config file found: how to parse it and where it came from. */
  record Found(String description, Config parsed) {
    Config parse() {
      return parsed;
    }
  }

  static Found find(String location) {
    if (SCHEME.matcher(location).matches()) {
      String safe = dev.propensity.common.Secrets.redactValue(location);
      return new Found(safe, parse(readHadoop(location), safe));
    }
    File file = new File(location);
    if (!file.isFile()) {
      File shipped = new File(file.getName());
      if (!file.getName().isEmpty() && shipped.isFile()) {
        LOG.info("config: {} is not on this machine; using {} from the working directory"
            + " (shipped with spark-submit --files)", location, shipped.getAbsolutePath());
        file = shipped;
      } else {
        throw Errors.invalidConfig("-c", location, "an existing config file (HOCON, e.g."
            + " conf/local.conf), a file shipped with spark-submit --files, or a Hadoop URI"
            + " such as s3a://bucket/conf/cluster.conf");
      }
    }
    try {
      return new Found(file.getPath(), ConfigFactory.parseFile(file,
          ConfigParseOptions.defaults().setAllowMissing(false)));
    } catch (ConfigException e) {
      throw Errors.invalidConfig("-c", location, "valid HOCON: " + e.getMessage());
    }
  }

  private static Config parse(String text, String origin) {
    try {
      return ConfigFactory.parseString(text,
          ConfigParseOptions.defaults().setOriginDescription(origin));
    } catch (ConfigException e) {
      throw Errors.invalidConfig("-c", origin, "valid HOCON: " + e.getMessage());
    }
  }

  /** Reads a file through Hadoop with the {@code spark.hadoop.*} settings spark-submit passed. */
  static String readHadoop(String location) {
    Configuration hadoop = new Configuration();
    for (Map.Entry<Object, Object> e : System.getProperties().entrySet()) {
      String key = String.valueOf(e.getKey());
      if (key.startsWith("spark.hadoop.")) {
        hadoop.set(key.substring("spark.hadoop.".length()), String.valueOf(e.getValue()));
      }
    }
    try {
      Path path = new Path(URI.create(location));
      FileSystem fs = path.getFileSystem(hadoop);
      try (InputStream in = fs.open(path)) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
    } catch (IOException | IllegalArgumentException e) {
      throw Errors.invalidConfig("-c", dev.propensity.common.Secrets.redactValue(location),
          "a config file readable through Hadoop's"
          + " FileSystem (" + e.getClass().getSimpleName() + ": " + e.getMessage() + "; for s3a"
          + " pass credentials and endpoint as spark.hadoop.fs.s3a.* or the AWS default chain)");
    }
  }
}
