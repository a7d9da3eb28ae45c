# Sourced by the Java benchmarks: builds the test classes offline, then `bench_java XMX CLASS ARGS...`
# runs CLASS on the jobs module's test classpath in local[2] with Spark's module opens (kept in the
# root pom.xml), the project's log4j2 layout and SPARK_LOCAL_IP on loopback. Env: BENCH_OPTS.
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$HERE"
mvn -B -q -o test-compile -pl jobs -am >&2

machine() {
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/^Mem:/ {print $2 " GiB"}'), $(java -version 2>&1 | head -n 1), $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo none), load $(cut -d' ' -f1-3 /proc/loadavg)"
}

bench_java() {
  local xmx="$1" main="$2"
  shift 2
  local cp="jobs/target/test-classes:jobs/target/classes:common/target/test-classes:common/target/classes:$(cat jobs/target/local-classpath.txt)"
  local opens
  opens="$(sed -n 's:.*<spark.jvm.opens>\(.*\)</spark.jvm.opens>.*:\1:p' "$HERE/pom.xml")"
  # shellcheck disable=SC2086
  SPARK_LOCAL_IP=127.0.0.1 exec java -Xmx"$xmx" ${BENCH_OPTS:-} $opens \
    -Dlog4j.configurationFile="$HERE/conf/log4j2.properties" -cp "$cp" "$main" "$@"
}
