#!/usr/bin/env bash
# Run a propensity job.
#   ./submit.sh demo                         generate data and run the whole pipeline locally
#   ./submit.sh JOB [-c FILE] [key=value...] run one job (generate features train select bins promote score segments drift ...)
#   ./submit.sh sql "STATEMENTS" [--csv] [--allow-writes]  Spark SQL over the warehouse (read-only by default)
#   ./submit.sh report [RUN]                 (re)build runs/RUN/report.html (default: latest)
#   ./submit.sh promote RUN                  make RUN the champion by hand (pin or roll back)
#   ./submit.sh cycle loop.date=YYYY-MM-DD   one week of the loop; ./submit.sh simulate: many
#   ./submit.sh serve [-c FILE] [key=value...] the real-time HTTP service (plain java, no Spark)
#   ./submit.sh build                        build the jars (also done on first use)
# With SPARK_HOME set it calls $SPARK_HOME/bin/spark-submit with the cluster jar; with
# --master URL and no SPARK_HOME it runs Spark's SparkSubmit from the Maven classpath; otherwise
# it runs locally from the Maven-built classpath. Extra spark-submit options: SPARK_SUBMIT_ARGS.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MAIN=dev.propensity.jobs.cli.Main
TARGET="$HERE/jobs/target"
CLASSPATH_FILE="$TARGET/local-classpath.txt"

usage() { sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

cluster_jar() { ls "$TARGET"/propensity-jobs-*-cluster.jar 2>/dev/null | head -n 1; }
app_jar() { ls "$TARGET"/propensity-jobs-*.jar 2>/dev/null | grep -v -- '-cluster' | head -n 1; }

build() {
  echo "submit.sh: building (mvn package, tests skipped)..." >&2
  (cd "$HERE" && mvn -B -q -DskipTests package) >&2
}

needs_build() {
  [[ -z "$(cluster_jar)" || ! -f "$CLASSPATH_FILE" ]] && return 0
  # rebuild when a source or pom is newer than the jar
  [[ -n "$(find "$HERE/common/src/main" "$HERE/jobs/src/main" "$HERE/pom.xml" "$HERE/common/pom.xml" \
      "$HERE/jobs/pom.xml" -newer "$(cluster_jar)" -type f -print -quit 2>/dev/null)" ]]
}

java_opts() {
  # Spark's own module options (org.apache.spark.launcher.JavaModuleOptions); spark-submit adds them itself
  echo "-XX:+IgnoreUnrecognizedVMOptions --add-modules=jdk.incubator.vector \
--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED \
--add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED \
--add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED \
--add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED \
--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED \
--add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED \
--add-opens=java.base/sun.security.action=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED \
-Djdk.reflect.useDirectMethodHandle=false -Dio.netty.tryReflectionSetAccessible=true \
-Dlog4j.configurationFile=${PROPENSITY_LOG4J:-$HERE/conf/log4j2.properties} \
${PROPENSITY_JIT_OPTS-$JIT_OPTS}"
}

# The JIT's optimising compiler (C2) only for methods called 4x more often than its default: a
# job compiles thousands of one-off query plans (Janino's generated classes, Janino itself) that
# C2 would optimise for seconds each; hot loops still reach C2. Train at 100k: 133 s -> 120 s,
# same results (benchmarks/RESULTS.md). PROPENSITY_JIT_OPTS= (empty) keeps the JVM's defaults.
JIT_OPTS="-XX:Tier4InvocationThreshold=20000 -XX:Tier4MinInvocationThreshold=2000 -XX:Tier4CompileThreshold=40000"

cmd="${1:-}"
case "$cmd" in
  ""|-h|--help|help) usage; exit 0 ;;
  build) build; exit 0 ;;
esac
shift

