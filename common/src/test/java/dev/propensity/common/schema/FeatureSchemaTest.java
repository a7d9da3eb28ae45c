package dev.propensity.common.schema;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.propensity.common.PropensityException;
import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import java.util.List;
import java.util.Optional;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

class FeatureSchemaTest extends SparkTestBase {

  private static final FeatureSchema SCHEMA = new FeatureSchema("s3a://b/features", "id",
      Optional.empty(), "label", List.of("spend"), List.of("region"), Optional.empty(),
      Optional.empty());

  private static final StructType TYPES = new StructType()
      .add("id", DataTypes.StringType)
      .add("spend", DataTypes.DoubleType)
      .add("region", DataTypes.StringType)
      .add("label", DataTypes.IntegerType);

  private static Dataset<Row> df(StructType types, Row... rows) {
    return spark().createDataFrame(List.of(rows), types);
  }

  @Test
  void validTableReturnsItsRowCount() {
    long n = SCHEMA.validate(df(TYPES, RowFactory.create("a", 1.0, "N", 0),
        RowFactory.create("b", 2.0, "S", 1)), FeatureSchema.Mode.TRAINING);
    assertThat(n).isEqualTo(2);
  }

  @Test
  void missingColumnIsNamedWithTheConfigKey() {
    StructType t = new StructType().add("id", DataTypes.StringType)
        .add("region", DataTypes.StringType).add("label", DataTypes.IntegerType);
    assertThatThrownBy(() -> SCHEMA.validate(df(t, RowFactory.create("a", "N", 0)),
        FeatureSchema.Mode.TRAINING))
        .isInstanceOf(PropensityException.class)
        .hasMessageContaining("Invalid table s3a://b/features: missing column(s) spend")
        .hasMessageContaining("propensity.schema")
        .hasMessageContaining("Columns present: id, region, label");
  }

  @Test
  void wrongTypeNamesColumnActualAndExpected() {
    StructType t = new StructType().add("id", DataTypes.StringType)
        .add("spend", DataTypes.StringType).add("region", DataTypes.StringType)
        .add("label", DataTypes.IntegerType);
    assertThatThrownBy(() -> SCHEMA.validate(df(t, RowFactory.create("a", "x", "N", 0)),
        FeatureSchema.Mode.TRAINING))
        .hasMessage("Invalid table s3a://b/features: column 'spend' has type string, expected a"
            + " numeric type (listed in config 'propensity.schema.numeric'). Cast the column or"
            + " move it to the right list.");
  }

  @Test
  void nullAndDuplicateIdsAreCounted() {
    assertThatThrownBy(() -> SCHEMA.validate(df(TYPES, RowFactory.create(null, 1.0, "N", 0),
        RowFactory.create("b", 2.0, "S", 1)), FeatureSchema.Mode.SCORING))
        .hasMessageContaining("1 row(s) with a null id in column 'id'");
    assertThatThrownBy(() -> SCHEMA.validate(df(TYPES, RowFactory.create("a", 1.0, "N", 0),
        RowFactory.create("a", 2.0, "S", 1), RowFactory.create("a", 3.0, "S", 1)),
        FeatureSchema.Mode.SCORING))
        .hasMessageContaining("2 row(s) with a duplicate id in column 'id'");
  }

  @Test
  void labelMustBeBinaryWithBothClassesForTraining() {
    assertThatThrownBy(() -> SCHEMA.validate(df(TYPES, RowFactory.create("a", 1.0, "N", 0),
        RowFactory.create("b", 2.0, "S", 2)), FeatureSchema.Mode.TRAINING))
        .hasMessageContaining("1 row(s) with a label that is not binary (e.g. 2.0)")
        .hasMessageContaining("column 'label'");
    assertThatThrownBy(() -> SCHEMA.validate(df(TYPES, RowFactory.create("a", 1.0, "N", 0),
        RowFactory.create("b", 2.0, "S", 0)), FeatureSchema.Mode.TRAINING))
        .hasMessageContaining("the same label 0").hasMessageContaining("both classes");
    // SCHEMA has no snapshot column: the fix is the rows, not propensity.train.snapshot
    assertThatThrownBy(() -> SCHEMA.validate(df(TYPES, RowFactory.create("a", 1.0, "N", 0),
        RowFactory.create("b", 2.0, "S", null), RowFactory.create("c", 2.0, "S", 1)),
        FeatureSchema.Mode.TRAINING))
        .hasMessageContaining("1 row(s) with a null label in column 'label'")
        .hasMessageContaining("no snapshot column (propensity.schema.snapshot-column is empty)")
        .hasMessageNotContaining("propensity.train.snapshot");
    // scoring accepts null labels
    assertThat(SCHEMA.validate(df(TYPES, RowFactory.create("a", 1.0, "N", null)),
        FeatureSchema.Mode.SCORING)).isEqualTo(1);
  }

