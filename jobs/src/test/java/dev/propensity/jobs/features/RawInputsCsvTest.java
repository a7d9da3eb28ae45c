package dev.propensity.jobs.features;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.propensity.common.PropensityException;
import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.table.Warehouse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The usual CSV mistakes are named as such, not as missing columns or "0 rows" later. */
class RawInputsCsvTest extends SparkTestBase {

  private static final String HEADER =
      "customer_id,email,age,gender,region,channel,segment,signup_date";

  private static void assertFails(String content, String... messages) throws Exception {
    Path wh = tempWarehouse("csv");
    Path csv = wh.resolve("customers.csv");
    Files.writeString(csv, content);
    JobConfig config = HandMade.config(wh, "features.input.customers.path=\"" + csv + "\"",
        "features.input.customers.format=csv",
        "features.input.customers.options.header=true");
    assertThatThrownBy(() -> RawInputs.read(Warehouse.of(spark(), config), config,
        RawInputs.CUSTOMERS))
        .isInstanceOf(PropensityException.class)
        .hasMessageContaining("Invalid CSV input " + csv + ": ")
        .hasMessageContaining("(input 'propensity.features.input.customers'")
        .hasMessageContaining(messages[0])
        .hasMessageContaining(messages.length > 1 ? messages[1] : "");
  }

  @Test
  void wrongDelimiterSaysCheckTheDelimiter() throws Exception {
    assertFails(HEADER.replace(',', ';') + "\n1;a@b.c;30;f;north;web;new;2024-01-01\n",
        "only one column was read ('customer_id;email;age;gender;region;channel;segment;"
            + "signu...') with delimiter ','",
        "Check the delimiter: set propensity.features.input.customers.options.delimiter"
            + " (the header contains ';')");
  }

  @Test
  void emptyFileSaysEmpty() throws Exception {
    assertFails("", "the file is empty (no header, no rows)");
  }

  @Test
  void headerOnlySaysNoDataRows() throws Exception {
    assertFails(HEADER + "\n", "it has a header (customer_id, email, age", "but no data rows");
  }
}
