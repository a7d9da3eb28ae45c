package dev.propensity.common;

import dev.propensity.common.Secrets;
import java.util.Collection;
import java.util.stream.Collectors;

/**
 * The one place user-facing errors are built: each says what is wrong, names the table, column,
 * value or config key, and says how to fix it.
 */
public final class Errors {

  private Errors() {}

  /** A write that would change a published table's schema without being asked to. */
  public static PropensityException schemaChange(String table, String path, String changes) {
    return new PropensityException(String.format("Cannot write %s (%s): its schema would change"
        + " (%s). Published tables change schema only on purpose, since consumers read them by"
        + " column: if the change is intended, run this job once with"
        + " write.schema-change-tables=[%s] (propensity.write.schema-change-tables), and tell"
        + " the table's consumers.", table, path, changes, table));
  }

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

  public static PropensityException inputNotFound(String name, String path, String format,
      String hint) {
    return new PropensityException(
        String.format("Cannot read table '%s': no %s data at %s. %s", name, format, path, hint));
  }

  /** Feature columns of the catalogue that a table lacks: it was built with other families. */
  public static PropensityException missingCatalogFeatures(String table,
      Collection<String> columns, Collection<String> familyKeys) {
    return new PropensityException(
        String.format(
            "Invalid table %s: missing feature column(s) %s of the feature catalogue (switched on"
                + " by %s). The table was written with other feature families: re-run the"
                + " features job with this config, or switch those families off.",
            table, String.join(", ", columns), String.join(", ", familyKeys)));
  }

  /** A raw input table of the features job lacks columns it needs. */
  public static PropensityException missingRawColumns(String table, Collection<String> columns,
      Collection<String> present, String configKey) {
    return new PropensityException(
        String.format(
            "Invalid table %s: missing column(s) %s, which the features job needs (README"
                + " 'Tables'). Columns present: %s. Rename or add them in the table that '%s'"
                + " names.",
            table, String.join(", ", columns), String.join(", ", present), configKey));
  }

  /** A raw input column has a type the features job cannot use. */
  public static PropensityException wrongRawType(String table, String column, String actual,
      String expected, String configKey) {
    return new PropensityException(
        String.format(
            "Invalid table %s: column '%s' has type %s, expected %s (input '%s', README"
                + " 'Tables'). Cast the column in the table, or for CSV set %s.options.inferSchema"
                + " = true.",
            table, column, actual, expected, configKey, configKey));
  }

  /** The features table has other columns than a run would write (families switched). */
  public static PropensityException featureColumnsChanged(String table, Collection<String> gone,
      Collection<String> added) {
    return new PropensityException(
        String.format(
            "Cannot write features to %s: its columns differ from this run's (in the table only:"
                + " %s; new in this run: %s), because propensity.features.families (or the"
                + " feature catalogue) changed since it was written. Remove the table (the next"
                + " run rebuilds its snapshots) or switch the families back.",
            table, gone.isEmpty() ? "none" : String.join(", ", gone),
            added.isEmpty() ? "none" : String.join(", ", added)));
  }

  /** Rows that {@code propensity.features.on-bad-rows = fail} refuses. */
  public static PropensityException badInputRows(String table, String column, long rows,
      String problem) {
    return new PropensityException(
        String.format(
            "Invalid table %s: %d row(s) with %s in column '%s'. Repair the export, or set"
                + " propensity.features.on-bad-rows = drop to drop and count such rows.",
            table, rows, problem, column));
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

  public static PropensityException significantDrift(String runId, String snapshot,
      String features) {
    return new PropensityException(
        String.format(
            "Significant drift in snapshot %s against the training baseline of run %s: %s."
                + " The drift_report table has every feature's PSI. Retrain on recent data, or"
                + " set propensity.drift.on-significant=warn to only log it.",
            snapshot, runId, features),
        PropensityException.EXIT_DRIFT);
  }

  public static PropensityException degradedModel(String runId, String snapshots) {
    return new PropensityException(
        String.format(
            "Model run %s lost ranking quality on labelled snapshot(s): %s (relative AUC drop above"
                + " propensity.performance.max-auc-drop). The model_performance table has the"
                + " figures per bin. Retrain, or set propensity.performance.on-degraded=warn to"
                + " only log it.",
            runId, snapshots),
        PropensityException.EXIT_DEGRADED);
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

  /** A Delta write conflict that the bounded retries did not resolve (or that cannot be). */
  public static PropensityException writeConflict(Throwable conflict) {
    String other = Failures.conflictingOperation(conflict);
    return new PropensityException(
        String.format(
            "Cannot commit: another writer changed the same table at the same time (%s%s). Run"
                + " one writer per table at a time (README 'Reliability'); re-run this job when"
                + " the other one has finished. Retries: propensity.write.conflict-retries.",
            conflict.getClass().getSimpleName(),
            other.isEmpty() ? "" : ", the other writer's operation: " + other),
        PropensityException.EXIT_USER_ERROR, conflict);
  }

  /** Object storage or file system unreachable after the configured retries and timeouts. */
  public static PropensityException storageUnavailable(Throwable t, String endpoint) {
    String where = Failures.location(t);
    String target = !endpoint.isBlank() ? "endpoint " + Secrets.redactValue(endpoint)
        + (where.isEmpty() || where.startsWith("http") ? "" : ", path " + where)
        : where.isEmpty() ? "(no path in the error)" : where;
    return new PropensityException(
        String.format(
            "Storage unavailable at %s: %s. Nothing was published half-way; re-run when the"
                + " store is back (exit code %d means retry later). Retry and timeout policy:"
                + " propensity.s3.retry / propensity.s3.timeout.",
            target, Failures.oneLine(Failures.root(t)),
            PropensityException.EXIT_STORAGE_UNAVAILABLE),
        PropensityException.EXIT_STORAGE_UNAVAILABLE, t);
  }

  /** A Spark analysis or parse error in user SQL or a configured table: Spark's own message. */
  public static PropensityException analysis(Throwable t) {
    String msg = String.valueOf(t.getMessage()).strip();
    return new PropensityException(
        "Invalid SQL or table: " + Secrets.redactValue(msg), PropensityException.EXIT_USER_ERROR,
        t);
  }

  /** A statement {@code sql} refuses without {@code --allow-writes}. */
  public static PropensityException writeStatement(String statement) {
    String shown = statement.length() > 80 ? statement.substring(0, 77) + "..." : statement;
    return new PropensityException(
        String.format(
            "Refused: '%s' is not a query. ./submit.sh sql is read-only: it runs SELECT, WITH,"
                + " SHOW, DESCRIBE, EXPLAIN and CREATE TEMPORARY VIEW ... USING a file format;"
                + " pass --allow-writes to run statements that change tables.",
            shown.replaceAll("\\s+", " ")));
  }

  /** A CSV input that cannot be what the job needs (empty, wrong delimiter, header only). */
  public static PropensityException badCsv(String location, String problem, String fix,
      String configKey) {
    return new PropensityException(
        String.format("Invalid CSV input %s: %s. %s (input '%s', README 'Tables').", location,
            problem, fix, configKey));
  }
}
