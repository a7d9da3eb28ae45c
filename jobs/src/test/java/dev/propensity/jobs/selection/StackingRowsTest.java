package dev.propensity.jobs.selection;

import dev.propensity.jobs.model.EnsembleModel;

import dev.propensity.jobs.model.Ensemble;
import dev.propensity.jobs.model.RunLayout;


import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.propensity.common.PropensityException;
import dev.propensity.common.SparkTestBase;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.run.ModelRuns;
import dev.propensity.jobs.training.TrainJob;
import java.util.List;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * The stacking meta-learner trains on the voters' out-of-fold predictions, read from the run
 * folder, and on nothing else: the OOF values here are arbitrary numbers no fitted model would
 * produce, so any in-sample prediction sneaking in would show.
 */
class StackingRowsTest extends SparkTestBase {

  private static final StructType OOF = new StructType().add("cid", DataTypes.StringType)
      .add("fold", DataTypes.IntegerType).add("label", DataTypes.DoubleType)
      .add("probability", DataTypes.DoubleType);

  @Test
  void metaFeaturesAreTheLogitsOfTheOutOfFoldProbabilities() {
    ModelRun run = new ModelRuns("file:" + tempWarehouse("stacking"),
        spark().sparkContext().hadoopConfiguration()).create("r1");
    write(run, "a", List.of(RowFactory.create("x", 0, 1.0, 0.9),
        RowFactory.create("y", 1, 0.0, 0.2), RowFactory.create("z", 2, 0.0, 0.5)));
    write(run, "b", List.of(RowFactory.create("x", 0, 1.0, 0.6),
        RowFactory.create("y", 1, 0.0, 0.3), RowFactory.create("z", 2, 0.0, 0.1)));
    List<EnsembleModel.Voter> voters = List.of(new EnsembleModel.Voter("a", 1, 0.8, null),
        new EnsembleModel.Voter("b", 1, 0.7, null));
    List<Row> rows = SelectedEnsemble.stackingRows(spark(), run, voters, "cid")
        .orderBy("cid").select("cid", "label", EnsembleModel.META_FEATURES).collectAsList();
    assertThat(rows).extracting(r -> r.getString(0)).containsExactly("x", "y", "z");
    assertThat(rows).extracting(r -> r.getDouble(1)).containsExactly(1.0, 0.0, 0.0);
    double[][] expected = {{0.9, 0.6}, {0.2, 0.3}, {0.5, 0.1}};
    for (int i = 0; i < rows.size(); i++) {
      Vector v = (Vector) rows.get(i).get(2);
      for (int j = 0; j < 2; j++) {
        double p = expected[i][j];
        assertThat(v.apply(j)).isCloseTo(Math.log(p / (1 - p)), within(1e-12));
      }
    }
  }

  @Test
  void aVoterWithoutOutOfFoldPredictionsIsNamedWithTheWayOut() {
    ModelRun run = new ModelRuns("file:" + tempWarehouse("stacking-missing"),
        spark().sparkContext().hadoopConfiguration()).create("r2");
    write(run, "a", List.of(RowFactory.create("x", 0, 1.0, 0.9)));
    List<EnsembleModel.Voter> voters = List.of(new EnsembleModel.Voter("a", 1, 0.8, null),
        new EnsembleModel.Voter("gone", 1, 0.7, null));
    assertThatThrownBy(() -> SelectedEnsemble.stackingRows(spark(), run, voters, "cid"))
        .isInstanceOf(PropensityException.class)
        .hasMessageContaining("Run r2 has no out-of-fold predictions for voter gone")
        .hasMessageContaining(RunLayout.of(run).outOfFold("gone"))
        .hasMessageContaining("propensity.select.combine");
  }

  private static void write(ModelRun run, String candidate, List<Row> rows) {
    spark().createDataFrame(rows, OOF).write().format("delta")
        .save(RunLayout.of(run).outOfFold(candidate));
  }
}
