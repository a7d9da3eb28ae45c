package dev.propensity.jobs.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.schema.FeatureCatalog;
import dev.propensity.common.schema.FeatureFamily;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.schema.FeatureSpec;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * Families switched off are absent from the table and from the schema the model jobs use; tables
 * only those families need are not read; raw tables can be CSV or Parquet files anywhere.
 */
class FeatureFamiliesOffTest extends SparkTestBase {

  @Test
  void switchedOffFamiliesAreAbsentAndRawTablesComeFromCsvAndParquet() throws IOException {
    Path wh = tempWarehouse("families-off");
    Warehouse warehouse = HandMade.warehouse(wh);
    RawData data = HandMade.data();
    // no email or social tables at all: only engagement, trends and interactions need them
    for (String t : List.of(Tables.RAW_CUSTOMERS, Tables.RAW_ORDERS, Tables.RAW_ORDER_LINES,
        Tables.RAW_WEB_SESSIONS)) {
      data.write(spark(), warehouse, t);
    }
    // support contacts as a hand-written CSV, profit as Parquet, both outside the warehouse
    Path csv = wh.resolve("exports/support.csv");
    Files.createDirectories(csv.getParent());
    Files.writeString(csv, String.join("\n",
        "contact_id;customer_id;contacted_at;channel;reason",
        "T1;A;2026-04-10 09:00:00;chat;complaint",
        "T2;A;2026-01-10 09:00:00;phone;question",
        "T3;A;2025-06-01 09:00:00;chat; Complaint ",
        "T4;B;2026-05-01 00:00:00;chat;complaint", ""));
    Path parquet = wh.resolve("exports/profit.parquet");
    data.frame(spark(), Tables.RAW_PROFIT).write().parquet(parquet.toString());

    JobConfig config = HandMade.config(wh, "features.snapshot-dates=[\"2026-05-01\"]",
        "features.families.engagement=false", "features.families.trends=false",
        "features.families.interactions=false",
        "features.input.support-contacts.path=\"" + csv + "\"",
        "features.input.support-contacts.format=csv",
        "features.input.support-contacts.options.header=true",
        "features.input.support-contacts.options.delimiter=\";\"",
        "features.input.support-contacts.options.inferSchema=true",
        "features.input.profit.path=\"" + parquet + "\"",
        "features.input.profit.format=parquet");
    String summary = new FeaturesJob().run(spark(), config);
    assertThat(summary).contains("families profile, rfm, behaviour, bins");

    var on = EnumSet.of(FeatureFamily.PROFILE, FeatureFamily.RFM, FeatureFamily.BEHAVIOUR,
        FeatureFamily.BINS);
    List<String> expected = new ArrayList<>(List.of("customer_id", "snapshot_date"));
    FeatureCatalog.of(on).forEach(f -> expected.add(f.name()));
    expected.add("label");
    Dataset<Row> table = warehouse.read(Tables.FEATURES);
    assertThat(table.columns()).containsExactlyElementsOf(expected)
        .doesNotContain("engagement_score", "revenue_growth_30d", "email_x_web");

    // the model jobs' schema follows the same switches and accepts the table
    FeatureSchema schema = FeatureSchema.fromConfig(config);
    assertThat(schema.features()).containsExactlyInAnyOrderElementsOf(
        FeatureCatalog.of(on).stream().map(FeatureSpec::name).toList());
    assertThat(schema.validate(table, FeatureSchema.Mode.TRAINING)).isEqualTo(7);
    // a model job with every family on says which families the table lacks
    FeatureSchema all = FeatureSchema.fromConfig(HandMade.config(wh));
    assertThatThrownBy(() -> all.validate(table, FeatureSchema.Mode.TRAINING))
        .hasMessageContaining("Invalid table features: missing feature column(s)"
            + " web_sessions_30d, web_sessions_90d")
        .hasMessageContaining("(switched on by propensity.features.families.engagement,"
            + " propensity.features.families.trends, propensity.features.families.interactions)")
        .hasMessageContaining("re-run the features job with this config");

    // the CSV and Parquet inputs gave the same values as the Delta ones do
    Map<String, Row> rows = HandMade.read(warehouse);
    Row a = rows.get("2026-05-01/A");
    assertThat((Object) a.getAs("complaints_365d")).isEqualTo(2.0);
    assertThat((Object) a.getAs("support_contacts_90d")).isEqualTo(1.0);
    assertThat((Object) a.getAs("profit_3m")).isEqualTo(60.0);
    assertThat((Object) rows.get("2026-05-01/B").getAs("complaints_365d")).isEqualTo(0.0);

    // switching the families back on cannot mix old and new columns in one table
    assertThatThrownBy(() -> new FeaturesJob().run(spark(), HandMade.config(wh)))
        .hasMessageContaining("Cannot write features to " + warehouse.path(Tables.FEATURES)
            + ": its columns differ from this run's (in the table only: none; new in this run:"
            + " app_sessions_90d,")
        .hasMessageContaining("Remove the table");
  }
}
