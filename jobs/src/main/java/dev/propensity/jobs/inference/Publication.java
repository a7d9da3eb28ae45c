package dev.propensity.jobs.inference;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import java.util.Optional;
import java.util.UUID;

/**
 * The publish markers that tie {@code customer_propensity} to the {@code customer_scores} commit
 * it was built from. Each of score's two commits carries one in Delta's commit user metadata
 * ({@code DESCRIBE HISTORY}'s {@code userMetadata}): the scores write
 * {@code {"publish":"scores","id":..,"snapshot_date":..,"run_id":..}}, the lookup MERGE the same
 * plus {@code "scores_version"}. A reader compares the newest of each: the lookup is current when
 * its {@code scores_version} is the newest scores commit; else a kill came between the two and
 * the next {@code score} republishes that version first.
 */
public final class Publication {

  static final ObjectMapper JSON = new ObjectMapper();
  /** How many of a table's newest commits are searched for a marker. */
  static final int HISTORY = 200;

  /** One published (or to be published) scores commit. */
  public record Marker(String id, String snapshot, String runId, long scoresVersion) {

    String scoresJson() {
      return json("scores").toString();
    }

    String lookupJson() {
      return json("lookup").put("scores_version", scoresVersion).toString();
    }

    private ObjectNode json(String kind) {
      return JSON.createObjectNode().put("publish", kind).put("id", id)
          .put("snapshot_date", snapshot).put("run_id", runId);
    }
  }

  /**
   * What a reader sees.
   *
   * @param scores the newest marked commit of customer_scores (scoresVersion = its version)
   * @param lookup the marker of the newest marked commit of customer_propensity
   * @param lookupVersion that commit's version, or -1
   */
  public record State(Optional<Marker> scores, Optional<Marker> lookup, long lookupVersion) {

    /** @return whether the lookup holds exactly the newest scores commit (or neither exists) */
    public boolean consistent() {
      return scores.isEmpty() || lookup.isPresent()
          && lookup.get().scoresVersion() == scores.get().scoresVersion();
    }

    /** @return one line a person can act on */
    public String describe() {
      if (scores.isEmpty()) {
        return lookup.isEmpty() ? "nothing published yet (no marked customer_scores commit)"
            : "customer_propensity holds snapshot " + lookup.get().snapshot() + " of run "
                + lookup.get().runId() + " but customer_scores has no marked commit";
      }
      Marker s = scores.get();
      if (consistent()) {
        return "consistent: customer_propensity (version " + lookupVersion + ") holds snapshot "
            + s.snapshot() + " of run " + s.runId() + " = customer_scores version "
            + s.scoresVersion();
      }
      return "INCONSISTENT: customer_scores version " + s.scoresVersion() + " (snapshot "
          + s.snapshot() + ", run " + s.runId() + ") is not published to customer_propensity, "
          + lookup.map(l -> "which holds snapshot " + l.snapshot() + " of run " + l.runId()
              + " from customer_scores version " + l.scoresVersion())
              .orElse("which has no publish marker in its last " + HISTORY + " commits")
          + "; the next score run republishes it";
    }
  }

  private Publication() {}

  /** @return a marker for a new scores commit (its version is not known yet) */
  static Marker start(String snapshot, String runId) {
    return new Marker(UUID.randomUUID().toString(), snapshot, runId, -1);
  }

  /**
   * @param warehouse the warehouse holding customer_scores and customer_propensity
   * @return what the newest marked commits of both tables say
   */
  public static State check(Warehouse warehouse) {
    Optional<Marker> scores = Optional.empty();
    if (warehouse.exists(Tables.CUSTOMER_SCORES)) {
      scores = newest(warehouse, Tables.CUSTOMER_SCORES, "scores").map(m -> m);
    }
    Optional<Marker> lookup = Optional.empty();
    long lookupVersion = -1;
    if (warehouse.exists(Tables.CUSTOMER_PROPENSITY)) {
      for (Warehouse.Commit c : warehouse.history(Tables.CUSTOMER_PROPENSITY, HISTORY)) {
        Optional<Marker> m = parse(c.userMetadata(), "lookup", -1);
        if (m.isPresent()) {
          lookup = m;
          lookupVersion = c.version();
          break;
        }
      }
    }
    return new State(scores, lookup, lookupVersion);
  }

  /** @return the version of the scores commit carrying {@code id} */
  static long versionOf(Warehouse warehouse, String id) {
    for (Warehouse.Commit c : warehouse.history(Tables.CUSTOMER_SCORES, HISTORY)) {
      if (parse(c.userMetadata(), "scores", c.version()).filter(m -> m.id().equals(id))
          .isPresent()) {
        return c.version();
      }
    }
    throw new IllegalStateException("The customer_scores commit of publish " + id
        + " is not in the table's last " + HISTORY + " commits");
  }

  private static Optional<Marker> newest(Warehouse warehouse, String table, String kind) {
    for (Warehouse.Commit c : warehouse.history(table, HISTORY)) {
      Optional<Marker> m = parse(c.userMetadata(), kind, c.version());
      if (m.isPresent()) {
        return m;
      }
    }
    return Optional.empty();
  }

  private static Optional<Marker> parse(String userMetadata, String kind, long version) {
    if (userMetadata == null || !userMetadata.startsWith("{")) {
      return Optional.empty();
    }
    try {
      JsonNode n = JSON.readTree(userMetadata);
      if (!kind.equals(n.path("publish").asText())) {
        return Optional.empty();
      }
      return Optional.of(new Marker(n.path("id").asText(), n.path("snapshot_date").asText(),
          n.path("run_id").asText(), "scores".equals(kind) ? version
              : n.path("scores_version").asLong(-1)));
    } catch (JsonProcessingException e) {
      return Optional.empty(); // someone else's metadata
    }
  }
}
