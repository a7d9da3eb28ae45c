package dev.propensity.common.table;

import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How a table is stored: Delta (versioned, time travel), Parquet, or CSV, with reader options
 * (e.g. {@code header}, {@code delimiter}, {@code inferSchema} for CSV) passed to Spark as they
 * are.
 *
 * @param format {@code delta}, {@code parquet} or {@code csv}
 * @param options Spark reader options
 */
public record TableFormat(String format, Map<String, String> options) {

  /** The formats a table can have. */
  public static final List<String> FORMATS = List.of("delta", "parquet", "csv");

  /** A Delta table without options. */
  public static final TableFormat DELTA = new TableFormat("delta", Map.of());

  public TableFormat {
    options = Map.copyOf(options);
  }

  /**
   * Reads {@code <prefix>.format} and {@code <prefix>.options}.
   *
   * @param config the job config
   * @param prefix a full key such as {@code propensity.schema}
   * @return the format
   * @throws dev.propensity.common.PropensityException for an unknown format, listing the known
   */
  public static TableFormat fromConfig(JobConfig config, String prefix) {
    String format = config.oneOf(prefix + ".format", FORMATS);
    return new TableFormat(format.toLowerCase(Locale.ROOT), config.section(prefix + ".options"));
  }

  /** @return whether the table is a Delta table (has versions) */
  public boolean isDelta() {
    return "delta".equals(format);
  }

  /** @throws dev.propensity.common.PropensityException when the format is not known */
  void check(String key) {
    if (!FORMATS.contains(format)) {
      throw Errors.unknownName(key, format, FORMATS);
    }
  }
}
