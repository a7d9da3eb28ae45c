package dev.propensity.common.psi;

import java.util.List;

/**
 * The baseline distribution of one column, as stored in a run folder: bucket edges (numeric) or
 * categories (categorical) and the baseline count per bucket. Bucket order: for numeric columns
 * {@code edges.size() + 1} value buckets then a null bucket; for categorical columns one bucket
 * per category, then an "other" bucket (values unseen in the baseline), then a null bucket.
 *
 * @param column the column name
 * @param kind {@code numeric} or {@code categorical}
 * @param edges sorted interior edges (numeric), empty otherwise
 * @param categories baseline categories (categorical), empty otherwise
 * @param counts baseline row count per bucket, in the bucket order above
 */
public record PsiBaseline(
    String column, String kind, List<Double> edges, List<String> categories, List<Long> counts) {

  public static final String NUMERIC = "numeric";
  public static final String CATEGORICAL = "categorical";

  /** @return the number of buckets, including the null (and "other") buckets */
  public int buckets() {
    return NUMERIC.equals(kind) ? edges.size() + 2 : categories.size() + 2;
  }
}
