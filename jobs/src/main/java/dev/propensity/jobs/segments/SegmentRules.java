package dev.propensity.jobs.segments;

import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.Column;

/**
 * The segment matrix of {@code propensity.segments}: propensity groups (by bin, or the scores'
 * group labels), profit tiers (by quantile or amount) and the rules mapping a (group, tier) cell
 * to an action. Validated from config before any Spark work.
 *
 * @param groups propensity groups by bin; empty to use the scores' {@code group_label}
 * @param tiers profit tier names, highest first
 * @param byQuantile whether {@code cuts} are quantiles of profit (else amounts)
 * @param cuts the lower bound of each tier but the last, highest first
 * @param rules the rules, first match wins
 * @param defaultAction the action of a cell no rule matches
 */
public record SegmentRules(List<Group> groups, List<String> tiers, boolean byQuantile,
    double[] cuts, List<Rule> rules, String defaultAction) {

  /** Matches any group or tier in a rule. */
  public static final String ANY = "*";

  private static final String KEY = "propensity.segments.";

  /** A propensity group: a name and the bins it holds. */
  public record Group(String name, List<Integer> bins) {}

  /** A rule: a (propensity group, profit tier) pattern and its action. */
  public record Rule(String propensity, String profit, String action) {
    /** The propensity group matches ignoring case: rule {@code high} matches label {@code High}. */
    boolean matches(String group, String tier) {
      return (ANY.equals(propensity) || propensity.equalsIgnoreCase(group))
          && (ANY.equals(profit) || profit.equals(tier));
    }
  }

  /** @return the rules of {@code propensity.segments.*}, validated */
  public static SegmentRules fromConfig(JobConfig config) {
    Config raw = config.raw();
    List<Group> groups = new ArrayList<>();
    Set<Integer> seenBins = new HashSet<>();
    Set<String> names = new LinkedHashSet<>();
    for (Config g : configList(raw, KEY + "propensity-groups", "{name = high, bins = [1, 2]}")) {
      String name = string(g, "name", KEY + "propensity-groups");
      List<Integer> bins = intList(g, "bins", KEY + "propensity-groups");
      if (!names.add(name)) {
        throw Errors.invalidConfig(KEY + "propensity-groups", name, "unique group names");
      }
      for (int b : bins) {
        if (b < 1 || !seenBins.add(b)) {
          throw Errors.invalidConfig(KEY + "propensity-groups", name + " bins " + bins,
              "bins numbered from 1, each in one group only");
        }
      }
      groups.add(new Group(name, List.copyOf(bins)));
    }
    List<String> tiers = config.strings(KEY + "profit.tiers");
    if (tiers.isEmpty() || new HashSet<>(tiers).size() != tiers.size()) {
      throw Errors.invalidConfig(KEY + "profit.tiers", tiers, "one or more distinct tier names");
    }
    boolean byQuantile = "quantile".equals(config.oneOf(KEY + "profit.tier-by",
        List.of("quantile", "amount")));
    double[] cuts = config.numbers(KEY + "profit.cuts").stream().mapToDouble(Double::doubleValue)
        .toArray();
    if (cuts.length != tiers.size() - 1) {
      throw Errors.invalidConfig(KEY + "profit.cuts", config.numbers(KEY + "profit.cuts"),
          (tiers.size() - 1) + " cut(s): one per tier of " + KEY + "profit.tiers but the last");
    }
    for (int i = 0; i < cuts.length; i++) {
      if ((i > 0 && !(cuts[i] < cuts[i - 1])) || (byQuantile && !(cuts[i] > 0 && cuts[i] < 1))) {
        throw Errors.invalidConfig(KEY + "profit.cuts", config.numbers(KEY + "profit.cuts"),
            "strictly decreasing values" + (byQuantile ? " between 0 and 1 (quantiles)" : ""));
      }
    }
    List<Rule> rules = new ArrayList<>();
    for (Config r : configList(raw, KEY + "rules",
        "{propensity = low, profit = high, action = retention-offer}")) {
      Rule rule = new Rule(string(r, "propensity", KEY + "rules"),
          string(r, "profit", KEY + "rules"), string(r, "action", KEY + "rules"));
      if (!ANY.equals(rule.profit()) && !tiers.contains(rule.profit())) {
        throw Errors.unknownName(KEY + "rules.profit", rule.profit(), tiers);
      }
      if (!groups.isEmpty() && !ANY.equals(rule.propensity())
          && !names.contains(rule.propensity())) {
        throw Errors.unknownName(KEY + "rules.propensity", rule.propensity(), names);
      }
      rules.add(rule);
    }
    String defaultAction = config.string(KEY + "default-action");
    return new SegmentRules(List.copyOf(groups), List.copyOf(tiers), byQuantile, cuts,
        List.copyOf(rules), defaultAction);
  }

  /** @return the group of a bin column (only when {@link #groups} is not empty) */
  public Column group(Column bin) {
    Column out = lit(null).cast("string");
    for (int i = groups.size() - 1; i >= 0; i--) {
      out = when(bin.isin(groups.get(i).bins().toArray()), groups.get(i).name()).otherwise(out);
    }
    return out;
  }

  /**
   * @param profit the profit column
   * @param cutValues the profit amount of each cut (the quantiles' values when by quantile)
   * @return the tier column: the first tier whose cut the profit reaches, else the last
   */
  public Column tier(Column profit, double[] cutValues) {
    Column out = lit(tiers.get(tiers.size() - 1));
    for (int i = cutValues.length - 1; i >= 0; i--) {
      out = when(profit.geq(cutValues[i]), tiers.get(i)).otherwise(out);
    }
    return out;
  }

  /** @return the action of a cell: the first matching rule's, else the default */
  public String action(String group, String tier) {
    return rules.stream().filter(r -> r.matches(group, tier)).map(Rule::action).findFirst()
        .orElse(defaultAction);
  }

  /** @return the action column of every (group, tier) cell of {@code groupNames} x tiers */
  public Column action(Column group, Column tier, List<String> groupNames) {
    Column out = lit(defaultAction);
    for (int g = groupNames.size() - 1; g >= 0; g--) {
      for (int t = tiers.size() - 1; t >= 0; t--) {
        out = when(group.equalTo(groupNames.get(g)).and(tier.equalTo(tiers.get(t))),
            action(groupNames.get(g), tiers.get(t))).otherwise(out);
      }
    }
    return out;
  }

  /** @return the segment name of a cell, e.g. {@code low propensity, high profit} */
  public static Column segment(Column group, Column tier) {
    return concat(group, lit(" propensity, "), tier, lit(" profit"));
  }

  /** @return the segment name of a cell */
  public static String segment(String group, String tier) {
    return group + " propensity, " + tier + " profit";
  }

  private static List<? extends Config> configList(Config raw, String key, String example) {
    try {
      return raw.getConfigList(key);
    } catch (ConfigException e) {
      throw Errors.invalidConfig(key, raw.hasPath(key) ? raw.getValue(key).render() : "(missing)",
          "a list of objects, e.g. [" + example + "]");
    }
  }

  private static String string(Config c, String field, String key) {
    try {
      String v = c.getString(field);
      if (v.isBlank()) {
        throw Errors.invalidConfig(key, c.root().render(), "a non-empty '" + field + "'");
      }
      return v;
    } catch (ConfigException e) {
      throw Errors.invalidConfig(key, c.root().render(), "a string field '" + field + "'");
    }
  }

  private static List<Integer> intList(Config c, String field, String key) {
    try {
      return c.getIntList(field);
    } catch (ConfigException e) {
      throw Errors.invalidConfig(key, c.root().render(), "a list of bin numbers '" + field + "'");
    }
  }
}
