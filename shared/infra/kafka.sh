#!/usr/bin/env bash
# kafka.sh — one Apache Kafka 4.x node (KRaft, combined broker + controller) on 127.0.0.1,
# from Maven Central jars. Used by `lg-deploy up` and the test suite (shared/infra/kafka.py).
#
#   kafka.sh start  [--dir DIR] [--port P] [--controller-port C] [--timeout S] [--owner-pid PID]
#   kafka.sh stop   [--dir DIR]
#   kafka.sh status [--dir DIR]
#
# DIR (default ./.lg-deploy/kafka) is the instance: server.properties, data/, logs/server.out,
# kafka.pid. Ports are remembered in DIR/server.properties, so `stop` then `start` on the same
# DIR (a "pause") keeps the port, the topics and the committed offsets.
#   start   idempotent: a broker already running on DIR is left alone (exit 0). Otherwise the
#           jars are fetched once, storage is formatted once, and the broker starts detached in
#           its own session; returns when it logs "Kafka Server started" (exit 1 and the log
#           tail on failure). --owner-pid: stop the broker when that process exits (tests).
#   stop    SIGTERM to the saved pid, SIGKILL after 20 s; exit 0, also when not running.
#   status  prints "running pid=… port=…" (exit 0), "stopped" (exit 3), or "starting …"
#           when the process lives but the port does not answer yet (exit 4).
# Jars: ${LG_DEPLOY_CACHE:-$HOME/.cache/lg-deploy}/kafka-<version>/libs, built in a temp
# folder under a lock and renamed into place, so a killed or concurrent download never
# leaves a partial cache.
set -euo pipefail

# Newest 4.x whose runtime closure resolves from Maven Central: 4.4.0's POM needs
# kafka-tools-api 4.4.0, which Central does not serve (404, checked 2026-11).
KAFKA_VERSION=4.3.1
LOG4J_VERSION=2.25.4  # the log4j-core that kafka-server 4.3.1 declares; the binding must match
DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.11.0  # Maven 3.8 defaults to 2.8
STOP_SECONDS=20

die() { echo "kafka.sh: $*" >&2; exit 1; }

