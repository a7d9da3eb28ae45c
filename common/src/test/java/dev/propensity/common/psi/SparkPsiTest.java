package dev.propensity.common.psi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.propensity.common.SparkTestBase;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

class SparkPsiTest extends SparkTestBase {

  private static final StructType SCHEMA = new StructType()
      .add("x", DataTypes.DoubleType).add("cat", DataTypes.StringType);

  private static Dataset<Row> rows(int from, int to, List<String> cats) {
    List<Row> out = new ArrayList<>();
    for (int i = from; i <= to; i++) {
      out.add(RowFactory.create((double) i, cats.get(i - from)));
    }
    return spark().createDataFrame(out, SCHEMA);
  }

  private static List<String> cats(int a, int b, int c) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < a; i++) {
      out.add("a");
    }
    for (int i = 0; i < b; i++) {
      out.add("b");
    }
    for (int i = 0; i < c; i++) {
      out.add("c");
    }
    return out;
  }

  @Test
  void baselineHasQuantileEdgesAndCounts() {
    List<PsiBaseline> b = SparkPsi.baseline(rows(1, 100, cats(50, 50, 0)), List.of("x"),
        List.of("cat"), 4);
    assertThat(b.get(0).edges()).containsExactly(25.0, 50.0, 75.0);
    assertThat(b.get(0).counts()).containsExactly(25L, 25L, 25L, 25L, 0L);
    assertThat(b.get(1).categories()).containsExactly("a", "b");
    assertThat(b.get(1).counts()).containsExactly(50L, 50L, 0L, 0L);
  }

  @Test
  void shiftedDataMatchesHandComputedPsiForEveryColumnInOnePass() {
    List<PsiBaseline> b = SparkPsi.baseline(rows(1, 100, cats(50, 50, 0)), List.of("x"),
        List.of("cat"), 4);
    // current x = 51..150: buckets 0, 0, 25, 75, nulls 0; cat a 50, b 25, unseen c 25
    Map<String, Double> psi = SparkPsi.compare(b, rows(51, 150, cats(50, 25, 25)), 1e-4);
    // hand (Python): e=[.25,.25,.25,.25,0], a=[0,0,.25,.75,0], eps 1e-4 -> 4.45976434056003
    assertThat(psi.get("x")).isCloseTo(4.45976434056003, within(1e-9));
    // e=[.5,.5,0(other),0(null)], a=[.5,.25,.25,0] -> 2.1285158932529735
    assertThat(psi.get("cat")).isCloseTo(2.1285158932529735, within(1e-9));
  }

  @Test
  void sameDistributionIsStable() {
    List<PsiBaseline> b = SparkPsi.baseline(rows(1, 100, cats(50, 50, 0)), List.of("x"),
        List.of("cat"), 10);
    Map<String, Double> psi = SparkPsi.compare(b, rows(1, 100, cats(50, 50, 0)), 1e-4);
    assertThat(psi.get("x")).isCloseTo(0.0, within(1e-12));
    assertThat(psi.get("cat")).isCloseTo(0.0, within(1e-12));
  }
}
