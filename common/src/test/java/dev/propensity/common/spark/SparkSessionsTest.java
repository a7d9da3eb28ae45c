package dev.propensity.common.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.propensity.common.config.JobConfig;
import dev.propensity.common.SparkTestBase;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/** The user's Spark settings win over the session factory's Delta defaults. */
class SparkSessionsTest {

  private static final String USER_EXTENSION = "com.example.UserSqlExtension";
  private static final String USER_CATALOG = "org.apache.iceberg.spark.SparkSessionCatalog";

  @Test
  void addsDeltaWhenTheUserSetNothing() {
    SparkConf conf = SparkSessions.configure(new SparkConf(false), JobConfig.defaults());
    assertThat(conf.get(SparkSessions.EXTENSIONS_KEY)).isEqualTo(SparkSessions.DELTA_EXTENSION);
    assertThat(conf.get(SparkSessions.CATALOG_KEY)).isEqualTo(SparkSessions.DELTA_CATALOG);
  }

  @Test
  void leavesAUserExtensionAndCatalogFromSparkSubmitAlone() {
    SparkConf submitted = new SparkConf(false).set(SparkSessions.EXTENSIONS_KEY, USER_EXTENSION)
        .set(SparkSessions.CATALOG_KEY, USER_CATALOG).set("spark.master", "yarn");
    SparkConf conf = SparkSessions.configure(submitted, JobConfig.defaults());
    assertThat(conf.get(SparkSessions.EXTENSIONS_KEY)).isEqualTo(USER_EXTENSION);
    assertThat(conf.get(SparkSessions.CATALOG_KEY)).isEqualTo(USER_CATALOG);
    assertThat(conf.get("spark.master")).isEqualTo("yarn");
  }

  @Test
  void leavesAUserExtensionListFromTheConfigAloneAndStillAddsTheMissingCatalog() {
    String list = USER_EXTENSION + ", " + SparkSessions.DELTA_EXTENSION;
    JobConfig config = JobConfig.defaults()
        .withLiteral("propensity.spark.conf.\"spark.sql.extensions\"", list);
    SparkConf conf = SparkSessions.configure(new SparkConf(false), config);
    assertThat(conf.get(SparkSessions.EXTENSIONS_KEY)).isEqualTo(list);
    assertThat(conf.get(SparkSessions.CATALOG_KEY)).isEqualTo(SparkSessions.DELTA_CATALOG);
  }

  @Test
  void shufflesStartWideForAdaptiveCoalescingWhenAskedUnlessTheUserSetTheirOwn() {
    SparkConf conf = SparkSessions.configure(new SparkConf(false), JobConfig.defaults());
    assertThat(conf.contains(SparkSessions.INITIAL_PARTITIONS_KEY)).as("off by default").isFalse();
    assertThat(conf.get("spark.sql.shuffle.partitions")).isEqualTo("8");
    JobConfig wide = JobConfig.defaults()
        .withLiteral("propensity.spark.initial-shuffle-partitions", "200");
    assertThat(SparkSessions.configure(new SparkConf(false), wide)
        .get(SparkSessions.INITIAL_PARTITIONS_KEY)).isEqualTo("200");
    SparkConf submitted = new SparkConf(false).set(SparkSessions.INITIAL_PARTITIONS_KEY, "64");
    assertThat(SparkSessions.configure(submitted, wide)
        .get(SparkSessions.INITIAL_PARTITIONS_KEY)).isEqualTo("64");
    JobConfig negative = JobConfig.defaults()
        .withLiteral("propensity.spark.initial-shuffle-partitions", "-1");
    assertThatThrownBy(() -> SparkSessions.configure(new SparkConf(false), negative))
        .hasMessageContaining("propensity.spark.initial-shuffle-partitions")
        .hasMessageContaining("-1");
  }

  @Test
  void checkpointsGoUnderTheWarehouseUnlessTheSessionHasADirectory() {
    JobConfig config = JobConfig.defaults().withLiteral("propensity.warehouse", "s3a://lake/wh/");
    assertThat(SparkSessions.checkpointDir(config)).isEqualTo("s3a://lake/wh/_checkpoints");
    SparkSession spark = SparkTestBase.spark();
    String before = spark.sparkContext().getCheckpointDir().get();
    assertThat(SparkSessions.ensureCheckpointDir(spark, config)).isEqualTo(before);
  }
}
