package dev.propensity.jobs.model;


import static org.apache.spark.sql.functions.abs;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.max;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.propensity.common.SparkTestBase;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.classification.DecisionTreeClassifier;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.stat.Summarizer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/** Vector slots back to feature names, through one-hot encoding, scaling and selection. */
class FeatureSlotsTest extends SparkTestBase {

  private static Dataset<Row> featureStages(PipelineModel model, Dataset<Row> df) {
    Dataset<Row> out = df;
    for (int i = 0; i < FeatureSlots.modelIndex(model); i++) {
      out = model.stages()[i].transform(out);
    }
    return out;
  }

  @Test
  void slotsNameTheOriginalFeaturesAndOneHotCategories() {
    PipelineModel lr = ExplainData.model("lr");
    Dataset<Row> t = featureStages(lr, ExplainData.rows());
    FeatureSlots slots = FeatureSlots.of(lr, t.schema(), ExplainData.SCHEMA.features());
    assertThat(slots.featuresCol()).isEqualTo(CandidatePipeline.featuresCol("lr"));
    assertThat(slots.sources()).containsExactly("recency", "spend", "visits",
        "region", "region", "region", "region", "region",
        "segment", "segment", "segment", "segment");
    assertThat(slots.labels()).containsExactly(null, null, null,
        "east", "north", "south", "west", "__unknown", "lapsed", "loyal", "new", "__unknown");
  }

  @Test
  void scalerGivesTheTrainingMeansOfTheModelInputs() {
    PipelineModel lr = ExplainData.model("lr");
    Dataset<Row> t = featureStages(lr, ExplainData.rows());
    FeatureSlots slots = FeatureSlots.of(lr, t.schema(), ExplainData.SCHEMA.features());
    // the model reads the scaled vector: its training mean is what linear SHAP centres on
    Vector mean = (Vector) t.select(Summarizer.mean(col(CandidatePipeline.featuresCol("lr")))).first().get(0);
    for (int j = 0; j < slots.size(); j++) {
      assertThat(slots.means()[j]).as("slot " + j).isCloseTo(mean.apply(j), within(1e-9));
      assertThat(slots.stds()[j]).isIn(0.0, 1.0);
    }
    assertThat(Arrays.stream(slots.stds()).filter(s -> s == 0.0).count())
        .as("segment __unknown never seen in training: constant").isEqualTo(1);
  }

  @Test
  void selectorBetweenAssemblerAndTreeIsFollowed() {
    PipelineModel prep = CandidatePipeline.preprocessing("sel", ExplainData.SCHEMA,
        CandidatePipeline.Scaling.NONE, new CandidatePipeline.FeatureSelection("variance", 0.0,
            "fpr", 0.05)).fit(ExplainData.rows());
    PipelineModel head = new Pipeline().setStages(new PipelineStage[] {
        new DecisionTreeClassifier().setFeaturesCol(CandidatePipeline.featuresCol("sel"))
            .setLabelCol("__label").setProbabilityCol("sel__probability").setMaxDepth(4)
    }).fit(prep.transform(ExplainData.rows()));
    PipelineModel model = CandidatePipeline.whole("sel", "decision-tree", prep, head,
        CandidateDescription.Probability.CLASSIFIER);
    FeatureSlots slots = FeatureSlots.of(model,
        featureStages(model, ExplainData.rows()).schema(), ExplainData.SCHEMA.features());
    // the constant slot (segment __unknown) is dropped
    assertThat(slots.size()).isEqualTo(11);
    assertThat(slots.labels().subList(8, 11)).containsExactly("lapsed", "loyal", "new");

    Dataset<Row> own = model.transform(ExplainData.rows()).select(col("customer_id"),
        org.apache.spark.ml.functions.vector_to_array(col("sel__probability"), "float64")
            .getItem(1).as("p"));
    double err = Explainer.forCandidate("sel", model, ExplainData.SCHEMA)
        .contributions(ExplainData.rows()).join(own, "customer_id")
        .agg(max(abs(org.apache.spark.sql.functions.expr(
            "aggregate(contributions, 0D, (acc, c) -> acc + c.contribution)")
            .plus(col("expected_value")).minus(col("p"))))).first().getDouble(0);
    assertThat(err).isLessThan(1e-9);
  }

  @Test
  void pipelineWithoutDescriptionIsRejectedWithWhatToDo() {
    PipelineModel model = new Pipeline().setStages(new PipelineStage[] {
        new DecisionTreeClassifier().setFeaturesCol("v").setLabelCol("__label")
    }).fit(featureStages(ExplainData.model("dt"), ExplainData.rows())
        .withColumnRenamed(CandidatePipeline.featuresCol("dt"), "v"));
    assertThatThrownBy(() -> FeatureSlots.of(model, ExplainData.rows().schema(),
        ExplainData.SCHEMA.features()))
        .hasMessageContaining("Cannot read candidate pipeline " + model.uid())
        .hasMessageContaining("has no candidate description")
        .hasMessageContaining("train the run again");
  }
}
