package dev.propensity.jobs.model;


import static org.apache.spark.sql.functions.abs;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.explain.TreeEnsemble;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/** The soft-voting ensemble's contributions and the reason codes built from them. */
class ReasonCodesTest extends SparkTestBase {

  private static final Column SUM = expr(
      "aggregate(contributions, 0D, (acc, c) -> acc + c.contribution)");

  private static Ensemble ensemble(String... names) {
    List<EnsembleModel.Voter> voters = new java.util.ArrayList<>();
    for (int i = 0; i < names.length; i++) {
      // unequal weights: the vote is a weighted mean
      voters.add(new EnsembleModel.Voter(names[i], i == 2 ? 2.0 : 1.0,
          ExplainData.model(names[i])));
    }
    return Ensemble.of(voters);
  }

  private static Dataset<Row> scored(Ensemble e) {
    return e.score(ExplainData.rows().select("customer_id", "recency", "spend", "visits",
        "region", "segment", "label"));
  }

  @Test
  void ensembleContributionsAddUpToThePropensityOnEveryRow() {
    Ensemble e = ensemble("dt", "rf", "gbt", "lr");
    Explainer explainer = Explainer.forEnsemble(e, ExplainData.SCHEMA, false);
    assertThat(explainer.outputSpace()).isEqualTo("probability");
    Row r = explainer.contributions(scored(e)).agg(
        max(abs(SUM.plus(col(Explainer.EXPECTED_VALUE)).minus(col("propensity")))),
        max(abs(col(Explainer.OUTPUT).minus(col("propensity")))),
        min(Explainer.EXPECTED_VALUE), max(Explainer.EXPECTED_VALUE)).first();
    assertThat(r.getDouble(0)).isLessThan(1e-9);
    assertThat(r.getDouble(1)).isLessThan(1e-9);
    assertThat(r.getDouble(2)).as("one expected value for all rows").isEqualTo(r.getDouble(3));
  }

  @Test
  void reasonCodesAreThoseOfTheReferenceTreeShap() {
    // the fast TreeSHAP (TreeShap) against the published algorithm (ReferenceTreeShap), end to
    // end: a tree, a forest, GBT and logistic regression voting, one-hot slots and missing values
    Ensemble e = ensemble("dt", "rf", "gbt", "lr");
    Dataset<Row> scored = scored(e);
    List<Row> fast = ReasonCodes.add(scored, e, ExplainData.SCHEMA, 3, false)
        .select("customer_id", ReasonCodes.COLUMN).orderBy("customer_id").collectAsList();
    List<Row> reference;
    TreeEnsemble.useReferenceAlgorithm(true);
    try {
      reference = ReasonCodes.add(scored, e, ExplainData.SCHEMA, 3, false)
          .select("customer_id", ReasonCodes.COLUMN).orderBy("customer_id").collectAsList();
    } finally {
      TreeEnsemble.useReferenceAlgorithm(false);
    }
    assertThat(fast).hasSize(1200).hasSameSizeAs(reference);
    for (int i = 0; i < fast.size(); i++) {
      List<Row> a = fast.get(i).getList(1);
      List<Row> b = reference.get(i).getList(1);
      assertThat(a).hasSize(3).hasSameSizeAs(b);
      for (int j = 0; j < a.size(); j++) {
        assertThat(a.get(j).getDouble(2)).as("row %d code %d", i, j)
            .isCloseTo(b.get(j).getDouble(2), within(1e-9));
        if (j + 1 == a.size() || Math.abs(a.get(j).getDouble(2) - a.get(j + 1).getDouble(2))
            > 1e-9) {
          // the same feature and value, unless two contributions tie to 1e-9
          assertThat(a.get(j).getString(0)).as("row %d code %d", i, j)
              .isEqualTo(b.get(j).getString(0));
          assertThat(a.get(j).getString(1)).isEqualTo(b.get(j).getString(1));
        }
      }
    }
  }