usage() {
  sed -n '5,7p' "$0" | sed 's/^# *//' >&2
  exit 2
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The port of listener $1 (PLAINTEXT or CONTROLLER) in DIR/server.properties, or nothing.
stored() { sed -n "s#^listeners=.*$1://127.0.0.1:\([0-9]*\).*#\1#p" "$DIR/server.properties" 2>/dev/null || true; }

# The saved pid when it is a live (not zombie) broker of this DIR, else nothing.
broker_pid() {
  local pid state
  pid="$(cat "$DIR/kafka.pid" 2>/dev/null)" || return 0
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  state="$(sed -n 's/^[0-9]* (.*) \([A-Z]\).*/\1/p' "/proc/$pid/stat" 2>/dev/null)" || return 0
  [ -n "$state" ] && [ "$state" != Z ] || return 0
  # (Process substitution, not a pipe: with pipefail, grep -q quitting early could fail it.)
  grep -qF "kafka.Kafka $DIR/server.properties" < <(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) \
    && echo "$pid"
  return 0
}

# Fetch the runtime jars of kafka_2.13 plus the SLF4J-1 -> log4j2 binding, which Kafka's own
# build adds only to its release tarball (design-facts 5.4), into the versioned cache.
ensure_jars() {
  local root="${LG_DEPLOY_CACHE:-$HOME/.cache/lg-deploy}"
  local home="$root/kafka-$KAFKA_VERSION"
  LIBS="$home/libs"
  [ -d "$LIBS" ] && return 0
  mkdir -p "$root"
  (
    flock -w 900 8 || die "timed out waiting for another download ($home.lock)"
    [ -d "$LIBS" ] && exit 0
    command -v mvn >/dev/null || die "mvn not found on PATH (needed once to fetch Kafka jars)"
    rm -rf "$home".tmp.*  # left by a killed download; we hold the lock
    local tmp
    tmp="$(mktemp -d "$home.tmp.XXXXXX")"
    echo "kafka.sh: fetching Kafka $KAFKA_VERSION jars from Maven Central (once)" >&2
    local deps="" dep
    for dep in org.apache.kafka:kafka_2.13:$KAFKA_VERSION \
               org.apache.logging.log4j:log4j-api:$LOG4J_VERSION \
               org.apache.logging.log4j:log4j-core:$LOG4J_VERSION \
               org.apache.logging.log4j:log4j-slf4j-impl:$LOG4J_VERSION; do
      IFS=: read -r g a v <<<"$dep"
      deps+="<dependency><groupId>$g</groupId><artifactId>$a</artifactId><version>$v</version></dependency>"
    done
    cat >"$tmp/pom.xml" <<POM
<project><modelVersion>4.0.0</modelVersion>
  <groupId>dev.lgdeploy</groupId><artifactId>kafka-jars</artifactId><version>$KAFKA_VERSION</version>
  <packaging>pom</packaging><dependencies>$deps</dependencies></project>
POM
    if ! mvn -B -q -f "$tmp/pom.xml" "$DEPENDENCY_PLUGIN:copy-dependencies" \
        -DincludeScope=runtime -DoutputDirectory="$tmp/libs" >"$tmp/mvn.log" 2>&1; then
      tail -30 "$tmp/mvn.log" >&2
      rm -rf "$tmp"
      die "mvn could not fetch the Kafka jars"
    fi
    [ -f "$tmp/libs/kafka_2.13-$KAFKA_VERSION.jar" ] || die "kafka_2.13 jar missing in $tmp/libs"
    rm -f "$tmp/mvn.log"
    mv -T "$tmp" "$home"
  ) 8>"$home.lock"
}

write_config() {
  # Static quorum (controller.quorum.voters) rather than --standalone: the voter set is read
  # from this file at every start instead of being written into the metadata log at format
  # time, so a single node needs no dynamic membership and storage is formatted with a plain
  # `format`. (Changing ports is still best avoided; start reuses the stored ones.)
  cat >"$DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DIR/data
auto.create.topics.enable=false
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=5
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
background.threads=2
log.cleaner.dedupe.buffer.size=33554432
PROPS
  cat >"$DIR/log4j2.properties" <<'L4J'
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.out.ref = OUT
# One INFO line, "Kafka Server started", is start's readiness signal.
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = INFO
L4J
}

# Format KRaft storage once, into a side folder renamed into place (a killed format is redone).
format_storage() {
  [ -f "$DIR/data/meta.properties" ] && return 0
  local id
  # A cluster id is a Kafka Uuid: 16 random bytes, URL-safe base64 without padding; Kafka
  # avoids ids starting with "-" (they read as options).
  id=-
  while [[ "$id" == -* ]]; do
    id="$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  done
  rm -rf "$DIR/data" "$DIR/data.formatting"
  sed "s#^log.dirs=.*#log.dirs=$DIR/data.formatting#" "$DIR/server.properties" >"$DIR/format.properties"
  java -Xmx256m -cp "$LIBS/*" -Dlog4j2.configurationFile="file:$DIR/log4j2.properties" \
    kafka.tools.StorageTool format --cluster-id "$id" --config "$DIR/format.properties" \
    >>"$DIR/logs/server.out" 2>&1 || die "storage format failed; see $DIR/logs/server.out"
  rm -f "$DIR/format.properties"
  mv -T "$DIR/data.formatting" "$DIR/data"
}

cmd_start() {
  local pid
  pid="$(broker_pid)"
  if [ -n "$pid" ]; then
    local running_port deadline=$((SECONDS + TIMEOUT))
    running_port="$(stored PLAINTEXT)"
    [ "${PORT:-$running_port}" = "$running_port" ] || die "already running on port $running_port, not $PORT"
    until port_open "$running_port"; do
      [ "$SECONDS" -lt "$deadline" ] || die "pid $pid runs but port $running_port does not answer; see $DIR/logs/server.out"
      sleep 0.2
    done
    echo "running pid=$pid port=$running_port"
    return 0
  fi
  PORT="${PORT:-$(stored PLAINTEXT)}"
  PORT="${PORT:-9092}"
  CPORT="${CPORT:-$(stored CONTROLLER)}"
  CPORT="${CPORT:-$((PORT + 1))}"
  [ "$PORT" != "$CPORT" ] || die "--port and --controller-port must differ"
  command -v java >/dev/null || die "java not found on PATH (Kafka $KAFKA_VERSION needs Java 17+)"
  ensure_jars
  local p
  for p in "$PORT" "$CPORT"; do
    ! port_open "$p" || die "port $p on 127.0.0.1 is already in use"
  done
  mkdir -p "$DIR/logs"
  write_config
  format_storage
  local log="$DIR/logs/server.out" from
  echo "=== kafka.sh start $(date -Is) port=$PORT" >>"$log"
  from="$(stat -c %s "$log")"
  # Own session (setsid): no terminal signal reaches it; fds 8/9 (locks) are not inherited.
  setsid java -Xms128m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="file:$DIR/log4j2.properties" -Dkafka.logs.dir="$DIR/logs" \
    -cp "$LIBS/*" kafka.Kafka "$DIR/server.properties" \
    </dev/null >>"$log" 2>&1 8>&- 9>&- &
  pid=$!
  echo "$pid" >"$DIR/kafka.pid"
  local deadline=$((SECONDS + TIMEOUT))
  until port_open "$PORT" && grep -q "Kafka Server started" < <(tail -c "+$((from + 1))" "$log"); do
    if ! kill -0 "$pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
      kill -KILL "$pid" 2>/dev/null || true
      tail -40 "$log" >&2
      die "Kafka did not start on 127.0.0.1:$PORT; see $log"
    fi
    sleep 0.2
  done
  if [ -n "$OWNER" ]; then
    # shellcheck disable=SC2016  # $1.. expand in the watcher, not here
    setsid bash -c 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 2; done
      kill -0 "$2" 2>/dev/null && exec bash "$3" stop --dir "$4"' \
      _ "$OWNER" "$pid" "$SCRIPT" "$DIR" </dev/null >/dev/null 2>&1 8>&- 9>&- &
  fi
  echo "running pid=$pid port=$PORT"
}

cmd_stop() {
  local pid
  pid="$(broker_pid)"
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + STOP_SECONDS))
    while [ -n "$(broker_pid)" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
    if [ -n "$(broker_pid)" ]; then
      echo "kafka.sh: no exit ${STOP_SECONDS}s after SIGTERM; SIGKILL $pid" >&2
      kill -KILL "$pid" 2>/dev/null || true
      while [ -n "$(broker_pid)" ]; do sleep 0.1; done
    fi
  fi
  rm -f "$DIR/kafka.pid"
  echo stopped
}

