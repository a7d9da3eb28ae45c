package dev.propensity.jobs.features;

import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import java.sql.Date;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Hand-made raw tables with the generator's columns and types, written as Delta tables into a
 * warehouse. Times are UTC ("2026-04-30 23:59:59").
 */
final class RawData {

  static final StructType CUSTOMERS = new StructType()
      .add("customer_id", DataTypes.StringType).add("email", DataTypes.StringType)
      .add("age", DataTypes.IntegerType).add("gender", DataTypes.StringType)
      .add("region", DataTypes.StringType).add("channel", DataTypes.StringType)
      .add("segment", DataTypes.StringType).add("signup_date", DataTypes.DateType);
  static final StructType ORDERS = new StructType()
      .add("order_id", DataTypes.StringType).add("customer_id", DataTypes.StringType)
      .add("order_date", DataTypes.DateType).add("revenue", DataTypes.DoubleType)
      .add("discount", DataTypes.DoubleType).add("promo", DataTypes.BooleanType)
      .add("returned", DataTypes.BooleanType);
  static final StructType LINES = new StructType()
      .add("order_id", DataTypes.StringType).add("line_no", DataTypes.IntegerType)
      .add("category", DataTypes.StringType).add("quantity", DataTypes.IntegerType)
      .add("amount", DataTypes.DoubleType);
  static final StructType SESSIONS = new StructType()
      .add("session_id", DataTypes.StringType).add("customer_id", DataTypes.StringType)
      .add("session_start", DataTypes.TimestampType).add("device", DataTypes.StringType)
      .add("duration_sec", DataTypes.IntegerType).add("pages", DataTypes.IntegerType)
      .add("cart_adds", DataTypes.IntegerType).add("ordered", DataTypes.BooleanType);
  static final StructType EMAILS = new StructType()
      .add("email_id", DataTypes.StringType).add("customer_id", DataTypes.StringType)
      .add("campaign_id", DataTypes.StringType).add("sent_at", DataTypes.TimestampType)
      .add("opened_at", DataTypes.TimestampType).add("clicked_at", DataTypes.TimestampType);
  static final StructType FOLLOWS = new StructType()
      .add("customer_id", DataTypes.StringType).add("platform", DataTypes.StringType)
      .add("followed_at", DataTypes.TimestampType).add("unfollowed_at", DataTypes.TimestampType);
  static final StructType SUPPORT = new StructType()
      .add("contact_id", DataTypes.StringType).add("customer_id", DataTypes.StringType)
      .add("contacted_at", DataTypes.TimestampType).add("channel", DataTypes.StringType)
      .add("reason", DataTypes.StringType);
  static final StructType PROFIT = new StructType()
      .add("customer_id", DataTypes.StringType).add("month", DataTypes.DateType)
      .add("profit", DataTypes.DoubleType);

  private final Map<String, StructType> schemas = new LinkedHashMap<>();
  private final Map<String, List<Row>> rows = new LinkedHashMap<>();
  private int next;

  RawData() {
    schemas.put(Tables.RAW_CUSTOMERS, CUSTOMERS);
    schemas.put(Tables.RAW_ORDERS, ORDERS);
    schemas.put(Tables.RAW_ORDER_LINES, LINES);
    schemas.put(Tables.RAW_WEB_SESSIONS, SESSIONS);
    schemas.put(Tables.RAW_EMAIL_EVENTS, EMAILS);
    schemas.put(Tables.RAW_SOCIAL_FOLLOWS, FOLLOWS);
    schemas.put(Tables.RAW_SUPPORT_CONTACTS, SUPPORT);
    schemas.put(Tables.RAW_PROFIT, PROFIT);
    schemas.keySet().forEach(t -> rows.put(t, new ArrayList<>()));
  }

  /** @return a copy to add more rows to */
  RawData copy() {
    RawData c = new RawData();
    rows.forEach((t, r) -> c.rows.get(t).addAll(r));
    c.next = next;
    return c;
  }

  static Date day(String d) {
    return d == null ? null : Date.valueOf(d);
  }

  static Timestamp at(String t) {
    return t == null ? null : Timestamp.from(Instant.parse(t.replace(' ', 'T') + "Z"));
  }

  private String id(String prefix) {
    return prefix + (next++);
  }

  RawData customer(String id, String email, Integer age, String gender, String region,
      String signup) {
    rows.get(Tables.RAW_CUSTOMERS).add(RowFactory.create(id, email, age, gender, region, "web",
        "consumer", day(signup)));
    return this;
  }

  RawData order(String orderId, String customer, String date, Double revenue, double discount,
      boolean promo, boolean returned) {
    rows.get(Tables.RAW_ORDERS).add(RowFactory.create(orderId, customer, day(date), revenue,
        discount, promo, returned));
    return this;
  }

  RawData order(String orderId, String customer, String date, double revenue) {
    return order(orderId, customer, date, revenue, 0.0, false, false);
  }

  RawData line(String orderId, String category, int quantity) {
    rows.get(Tables.RAW_ORDER_LINES).add(RowFactory.create(orderId, next++, category, quantity,
        10.0));
    return this;
  }

  RawData session(String customer, String start, String device, Integer seconds, int pages,
      int cartAdds, boolean ordered) {
    rows.get(Tables.RAW_WEB_SESSIONS).add(RowFactory.create(id("S"), customer, at(start),
        device, seconds, pages, cartAdds, ordered));
    return this;
  }

  RawData email(String customer, String sent, String opened, String clicked) {
    rows.get(Tables.RAW_EMAIL_EVENTS).add(RowFactory.create(id("E"), customer, "c1", at(sent),
        at(opened), at(clicked)));
    return this;
  }

  RawData follow(String customer, String platform, String followed, String unfollowed) {
    rows.get(Tables.RAW_SOCIAL_FOLLOWS).add(RowFactory.create(customer, platform, at(followed),
        at(unfollowed)));
    return this;
  }

  RawData support(String customer, String at, String reason) {
    rows.get(Tables.RAW_SUPPORT_CONTACTS).add(RowFactory.create(id("T"), customer, at(at),
        "chat", reason));
    return this;
  }

  RawData profit(String customer, String month, double profit) {
    rows.get(Tables.RAW_PROFIT).add(RowFactory.create(customer, day(month), profit));
    return this;
  }

  /** Adds a raw row to a table as is (for bad rows). */
  RawData raw(String table, Object... values) {
    rows.get(table).add(RowFactory.create(values));
    return this;
  }

  /** Writes every table (empty ones too) under the warehouse, replacing what was there. */
  void write(SparkSession spark, Warehouse warehouse) {
    rows.keySet().forEach(t -> write(spark, warehouse, t));
  }

  /** Writes one table as Delta under the warehouse. */
  void write(SparkSession spark, Warehouse warehouse, String table) {
    warehouse.overwrite(frame(spark, table).coalesce(1), table);
  }

  /** @return one table's rows */
  org.apache.spark.sql.Dataset<Row> frame(SparkSession spark, String table) {
    return spark.createDataFrame(rows.get(table), schemas.get(table));
  }
}