  @Test
  void reasonCodesAreTheTopKContributionsWithTheCustomersValues() {
    Ensemble e = ensemble("dt", "gbt", "lr");
    Dataset<Row> scored = scored(e);
    Dataset<Row> coded = ReasonCodes.add(scored, e, ExplainData.SCHEMA, 3, false);
    assertThat(coded.schema().apply(ReasonCodes.COLUMN).dataType()).isEqualTo(ReasonCodes.type());
    assertThat(coded.columns()).startsWith(scored.columns());
    Dataset<Row> full = Explainer.forEnsemble(e, ExplainData.SCHEMA, false)
        .contributions(scored).select(col("customer_id"), col("contributions"));
    Dataset<Row> both = coded.join(full, "customer_id");
    assertThat(both.count()).isEqualTo(1200);
    assertThat(both.where(expr("size(reason_codes) != 3")).count()).isZero();
    assertThat(both.where(expr("slice(contributions, 1, 3) != reason_codes")).count()).isZero();

    // value is the customer's raw value of that feature (null when missing)
    Dataset<Row> codes = coded.select(col("recency"), col("spend"), col("visits"),
        col("region"), col("segment"), explode(col(ReasonCodes.COLUMN)).as("c"));
    Column raw = expr("CASE c.feature WHEN 'region' THEN region WHEN 'segment' THEN segment"
        + " ELSE NULL END");
    Column num = expr("CASE c.feature WHEN 'recency' THEN recency WHEN 'spend' THEN spend"
        + " WHEN 'visits' THEN CAST(visits AS DOUBLE) ELSE NULL END");
    assertThat(codes.where(raw.isNotNull().and(raw.notEqual(col("c.value")))
        .or(num.isNotNull().and(num.notEqual(col("c.value").cast("double"))))
        .or(raw.isNull().and(num.isNull()).and(col("c.value").isNotNull()))).count()).isZero();
    assertThat(codes.select("c.feature").distinct().count()).isGreaterThan(1);
  }

  @Test
  void unsupportedVotersAreSkippedOrFailAsConfigured() {
    Ensemble e = ensemble("gbt", "nb", "dt");
    assertThatThrownBy(() -> Explainer.forEnsemble(e, ExplainData.SCHEMA, false))
        .hasMessageContaining("voter 'nb' (NaiveBayesModel) has no exact per-customer"
            + " explanation")
        .hasMessageContaining("propensity.explain.unsupported-voters = skip");
    Explainer skip = Explainer.forEnsemble(e, ExplainData.SCHEMA, true);
    assertThat(skip.skipped()).containsExactly("nb");
    // the output is the explained voters' weighted share: adding nb's share gives the propensity
    double nbWeight = 1.0 / 4.0;
    Row r = skip.contributions(scored(e)).agg(max(abs(col(Explainer.OUTPUT)
        .plus(expr("voter_probabilities['nb']").multiply(nbWeight)).minus(col("propensity")))))
        .first();
    assertThat(r.getDouble(0)).isLessThan(1e-9);
  }

  @Test
  void reasonCodesReuseTheVotersVectorsWhenScoringKeptThem() {
    Ensemble e = ensemble("gbt", "lr", "rf");
    Dataset<Row> input = ExplainData.rows().select("customer_id", "recency", "spend", "visits",
        "region", "segment");
    Dataset<Row> kept = e.score(input, true);
    List<String> vectors = java.util.Arrays.stream(kept.columns())
        .filter(c -> c.endsWith("__features")).sorted().toList();
    assertThat(vectors).containsExactly("gbt__features", "lr__features", "rf__features");
    assertThat(e.score(input).columns()).noneMatch(c -> c.endsWith("__features"));

    List<Row> reused = ReasonCodes.add(kept, e, ExplainData.SCHEMA, 3, false)
        .orderBy("customer_id").collectAsList();
    List<Row> recomputed = ReasonCodes.add(e.score(input), e, ExplainData.SCHEMA, 3, false)
        .orderBy("customer_id").collectAsList();
    assertThat(reused).hasSize(recomputed.size()).isNotEmpty();
    // same columns (the vectors are not passed on), same codes to the last bit
    assertThat(reused.get(0).schema()).isEqualTo(recomputed.get(0).schema());
    assertThat(reused).isEqualTo(recomputed);
  }

  @Test
  void kComesFromConfigAndIsValidated() {
    Ensemble e = ensemble("dt");
    JobConfig two = JobConfig.defaults().with("explain.top-k=2",
        "schema.numeric=[recency, spend, visits]", "schema.categorical=[region, segment]");
    assertThat(ReasonCodes.add(scored(e), e, org.apache.spark.sql.functions.lit(1), two)
        .where(expr("size(reason_codes) != 2")).count()).isZero();
    assertThatThrownBy(() -> ReasonCodes.topK(JobConfig.defaults().with("explain.top-k=-1")))
        .hasMessageContaining("Invalid config 'propensity.explain.top-k' = '-1'");
    // 0: no reason codes, the column kept with its type; unsupported voters do not matter then
    JobConfig none = two.with("explain.top-k=0", "explain.unsupported-voters=fail");
    Ensemble withNb = ensemble("dt", "nb");
    Dataset<Row> off = ReasonCodes.add(scored(withNb), withNb,
        org.apache.spark.sql.functions.lit(1), none);
    assertThat(off.schema().apply(ReasonCodes.COLUMN).dataType()).isEqualTo(ReasonCodes.type());
    assertThat(off.where(col(ReasonCodes.COLUMN).isNotNull()).count()).isZero();
    assertThat(off.count()).isPositive();
    assertThatThrownBy(() -> ReasonCodes.skipUnsupported(
        JobConfig.defaults().with("explain.unsupported-voters=ignore")))
        .hasMessageContaining("Unknown unsupported-voters 'ignore'; known: skip, fail");
  }
}