cmd_status() {
  local pid port
  pid="$(broker_pid)"
  port="$(stored PLAINTEXT)"
  if [ -z "$pid" ]; then
    echo stopped
    exit 3
  elif port_open "$port"; then
    echo "running pid=$pid port=$port"
  else
    echo "starting pid=$pid port=$port (port not answering)"
    exit 4
  fi
}

[ $# -ge 1 ] || usage
SCRIPT="$(cd "$(dirname "$0")" && pwd -P)/$(basename "$0")"
COMMAND="$1"
shift
DIR=./.lg-deploy/kafka PORT="" CPORT="" TIMEOUT=120 OWNER=""
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || usage
  case "$1" in
    --dir) DIR="$2" ;;
    --port) PORT="$2" ;;
    --controller-port) CPORT="$2" ;;
    --timeout) TIMEOUT="$2" ;;
    --owner-pid) OWNER="$2" ;;
    *) usage ;;
  esac
  shift 2
done
for n in "$PORT" "$CPORT" "$TIMEOUT" "$OWNER"; do
  [[ "$n" =~ ^[0-9]*$ ]] || die "not a number: $n"
done
if [ ! -d "$DIR" ] && [ "$COMMAND" != start ]; then
  echo stopped
  [ "$COMMAND" = stop ] || exit 3
  exit 0
fi
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd -P)"

case "$COMMAND" in
  status) cmd_status ;;
  start | stop)
    # One start or stop at a time per instance (fd 9 is closed for the broker itself).
    exec 9>"$DIR/.lock"
    flock -w "$((TIMEOUT + STOP_SECONDS + 30))" 9 || die "timed out waiting for $DIR/.lock"
    "cmd_$COMMAND"
    ;;
  *) usage ;;
esac