  @Test
  void emptyTableIsRejected() {
    assertThatThrownBy(() -> SCHEMA.validate(df(TYPES), FeatureSchema.Mode.SCORING))
        .hasMessageContaining("Invalid table s3a://b/features: it has no rows");
  }

  @Test
  void readsFromConfigAndRejectsAColumnListedTwice() {
    FeatureSchema s = FeatureSchema.fromConfig(JobConfig.defaults());
    assertThat(s.idColumn()).isEqualTo("customer_id");
    assertThat(s.snapshotColumn()).contains("snapshot_date");
    assertThat(s.numeric()).contains("recency_days");
    assertThat(s.weightColumn()).isEmpty();
    assertThatThrownBy(() -> FeatureSchema.fromConfig(JobConfig.defaults()
        .with("schema.numeric=[age, spend]", "schema.categorical=[age]")))
        .hasMessageContaining("propensity.schema.categorical").hasMessageContaining("age");
  }

  @Test
  void catalogueFeaturesAreCheckedAgainstTheCatalogueTypesAndFamilies() {
    FeatureSchema fromCatalog = FeatureSchema.fromConfig(JobConfig.defaults()
        .with("features.families.rfm=false", "features.families.engagement=false",
            "features.families.behaviour=false", "features.families.trends=false",
            "features.families.interactions=false", "features.families.bins=false",
            "schema.snapshot-column=\"\""));
    assertThat(fromCatalog.features()).containsExactly("age", "tenure_days", "region", "channel",
        "segment", "gender");
    StructType good = new StructType().add("customer_id", DataTypes.StringType)
        .add("age", DataTypes.DoubleType).add("tenure_days", DataTypes.DoubleType)
        .add("region", DataTypes.StringType).add("channel", DataTypes.StringType)
        .add("segment", DataTypes.StringType).add("gender", DataTypes.StringType)
        .add("label", DataTypes.IntegerType);
    assertThat(fromCatalog.validate(df(good, RowFactory.create("a", 30.0, 10.0, "N", "web",
        "smb", "F", 0), RowFactory.create("b", null, 20.0, "S", "app", "smb", "M", 1)),
        FeatureSchema.Mode.TRAINING)).isEqualTo(2);
    // an integer age is numeric, but not the catalogue's double
    StructType intAge = new StructType().add("customer_id", DataTypes.StringType)
        .add("age", DataTypes.IntegerType).add("tenure_days", DataTypes.DoubleType)
        .add("region", DataTypes.StringType).add("channel", DataTypes.StringType)
        .add("segment", DataTypes.StringType).add("gender", DataTypes.StringType);
    assertThatThrownBy(() -> fromCatalog.validate(df(intAge, RowFactory.create("a", 30, 10.0,
        "N", "web", "smb", "F")), FeatureSchema.Mode.SCORING))
        .hasMessageContaining("column 'age' has type int, expected double (feature catalogue,"
            + " family profile)");
    StructType noGender = new StructType().add("customer_id", DataTypes.StringType)
        .add("age", DataTypes.DoubleType).add("tenure_days", DataTypes.DoubleType)
        .add("region", DataTypes.StringType).add("channel", DataTypes.StringType)
        .add("segment", DataTypes.StringType);
    assertThatThrownBy(() -> fromCatalog.validate(df(noGender), FeatureSchema.Mode.SCORING))
        .hasMessage("Invalid table features: missing feature column(s) gender of the feature"
            + " catalogue (switched on by propensity.features.families.profile). The table was"
            + " written with other feature families: re-run the features job with this config,"
            + " or switch those families off.");
  }
}
