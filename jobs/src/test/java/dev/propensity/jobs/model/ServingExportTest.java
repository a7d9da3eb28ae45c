package dev.propensity.jobs.model;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.propensity.common.SparkTestBase;
import dev.propensity.common.serving.LiveScorer;
import dev.propensity.common.serving.ServingModel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The serving export reads each voter through its family's exact form and its description, not
 * by predictor class: every family with an exact explanation (logistic, decision tree and random
 * forest as the training job builds them, GBT, xgboost and xgboost-rf, which the export never
 * named) is scored live exactly as the ensemble scores it in Spark, and a family without one is
 * refused with its name.
 */
class ServingExportTest extends SparkTestBase {

  private static final List<String> FAMILIES =
      List.of("logistic", "decision-tree", "random-forest", "gbt", "xgboost", "xgboost-rf");
  private static final double[] EDGES = {0.2, 0.5};
  private static final List<String> LABELS = List.of("high", "medium", "low");

  private static StructType raw;
  private static List<Row> rows;

  @BeforeAll
  static void data() {
    raw = ExplainData.rows().drop(CandidatePipeline.LABEL, "label").schema();
    rows = ExplainData.rows().orderBy("customer_id").limit(400).collectAsList();
  }

  @Test
  void everyFamilyWithAnExactFormIsScoredLiveAsTheEnsembleScoresIt() {
    List<EnsembleModel.Voter> voters = new ArrayList<>();
    for (int i = 0; i < FAMILIES.size(); i++) {
      voters.add(new EnsembleModel.Voter(FAMILIES.get(i), i + 1.0, 0.0,
          ExplainData.trained(FAMILIES.get(i))));
    }
    EnsembleModel ensemble = EnsembleModel.softVote(voters, Modes.Combine.WEIGHTED);
    ServingModel exported = ServingModel.fromJson(
        ServingExport.of("run-1", ensemble, raw, EDGES, LABELS,
            ExplainData.SCHEMA.features()).toJson(), "the test's export");
    assertThat(exported.exportable()).as(exported.reason()).isTrue();
    assertThat(exported.voters()).extracting(v -> v.predictor().kind())
        .containsExactly("linear", "trees", "trees", "trees", "trees", "trees");
    assertThat(exported.voters()).extracting(v -> v.predictor().link())
        .containsExactly("logistic", "identity", "identity", "logistic-2x", "logistic",
            "identity");

    LiveScorer live = new LiveScorer(exported, 3, false);
    List<Row> batch = ensemble.transform(ExplainData.rows().orderBy("customer_id").limit(400))
        .select(col("customer_id"), col(EnsembleModel.PROPENSITY),
            col(EnsembleModel.VOTER_PROBABILITIES))
        .orderBy("customer_id").collectAsList();
    assertThat(batch).hasSize(rows.size());
    for (int r = 0; r < rows.size(); r++) {
      Row features = rows.get(r);
      LiveScorer.Result result = live.score(asMap(features));
      assertThat(batch.get(r).getLong(0)).isEqualTo(features.getLong(0));
      assertThat(result.propensity()).as("customer " + features.get(0))
          .isCloseTo(batch.get(r).getDouble(1), within(1e-9));
      Map<String, Double> voterProbabilities = batch.get(r).getJavaMap(2);
      for (String family : FAMILIES) {
        assertThat(result.voterProbabilities().get(family))
            .as(family + " for customer " + features.get(0))
            .isCloseTo(voterProbabilities.get(family), within(1e-9));
      }
      assertThat(result.reasonCodes()).hasSize(3);
    }
  }

  @Test
  void aFamilyWithoutAnExactFormIsRefusedByName() {
    EnsembleModel ensemble = EnsembleModel.softVote(List.of(
        new EnsembleModel.Voter("lr", 1.0, 0.0, ExplainData.model("lr")),
        new EnsembleModel.Voter("nb", 1.0, 0.0, ExplainData.model("nb"))),
        Modes.Combine.MEAN);
    ServingModel exported = ServingExport.of("run-2", ensemble, raw, EDGES, LABELS,
        ExplainData.SCHEMA.features());
    assertThat(exported.exportable()).isFalse();
    assertThat(exported.reason()).contains("voter nb").contains("naive-bayes");
  }

  private static Map<String, Object> asMap(Row row) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (String f : raw.fieldNames()) {
      out.put(f, row.get(row.fieldIndex(f)));
    }
    return out;
  }
}
