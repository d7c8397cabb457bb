# shellcheck shell=bash
# Shared helpers for the local-platform scripts in dev/ (sourced, not run):
# paths, messages, installing Java/Maven, assembling the Kafka jars from
# Maven Central into the cache, and port/process checks.

# Repository root, found from this file's location (dev/lib/common.sh).
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEV_DIR="$REPO_ROOT/dev"
CACHE_DIR="${ORCH_CACHE_DIR:-$REPO_ROOT/.cache}"

KAFKA_POM="$DEV_DIR/lib/kafka/pom.xml"
KAFKA_HOME_DIR="$CACHE_DIR/kafka"
KAFKA_LIBS="$KAFKA_HOME_DIR/libs"
KAFKA_LIBS_MARKER="$KAFKA_LIBS/.assembled"

info() { printf '%s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# apt_install PKG...: non-interactive install, with one `apt-get update` first.
_APT_UPDATED=0
apt_install() {
  [[ $(id -u) -eq 0 ]] || die "need root to apt-get install $*"
  export DEBIAN_FRONTEND=noninteractive
  if [[ $_APT_UPDATED -eq 0 ]]; then
    info "apt-get update ..."
    apt-get update -q >/dev/null || die "apt-get update failed"
    _APT_UPDATED=1
  fi
  info "apt-get install -y $* ..."
  apt-get install -y -q --no-install-recommends "$@" >/dev/null ||
    die "apt-get install $* failed"
}

# go_bin: the Go toolchain's path (on the PATH or Go's default /usr/local/go);
# status 1 if Go is not installed.
go_bin() {
  if command -v go >/dev/null; then command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then echo /usr/local/go/bin/go
  else return 1
  fi
}

# What the Rust build links beyond the toolchain: OpenSSL for librdkafka's
# TLS and SASL/SCRAM, found through pkg-config.
ensure_build_deps() {
  dpkg-query -W -f='${Status}' libssl-dev 2>/dev/null | grep -q 'ok installed' &&
    command -v pkg-config >/dev/null && return 0
  apt_install libssl-dev pkg-config
}

# Java 17+ (Kafka 4.x brokers need it) and Maven, installed from Debian if missing.
JAVA_BIN=""
ensure_java() {
  [[ -n $JAVA_BIN ]] && return 0
  local candidate="" major
  if [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]]; then
    candidate="$JAVA_HOME/bin/java"
  elif command -v java >/dev/null 2>&1; then
    candidate="$(command -v java)"
  fi
  if [[ -n $candidate ]]; then
    major="$(java_major "$candidate")"
    if [[ $major -lt 17 ]]; then
      warn "$candidate is Java $major; Kafka 4.x needs 17+, installing openjdk-17"
      candidate=""
    fi
  fi
  if [[ -z $candidate ]]; then
    apt_install openjdk-17-jdk-headless
    candidate=/usr/lib/jvm/java-17-openjdk-amd64/bin/java
    [[ -x $candidate ]] || candidate="$(command -v java)" || die "java not found after installing openjdk-17-jdk-headless"
  fi
  JAVA_BIN="$candidate"
}

java_major() {
  local v
  v="$("$1" -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')"
  v="${v#1.}"
  printf '%s\n' "${v%%[.+-]*}"
}

ensure_maven() {
  command -v mvn >/dev/null 2>&1 || apt_install maven
}

ensure_ss() {
  command -v ss >/dev/null 2>&1 || apt_install iproute2
}

# Kafka version requested (KAFKA_VERSION env), else the pom's default.
kafka_version() {
  if [[ -n ${KAFKA_VERSION:-} ]]; then
    printf '%s\n' "$KAFKA_VERSION"
  else
    sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_POM" | head -n1
  fi
}

# What the marker records: the Kafka version plus a hash of the pom, so editing
# the pom (e.g. the log4j2 version) also triggers a fresh copy.
kafka_libs_stamp() {
  printf 'kafka.version=%s pom.sha256=%s\n' "$(kafka_version)" "$(sha256sum "$KAFKA_POM" | cut -c1-16)"
}

