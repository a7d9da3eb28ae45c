package dev.propensity.jobs.cli;

import dev.propensity.common.PropensityException;
import dev.propensity.jobs.Job;
import dev.propensity.jobs.bins.BinsJob;
import dev.propensity.jobs.explain.ExplainJob;
import dev.propensity.jobs.features.FeaturesJob;
import dev.propensity.jobs.generate.GenerateJob;
import dev.propensity.jobs.inference.ScoreJob;
import dev.propensity.jobs.loop.CycleJob;
import dev.propensity.jobs.loop.PolicyJob;
import dev.propensity.jobs.loop.SimulateJob;
import dev.propensity.jobs.maintenance.MaintainJob;
import dev.propensity.jobs.monitoring.DriftJob;
import dev.propensity.jobs.monitoring.PerformanceJob;
import dev.propensity.jobs.promotion.PromoteJob;
import dev.propensity.jobs.report.ReportJob;
import dev.propensity.jobs.segments.SegmentsJob;
import dev.propensity.jobs.selection.SelectJob;
import dev.propensity.jobs.training.TrainJob;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Every job by name. {@link #STEPS} is the pipeline order schedulers must follow. */
public final class Jobs {

  /** The pipeline's steps, in order. */
  public static final List<Job> STEPS = List.of(new GenerateJob(), new FeaturesJob(),
      new TrainJob(), new SelectJob(), new BinsJob(), new PromoteJob(), new ScoreJob(),
      new SegmentsJob(), new DriftJob());

  private Jobs() {}

  /** @return the steps a scheduler runs on real data: every step but {@code generate} */
  public static List<String> scheduled() {
    return STEPS.stream().map(Job::name).filter(n -> !"generate".equals(n)).toList();
  }

  /**
   * @return every job: steps first, then performance, the weekly loop's policy, cycle and
   *     simulate, pipeline, demo, sql, report, explain and maintain
   */
  public static Map<String, Job> all() {
    Map<String, Job> jobs = new LinkedHashMap<>();
    STEPS.forEach(j -> jobs.put(j.name(), j));
    jobs.put("performance", new PerformanceJob());
    List.of(new PolicyJob(), new CycleJob(), new SimulateJob(), new PipelineJob(), new DemoJob(),
        new SqlJob(), new ReportJob(), new ExplainJob(), new MaintainJob())
        .forEach(j -> jobs.put(j.name(), j));
    return jobs;
  }

  /**
   * @return the job of that name
   * @throws dev.propensity.common.PropensityException listing the known names
   */
  public static Job byName(String name) {
    Job job = all().get(name);
    if (job == null) {
      throw new PropensityException(String.format("Unknown job '%s'; known: %s",
          name, String.join(", ", all().keySet())));
    }
    return job;
  }
}
