#!/usr/bin/env bash
# Builds the consumer projects against the INSTALLED agnostic-sam artifacts (run
# `mvn -B install -DskipTests -pl bom,core,conformance,engine-djl,engine-tensorflow,spark -am` first)
# and runs each main: a few Agnostic-SAM steps whose loss must fall.
#   module-path-consumer: a named module on --module-path, once per engine, with the minimal flags
#                         README's "Using it from your build" gives
#   class-path-consumer:  the same program (the module-path consumer's jar: its module-info is
#                         ignored there) on the class path, both engines side by side
#   spark-consumer:       a Spark application (local mode) running two replicas as one barrier stage
#                         with agnostic-sam-spark, with the add-opens Spark needs on Java 17
# Extra Maven options (e.g. -o, -Dmaven.repo.local=...) come from MAVEN_ARGS.
set -euo pipefail
cd "$(dirname "$0")"
mvn_args=(-B -q ${MAVEN_ARGS:-})
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"

run() {
  echo "+ $*" >&2
  "$@"
}

mp=module-path-consumer
for engine in djl tensorflow; do
  rm -rf "$mp/target/$engine"
  mvn "${mvn_args[@]}" -f "$mp/pom.xml" -P "$engine" package
  # PyTorch's native library jar has no valid module name: it alone goes on the class path.
  native=("$mp/target/$engine"/classpath/*.jar)
  cp_args=()
  if [ -e "${native[0]}" ]; then cp_args=(-cp "$(IFS=:; echo "${native[*]}")"); fi
  run java --module-path "$mp/target/module-path-consumer.jar:$mp/target/$engine/modules" "${cp_args[@]}" \
    -m org.example.consumer/org.example.consumer.Main "$engine"
done

cp=class-path-consumer
rm -rf "$cp/target/lib"
mvn "${mvn_args[@]}" -f "$cp/pom.xml" package
for engine in djl tensorflow; do
  run java -cp "$mp/target/module-path-consumer.jar:$cp/target/lib/*" org.example.consumer.Main "$engine"
done

sc=spark-consumer
rm -rf "$sc/target/lib"
mvn "${mvn_args[@]}" -f "$sc/pom.xml" package
run java --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED \
  --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
  --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED \
  -cp "$sc/target/spark-consumer.jar:$sc/target/lib/*" org.example.spark.Main
