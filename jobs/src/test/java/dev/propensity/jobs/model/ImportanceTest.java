package dev.propensity.jobs.model;


import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.propensity.common.SparkTestBase;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.run.ModelRuns;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.spark.ml.classification.GBTClassificationModel;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.linalg.Vector;
import org.junit.jupiter.api.Test;

/** Global importance per candidate and for the ensemble, saved in the run folder. */
class ImportanceTest extends SparkTestBase {

  private static Map<String, Double> byFeature(Importance.Result r) {
    return r.features().stream().collect(Collectors.toMap(Importance.Feature::feature,
        Importance.Feature::importance));
  }

  @Test
  void treeImportanceSumsMllibSlotImportancesPerFeature() {
    Importance.Result r = Importance.forCandidate("gbt", ExplainData.model("gbt"),
        ExplainData.SCHEMA, ExplainData.rows(), 1);
    assertThat(r.method()).isEqualTo("tree-impurity");
    Vector slots = ((GBTClassificationModel) ExplainerTest.last(ExplainData.model("gbt")))
        .featureImportances();
    Map<String, Double> f = byFeature(r);
    // slots: 3 numeric, region east..west + unknown (3..7), segment lapsed..new + unknown (8..11)
    assertThat(f.get("recency")).isCloseTo(slots.apply(0), within(1e-12));
    double region = 0;
    for (int j = 3; j <= 7; j++) {
      region += slots.apply(j);
    }
    assertThat(f.get("region")).isCloseTo(region, within(1e-12));
    assertThat(f.values().stream().mapToDouble(Double::doubleValue).sum())
        .isCloseTo(1.0, within(1e-9));
    assertThat(r.features().get(0).feature()).isEqualTo("recency");
    assertThat(r.features()).extracting(Importance.Feature::importance)
        .isSortedAccordingTo((a, b) -> Double.compare(b, a));
  }

  @Test
  void logisticImportanceIsAbsoluteStandardizedCoefficients() {
    Importance.Result r = Importance.forCandidate("lr", ExplainData.model("lr"),
        ExplainData.SCHEMA, ExplainData.rows(), 1);
    assertThat(r.method()).isEqualTo("abs-standardized-coefficient");
    // the model reads scaled inputs (sd 1), so the standardized coefficient is |coef|
    Vector coef = ((LogisticRegressionModel) ExplainerTest.last(ExplainData.model("lr")))
        .coefficients();
    Map<String, Double> f = byFeature(r);
    assertThat(f.get("spend")).isCloseTo(Math.abs(coef.apply(1)), within(1e-12));
    // segment: lapsed, loyal, new (unknown slot has sd 0: a constant in training)
    assertThat(f.get("segment")).isCloseTo(Math.abs(coef.apply(8)) + Math.abs(coef.apply(9))
        + Math.abs(coef.apply(10)), within(1e-12));
    assertThat(r.features().get(0).feature()).isEqualTo("recency");
  }

  @Test
  void permutationImportanceForOtherModelsFindsTheStrongFeature() {
    Importance.Result r = Importance.forCandidate("nb", ExplainData.model("nb"),
        ExplainData.SCHEMA, ExplainData.rows(), 3);
    assertThat(r.method()).isEqualTo("permutation-auc");
    Map<String, Double> f = byFeature(r);
    assertThat(f).containsOnlyKeys(ExplainData.SCHEMA.features());
    // recency drives the label: shuffling it costs AUC
    assertThat(f.get("recency")).isGreaterThan(0.02);
    assertThatThrownBy(() -> Importance.permutation("nb", ExplainData.model("nb"),
        ExplainData.SCHEMA, ExplainData.rows().drop("__label"), 3))
        .hasMessageContaining("the validation rows have no __label column");
  }

  @Test
  void savedInTheRunFolderPerCandidateAndForTheEnsemble() {
    ModelRuns runs = new ModelRuns(tempWarehouse("importance").toUri().toString(),
        spark().sparkContext().hadoopConfiguration());
    ModelRun run = runs.create("r1");
    Importance.saveForCandidate(run, "dt", ExplainData.model("dt"), ExplainData.SCHEMA,
        ExplainData.rows(), 1);
    Map<String, Object> json = run.readJson("candidates/dt/importance.json",
        new TypeReference<>() {});
    assertThat(json).containsEntry("model", "dt").containsEntry("method", "tree-impurity");
    assertThat((List<?>) json.get("features")).hasSize(5);

    Ensemble e = Ensemble.of(List.of(new EnsembleModel.Voter("dt", 1, ExplainData.model("dt")),
        new EnsembleModel.Voter("lr", 1, ExplainData.model("lr"))));
    Importance.Result r = Importance.saveForEnsemble(run, e, ExplainData.SCHEMA,
        ExplainData.rows(), false);
    assertThat(r.method()).isEqualTo("mean-abs-shap");
    assertThat(run.exists("ensemble/importance.json")).isTrue();
    assertThat(r.features().get(0).importance()).isGreaterThan(0.01);
    assertThat(r.features().get(0).feature()).isEqualTo("recency");
  }
}
