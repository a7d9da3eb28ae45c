package dev.propensity.jobs.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.propensity.common.SparkTestBase;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.feature.SQLTransformer;
import org.apache.spark.ml.feature.StringIndexer;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** Stage-parallel pipeline saves and loads are MLlib's folder layout, read both ways. */
class PipelinesTest extends SparkTestBase {

  /** Twelve stages (two-digit stage folders), one with data (the indexer's labels). */
  private static PipelineModel fitted(Dataset<Row> data) {
    List<PipelineStage> stages = new ArrayList<>();
    stages.add(new StringIndexer().setInputCol("cat").setOutputCol("cat_ix"));
    for (int i = 0; i < 9; i++) {
      stages.add(new SQLTransformer().setStatement(
          "SELECT *, x * " + (i + 2) + " AS x" + i + " FROM __THIS__"));
    }
    stages.add(new VectorAssembler().setInputCols(new String[] {"x", "cat_ix", "x8"})
        .setOutputCol("features"));
    stages.add(new LogisticRegression().setMaxIter(20));
    return new Pipeline().setStages(stages.toArray(PipelineStage[]::new)).fit(data);
  }

  @Test
  void whatEitherWritesTheOtherReadsAndScoresTheSame() throws Exception {
    Random r = new Random(3);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      double x = r.nextGaussian();
      rows.add(RowFactory.create(x, i % 3 == 0 ? "a" : "b", r.nextDouble() < 0.3 + 0.2 * x
          ? 1.0 : 0.0));
    }
    Dataset<Row> data = spark().createDataFrame(rows, new StructType()
        .add("x", DataTypes.DoubleType).add("cat", DataTypes.StringType)
        .add("label", DataTypes.DoubleType));
    PipelineModel model = fitted(data);
    List<Row> expected = model.transform(data).select("probability").collectAsList();
    java.nio.file.Path dir = Files.createTempDirectory("pipelines");

    String ours = dir.resolve("ours").toString();
    Pipelines.save(model, ours);
    Pipelines.save(model, ours); // replaces what is there
    PipelineModel readByMllib = PipelineModel.load(ours);
    String mllibs = dir.resolve("mllib").toString();
    model.write().save(mllibs);
    PipelineModel readByUs = Pipelines.load(mllibs);

    assertThat(Files.list(dir.resolve("ours").resolve("stages")).map(p -> p.getFileName()
        .toString()).sorted().toList()).isEqualTo(Files.list(dir.resolve("mllib")
        .resolve("stages")).map(p -> p.getFileName().toString()).sorted().toList())
        .hasSize(12).first().asString().startsWith("00_");
    for (PipelineModel m : List.of(readByMllib, readByUs)) {
      assertThat(m.uid()).isEqualTo(model.uid());
      assertThat(Arrays.stream(m.stages()).map(Transformer::uid).toList())
          .isEqualTo(Arrays.stream(model.stages()).map(Transformer::uid).toList());
      assertThat(m.transform(data).select("probability").collectAsList()).isEqualTo(expected);
    }
  }
}