# ./submit.sh serve: the real-time service (serve module) with plain java; Spark is not on its
# classpath. Bind address, port and the rest: propensity.serve.* (README "Real-time service").
if [[ "$cmd" == "serve" ]]; then
  SERVE_TARGET="$HERE/serve/target"
  serve_jar() { ls "$SERVE_TARGET"/propensity-serve-*.jar 2>/dev/null | head -n 1; }
  if [[ -z "$(serve_jar)" || ! -f "$SERVE_TARGET/serve-classpath.txt" || -n "$(find \
      "$HERE/serve/src/main" "$HERE/common/src/main" "$HERE/serve/pom.xml" "$HERE/pom.xml" \
      -newer "$(serve_jar)" -type f -print -quit 2>/dev/null)" ]]; then
    echo "submit.sh: building the serve module (mvn package, tests skipped)..." >&2
    (cd "$HERE" && mvn -B -q -DskipTests -pl serve -am package) >&2
  fi
  exec java -Xmx"${PROPENSITY_SERVE_MEMORY:-2g}" ${PROPENSITY_SERVE_JAVA_OPTS:-} \
    -Dlog4j.configurationFile="${PROPENSITY_LOG4J:-$HERE/conf/log4j2.properties}" \
    -cp "$(serve_jar):$(cat "$SERVE_TARGET/serve-classpath.txt")" dev.propensity.serve.ServeMain "$@"
fi

# pull --master URL out of the job's arguments
master=""
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --master) master="$2"; shift 2 ;;
    --master=*) master="${1#--master=}"; shift ;;
    *) args+=("$1"); shift ;;
  esac
done

# ./submit.sh promote RUN: pin that run as champion (forced, recorded in model_registry)
if [[ "$cmd" == "promote" && ${#args[@]} -gt 0 && "${args[0]}" != -* && "${args[0]}" != *=* ]]; then
  args=("promote.run-id=${args[0]}" "promote.force=true" "${args[@]:1}")
fi

# ./submit.sh report [RUN]: the run to report on (default latest)
if [[ "$cmd" == "report" && ${#args[@]} -gt 0 && "${args[0]}" != -* && "${args[0]}" != *=* ]]; then
  args=("report.run=${args[0]}" "${args[@]:1}")
fi

if [[ "$cmd" == "demo" ]]; then
  has_conf=false
  for a in "${args[@]+"${args[@]}"}"; do [[ "$a" == "-c" || "$a" == "--config" || "$a" == "--env" ]] && has_conf=true; done
  $has_conf || args=(-c "$HERE/conf/demo.conf" "${args[@]+"${args[@]}"}")
fi

if needs_build; then build; fi
export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"

if [[ -n "${SPARK_HOME:-}" ]]; then
  exec "$SPARK_HOME/bin/spark-submit" ${master:+--master "$master"} --class "$MAIN" \
    --driver-java-options "-Dlog4j.configurationFile=${PROPENSITY_LOG4J:-$HERE/conf/log4j2.properties}" \
    ${SPARK_SUBMIT_ARGS:-} "$(cluster_jar)" "$cmd" "${args[@]+"${args[@]}"}"
fi

CP="$(app_jar):$(cat "$CLASSPATH_FILE")"
# shellcheck disable=SC2046
if [[ -n "$master" ]]; then
  exec java $(java_opts) -Xmx"${PROPENSITY_DRIVER_MEMORY:-2g}" -cp "$CP" org.apache.spark.deploy.SparkSubmit \
    --master "$master" --class "$MAIN" \
    --conf "spark.driver.extraJavaOptions=-Dlog4j.configurationFile=${PROPENSITY_LOG4J:-$HERE/conf/log4j2.properties}" \
    ${SPARK_SUBMIT_ARGS:-} "$(cluster_jar)" "$cmd" "${args[@]+"${args[@]}"}"
fi
exec java $(java_opts) -Xmx"${PROPENSITY_DRIVER_MEMORY:-4g}" -cp "$CP" "$MAIN" "$cmd" "${args[@]+"${args[@]}"}"
