package dev.propensity.jobs.report;

import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import dev.propensity.jobs.explain.Waterfall;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The report's explanation section, drawn from {@link Explanations}: mean |SHAP| per feature, the
 * SHAP summary (beeswarm), dependence plots of the top features, mean contributions per
 * propensity group and per segment, and waterfalls of example customers of the top bin.
 */
final class ExplanationSection {

  /** The section's settings, from {@code propensity.report.*}. */
  record Settings(int sample, int features, int dependence, int examples) {

    static Settings of(JobConfig config) {
      return new Settings(atLeastZero(config, "propensity.report.shap-sample"),
          atLeastZero(config, "propensity.report.shap-features"),
          atLeastZero(config, "propensity.report.dependence-top"),
          atLeastZero(config, "propensity.report.example-customers"));
    }

    private static int atLeastZero(JobConfig config, String key) {
      int v = config.integer(key);
      if (v < 0) {
        throw Errors.invalidConfig(key, v, "an integer of at least 0");
      }
      return v;
    }
  }

  /** Features with their own step in an example's waterfall; the rest are summed. */
  static final int WATERFALL_STEPS = 10;

  private ExplanationSection() {}

  static void add(HtmlReport page, Explanations ex, Settings settings) {
    page.paragraph(String.format("SHAP contributions to the ensemble's %s (the voters' weighted"
        + " vote before calibration, propensity_raw; exact TreeSHAP for trees, linear SHAP for"
        + " logistic regression) of %d customers: %s. A contribution above 0 raises the"
        + " customer's score above the base value, below 0 lowers it.%s",
        ex.space(), ex.customers().size(), ex.source(), ex.skipped().isEmpty() ? ""
            : " Voters without an exact explanation, left out: " + ex.skipped() + "."));
    if (ex.customers().isEmpty()) {
      return;
    }
    List<Map.Entry<String, Double>> ranked = ex.meanAbsolute();
    List<Map.Entry<String, Double>> top = ranked.subList(0, Math.min(settings.features(),
        ranked.size()));
    List<String> topNames = top.stream().map(Map.Entry::getKey).toList();
    page.svg(Svg.hbars("shap-importance", "Mean |SHAP contribution|", "mean |contribution|",
        topNames, top.stream().map(Map.Entry::getValue).toList(), "%.4f"));
    page.svg(Svg.beeswarm("shap-summary", "SHAP summary: each dot a customer",
        topNames.stream().map(ex::swarm).toList()));

    page.heading("Dependence of the top features");
    for (String f : topNames.subList(0, Math.min(settings.dependence(), topNames.size()))) {
      if (ex.numeric(f)) {
        double[][] xy = ex.dependence(f);
        page.svg(Svg.scatter("dependence-" + f, "Dependence: " + f, f, "contribution", xy[0],
            xy[1]));
      } else {
        Map<String, Double> byValue = ex.meanByValue(f);
        page.svg(Svg.hbars("dependence-" + f, "Dependence: " + f + " (mean per value)",
            "mean contribution", new ArrayList<>(byValue.keySet()),
            new ArrayList<>(byValue.values()), "%+.4f"));
      }
    }

    List<String> columns = topNames.subList(0, Math.min(6, topNames.size()));
    var byGroup = ex.meanByGroup(Explanations.Customer::group, columns);
    var bySegment = ex.meanByGroup(Explanations.Customer::segment, columns);
    page.heading("Contributions by propensity group and segment");
    if (byGroup.isEmpty() && bySegment.isEmpty()) {
      page.paragraph("Groups and segments appear once the run has scored a snapshot.");
    }
    if (!byGroup.isEmpty()) {
      page.heatTable("contributions-by-group", "propensity group", "customers", byGroup,
          columns);
    }
    if (!bySegment.isEmpty()) {
      page.heatTable("contributions-by-segment", "segment", "customers", bySegment, columns);
    }

    List<Explanations.Customer> examples = examples(ex.customers(), settings.examples());
    page.heading("Why these customers: waterfalls of the top bin");
    page.paragraph("Base value, then each feature's contribution (largest first), ending at the"
        + " customer's score. Any customer: ./submit.sh explain 'explain.customers=[ID]' writes"
        + " its page to the run folder (explain/).");
    for (Explanations.Customer c : examples) {
      page.svg(Waterfall.of(c.id(), c.base(), c.output(), ex.space(), c.codes(),
          WATERFALL_STEPS).svg("waterfall-" + c.id()));
    }
  }

  /** @return up to {@code n} customers of bin 1 by id, or the highest scores without bins */
  static List<Explanations.Customer> examples(List<Explanations.Customer> customers, int n) {
    List<Explanations.Customer> top = customers.stream()
        .filter(c -> c.bin() != null && c.bin() == 1)
        .sorted(Comparator.comparing(Explanations.Customer::id)).limit(n).toList();
    if (!top.isEmpty()) {
      return top;
    }
    return customers.stream()
        .sorted(Comparator.comparingDouble(Explanations.Customer::output).reversed())
        .limit(n).toList();
  }
}