# Copy Kafka's runtime jars from Maven Central into $KAFKA_LIBS, unless the
# jars for the requested version are already there.
kafka_assemble() {
  local version stamp tmp out
  version="$(kafka_version)"
  [[ -n $version ]] || die "cannot read <kafka.version> from $KAFKA_POM"
  stamp="$(kafka_libs_stamp)"
  if [[ -f $KAFKA_LIBS_MARKER && "$(cat "$KAFKA_LIBS_MARKER")" == "$stamp" ]]; then
    return 0
  fi
  # Serialize concurrent first runs (e.g. several dev/kafka-tool at once).
  mkdir -p "$KAFKA_HOME_DIR"
  local lock_fd
  exec {lock_fd}>"$KAFKA_HOME_DIR/.assemble.lock"
  flock "$lock_fd"
  if [[ -f $KAFKA_LIBS_MARKER && "$(cat "$KAFKA_LIBS_MARKER")" == "$stamp" ]]; then
    exec {lock_fd}>&-
    return 0
  fi
  ensure_java
  ensure_maven
  info "assembling Kafka $version jars from Maven Central into $KAFKA_LIBS ..."
  tmp="$KAFKA_HOME_DIR/libs.tmp.$$"
  out="$KAFKA_HOME_DIR/mvn-copy.log"
  rm -rf "$tmp"
  if ! mvn -B -q -Dstyle.color=never -f "$KAFKA_POM" \
    -Dkafka.version="$version" \
    dependency:copy-dependencies -DoutputDirectory="$tmp" -DincludeScope=runtime \
    >"$out" 2>&1; then
    rm -rf "$tmp"
    printf 'error: downloading Kafka %s from Maven Central failed (mvn dependency:copy-dependencies); mvn said:\n' "$version" >&2
    sed 's/\x1b\[[0-9;]*m//g' "$out" |
      grep -E '^\[ERROR\] .*[^ ]' |
      grep -vE 'full stack trace|Re-run Maven|For more information|\[Help 1\] http' |
      head -n 10 >&2 || tail -n 20 "$out" >&2
    printf '(full output: %s)\n' "$out" >&2
    exit 1
  fi
  [[ -f $tmp/kafka_2.13-$version.jar ]] || die "Maven copied no kafka_2.13-$version.jar into $tmp (see $out)"
  rm -rf "$KAFKA_LIBS"
  mv "$tmp" "$KAFKA_LIBS"
  printf '%s\n' "$stamp" >"$KAFKA_LIBS_MARKER"
  exec {lock_fd}>&-
  info "Kafka $version: $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars in $KAFKA_LIBS"
}

# port_owner PORT: prints "NAME (pid N)" of whatever listens on TCP PORT
# (empty output and status 1 if nothing listens).
port_owner() {
  local port="$1" line users
  ensure_ss
  line="$(ss -H -ltnp "sport = :$port" 2>/dev/null | head -n1)"
  [[ -n $line ]] || return 1
  users="$(grep -o 'users:((.*))' <<<"$line" || true)"
  if [[ $users =~ \(\(\"([^\"]+)\",pid=([0-9]+) ]]; then
    printf '%s (pid %s)\n' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
  else
    printf 'an unknown process\n'
  fi
}

# port_pid PORT: pid listening on PORT, if any.
port_pid() {
  ensure_ss
  ss -H -ltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2
}

pid_alive() {
  [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null
}

# pid_cmdline_has PID STRING: the process's command line contains STRING.
pid_cmdline_has() {
  [[ -r /proc/$1/cmdline ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$2"
}

# kafka_tool_argv: sets KAFKA_TOOL_ARGV to the java command line (without the
# main class) that runs Kafka's CLI tools from the assembled jars, logging only
# warnings to stderr. kafka_tool_java CLASS ARGS... runs one.
kafka_tool_argv() {
  ensure_java
  KAFKA_TOOL_ARGV=(
    "$JAVA_BIN" -Xmx"${KAFKA_TOOL_HEAP:-512m}" -XX:+UseSerialGC -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$DEV_DIR/lib/kafka/log4j2-tools.xml"
    -cp "$KAFKA_LIBS/*"
  )
}

kafka_tool_java() {
  kafka_tool_argv
  "${KAFKA_TOOL_ARGV[@]}" "$@"
}
