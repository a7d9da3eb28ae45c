package dev.propensity.common.schema;

/**
 * One feature of the catalogue: its column name, family, kind and a one-line description.
 *
 * @param name the column name in the {@code features} table
 * @param family the family that computes it (and switches it on or off)
 * @param kind numeric (a {@code double} column) or categorical (a {@code string} column)
 * @param description what the value means, in one line (the README lists them)
 */
public record FeatureSpec(String name, FeatureFamily family, Kind kind, String description) {

  /** How the model pipeline treats a feature. */
  public enum Kind {
    /** A {@code double} column; nulls are imputed by the model pipeline. */
    NUMERIC,
    /** A {@code string} column, one-hot encoded by the model pipeline; never null. */
    CATEGORICAL
  }

  /** @return the Spark SQL type of the column: {@code double} or {@code string} */
  public String sparkType() {
    return kind == Kind.NUMERIC ? "double" : "string";
  }
}
