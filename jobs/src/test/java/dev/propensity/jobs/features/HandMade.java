package dev.propensity.jobs.features;

import static org.apache.spark.sql.functions.col;

import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.spark.sql.Row;

/**
 * A tiny hand-made data set whose expected feature values are worked out by hand in the tests.
 * The snapshot is 2026-05-01 (00:00 UTC); "S-n" below means n days before it.
 *
 * <ul>
 *   <li>A (signup 2025-01-01, tenure 485): loyal buyer; E is A's second account (same email up to
 *       case and spaces, later signup), its order and session count for A.
 *   <li>B (2024-01-01): two recent orders, growing. C (2024-01-01): never ordered. D
 *       (2026-04-01): new, age missing. F (2025-06-01): age 150, region blank, gender missing,
 *       one old order. I and J (2025-01-01, 2024-06-01): mid buyers. G signs up after the
 *       snapshot. Z is not a customer (an orphan order).
 * </ul>
 */
final class HandMade {

  static final String SNAPSHOT = "2026-05-01";

  private HandMade() {}

  static RawData data() {
    RawData d = new RawData()
        .customer("A", "a@x.example", 40, "F", "North", "2025-01-01")
        .customer("E", " A@X.example ", 41, "F", "South", "2025-06-01")
        .customer("B", "b@x.example", 30, "M", "South", "2024-01-01")
        .customer("C", "c@x.example", 70, "M", "East", "2024-01-01")
        .customer("D", null, null, "F", "West", "2026-04-01")
        .customer("F", "f@x.example", 150, null, " ", "2025-06-01")
        .customer("I", "i@x.example", 24, "F", "North", "2025-01-01")
        .customer("J", "j@x.example", 55, "U", "North", "2024-06-01")
        .customer("G", "g@x.example", 33, "F", "North", "2026-05-10");
    // A: S-1, S-30 (via E, promo, discount 10), S-31 (revenue missing, returned), S-365, S-366
    d.order("O1", "A", "2026-04-30", 100.0)
        .order("O2", "E", "2026-04-01", 50.0, 10.0, true, false)
        .order("O3", "A", "2026-03-31", null, 0.0, false, true)
        .order("O4", "A", "2025-05-01", 200.0)
        .order("O5", "A", "2025-04-30", 1000.0)
        .order("O6", "A", "2026-05-01", 70.0);
    d.order("B1", "B", "2026-04-21", 20.0).order("B2", "B", "2026-03-01", 30.0)
        .order("B3", "B", "2026-05-30", 25.0);
    d.order("F1", "F", "2025-11-01", 5.0);
    d.order("I1", "I", "2026-02-01", 300.0).order("I2", "I", "2026-01-31", 300.0)
        .order("I3", "I", "2026-01-30", 300.0).order("I4", "I", "2026-05-31", 10.0);
    d.order("J1", "J", "2026-01-01", 40.0).order("J2", "J", "2025-12-01", 45.0);
    d.order("Z1", "Z", "2026-04-01", 5000.0);
    d.line("O1", "Electronics ", 1).line("O1", "home & garden", 2).line("O2", "HOME", 1)
        .line("O4", "beauty", 3).line("O5", "kids", 5).line("O6", "grocery", 1)
        .line("B1", "beauty", 1);
    // A's sessions (one under E)
    d.session("A", "2026-04-30 23:59:59", "web", 600, 4, 2, false)
        .session("A", "2026-04-15 10:00:00", "app", 300, 2, 0, false)
        .session("E", "2026-04-20 10:00:00", "web", 200, 5, 3, false)
        .session("A", "2026-03-01 10:00:00", "web", null, 6, 1, true)
        .session("A", "2026-01-15 10:00:00", "web", 1200, 3, 0, false)
        .session("A", "2025-12-01 10:00:00", "app", 100, 1, 0, false);
    d.email("A", "2026-04-25 10:00:00", "2026-04-25 12:00:00", "2026-04-25 12:05:00")
        .email("A", "2026-04-28 10:00:00", "2026-05-01 00:00:00", null)
        .email("A", "2026-03-15 10:00:00", "2026-03-16 09:00:00", null)
        .email("A", "2026-02-10 10:00:00", "2026-02-11 09:00:00", null)
        .email("A", "2025-12-01 10:00:00", "2025-12-02 09:00:00", null);
    d.follow("A", "instagram", "2025-06-01 08:00:00", null)
        .follow("A", "facebook", "2025-07-01 08:00:00", "2026-02-01 08:00:00");
    d.support("A", "2026-04-10 09:00:00", "complaint")
        .support("A", "2026-01-10 09:00:00", "question")
        .support("A", "2025-06-01 09:00:00", " Complaint ");
    d.profit("A", "2026-04-01", 10).profit("A", "2026-03-01", 20).profit("A", "2026-02-01", 30)
        .profit("A", "2026-01-01", 5).profit("A", "2025-12-01", 5).profit("A", "2025-11-01", 5)
        .profit("A", "2025-05-01", 100).profit("A", "2025-04-01", 999);
    return d;
  }

  /** Events at or after the snapshot instant: none may change a feature of SNAPSHOT. */
  static RawData withLaterEvents() {
    return data()
        .customer("K", "k@x.example", 20, "M", "North", SNAPSHOT)
        .order("L1", "A", SNAPSHOT, 999.0).order("L2", "C", "2026-05-02", 999.0)
        .order("L3", "K", SNAPSHOT, 1.0)
        .line("L1", "toys", 9).line("O6", "garden", 4)
        .session("A", "2026-05-01 00:00:00", "web", 9999, 99, 9, false)
        .session("C", "2026-05-01 00:00:01", "app", 9999, 99, 9, true)
        .email("A", "2026-05-01 00:00:00", "2026-05-01 00:00:01", "2026-05-01 00:00:02")
        .email("C", "2026-05-01 10:00:00", null, null)
        .follow("A", "tiktok", "2026-05-01 00:00:00", null)
        .follow("C", "instagram", "2026-05-01 00:00:00", null)
        .support("A", "2026-05-01 00:00:00", "complaint")
        .profit("A", "2026-05-01", 500).profit("C", "2026-05-01", 500);
  }

  static JobConfig config(Path warehouse, String... overrides) {
    return JobConfig.defaults().with("warehouse=" + warehouse,
        "features.snapshot-dates=[\"2026-05-01\", \"2026-05-02\", \"2026-05-03\"]")
        .with(overrides);
  }

  /** @return features rows by "snapshot/customer" */
  static Map<String, Row> read(Warehouse warehouse) {
    Map<String, Row> out = new HashMap<>();
    for (Row r : warehouse.read(Tables.FEATURES).collectAsList()) {
      out.put(r.getAs("snapshot_date").toString() + "/" + r.getAs("customer_id"), r);
    }
    return out;
  }

  static Warehouse warehouse(Path path) {
    return new Warehouse(SparkTestBase.spark(), path.toString());
  }

  static long rows(Warehouse warehouse, String snapshot) {
    return warehouse.read(Tables.FEATURES).where(col("snapshot_date").cast("string")
        .equalTo(snapshot)).count();
  }
}
