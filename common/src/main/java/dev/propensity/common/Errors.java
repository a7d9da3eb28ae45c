package dev.propensity.common;

import java.util.Collection;
import java.util.stream.Collectors;

/**
 * The one place user-facing errors are built: each says what is wrong, names the table, column,
 * value or config key, and says how to fix it.
 */
public final class Errors {

  private Errors() {}

  public static PropensityException unknownConfigKeys(
      Collection<String> unknown, Collection<String> known) {
    return new PropensityException(
        String.format(
            "Unknown config key(s): %s. Known keys under 'propensity.' are:%n  %s%n"
                + "Fix the spelling in your -c file or key=value arguments (see conf/reference.conf"
                + " in the README).",
            String.join(", ", unknown),
            known.stream().sorted().collect(Collectors.joining("\n  "))));
  }

  public static PropensityException invalidConfig(String key, Object value, String expected) {
    return new PropensityException(
        String.format(
            "Invalid config '%s' = '%s': expected %s. Set it in your -c file or pass %s=...",
            key, value, expected, key));
  }

  public static PropensityException unknownName(
      String key, String value, Collection<String> known) {
    return new PropensityException(
        String.format(
            "Unknown %s '%s'; known: %s (config key '%s')",
            key.substring(key.lastIndexOf('.') + 1), value, String.join(", ", known), key));
  }

  public static PropensityException missingColumns(
      String table, Collection<String> columns, Collection<String> present, String configKey) {
    return new PropensityException(
        String.format(
            "Invalid table %s: missing column(s) %s (named by config '%s'). Columns present: %s."
                + " Add the column(s) to the table or fix the config.",
            table, String.join(", ", columns), configKey, String.join(", ", present)));
  }

  public static PropensityException wrongType(
      String table, String column, String actual, String expected, String configKey) {
    return new PropensityException(
        String.format(
            "Invalid table %s: column '%s' has type %s, expected %s (listed in config '%s')."
                + " Cast the column or move it to the right list.",
            table, column, actual, expected, configKey));
  }

  public static PropensityException emptyTable(String table, String what) {
    return new PropensityException(
        String.format("Invalid table %s: it has no rows%s. Check the input path and filters.",
            table, what.isEmpty() ? "" : " " + what));
  }

  public static PropensityException badRows(String table, String column, long rows, String problem,
      String fix) {
    return new PropensityException(
        String.format("Invalid table %s: %d row(s) with %s in column '%s'. %s",
            table, rows, problem, column, fix));
  }

  public static PropensityException tableNotFound(String name, String path, String hint) {
    return new PropensityException(
        String.format("Cannot read table '%s': no Delta table at %s. %s", name, path, hint));
  }

  public static PropensityException runNotFound(String runId, String runsRoot,
      Collection<String> available) {
    return new PropensityException(
        String.format(
            "Cannot load model run '%s': no such run under %s. Available runs: %s."
                + " Set propensity.score.run to one of them or to 'latest'.",
            runId, runsRoot, available.isEmpty() ? "(none: run train first)"
                : String.join(", ", available)));
  }

  /**
   * A class too rare in one split for training, e.g. fewer positives than cross-validation folds.
   */
  public static PropensityException tooFewLabels(String table, String labelColumn, String split,
      String which, long count, long needed, String fix) {
    return new PropensityException(
        String.format("Invalid table %s: the %s split has %d %s label(s) in column '%s', needs at"
            + " least %d. %s", table, split, count, which, labelColumn, needed, fix));
  }

  /** A feature column that cannot inform a model: all null, or one value in every row. */
  public static PropensityException uselessFeature(String table, String column, String problem,
      String configKey) {
    return new PropensityException(
        String.format("Invalid table %s: feature column '%s' %s in the training rows (listed in"
            + " config '%s'). Remove it from the list, fix the table, or set"
            + " propensity.train.degenerate-features = drop to drop it with a warning.",
            table, column, problem, configKey));
  }
}
