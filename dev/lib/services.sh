# shellcheck shell=bash
# Helpers for running the four services locally (sourced by dev/start,
# dev/stop, dev/bench and dev/fuzz): their environment, start with a pid file
# and log, and stop.

RUN_DIR="$CACHE_DIR/run"
# shellcheck disable=SC2034 # used by the scripts that source this file
SERVICES=(sandbox-target command dispatcher query archiver)
DEMO_SOURCE_KEY="dev-source-key"
DEMO_READER_KEY="dev-reader-key"
DEMO_OPS_KEY="dev-ops-key"

# service_binary NAME: the cargo binary of a service.
service_binary() {
  case "$1" in
    sandbox-target) echo orch-sandbox-target ;;
    *) echo "orch-$1" ;;
  esac
}

# service_port NAME: the service's HTTP port on 127.0.0.1.
service_port() {
  case "$1" in
    command) echo "${COMMAND_PORT:-8080}" ;;
    dispatcher) echo "${DISPATCHER_PORT:-8081}" ;;
    query) echo "${QUERY_PORT:-8082}" ;;
    sandbox-target) echo "${SANDBOX_PORT:-8090}" ;;
    archiver) echo "${ARCHIVER_PORT:-8083}" ;;
  esac
}

# object_store_env: the settings that point a service at the local object
# store (dev/object-store) with its local-only credentials.
object_store_env() {
  echo "OBJECT_STORE_BUCKET=${OBJECT_STORE_BUCKET:-orchestrator}"
  echo "AWS_ENDPOINT_URL=http://127.0.0.1:${OBJECT_STORE_PORT:-8333}"
  echo "AWS_ACCESS_KEY_ID=orchestrator-dev"
  echo "AWS_SECRET_ACCESS_KEY=orchestrator-dev-secret"
  echo "AWS_REGION=us-east-1"
  echo "AWS_ALLOW_HTTP=true"
}

key_hash() {
  printf 'sha256:%s' "$(printf '%s' "$1" | sha256sum | cut -d' ' -f1)"
}

# service_env NAME: prints the NAME=value settings for one service (local demo).
service_env() {
  local port
  port="$(service_port "$1")"
  echo "LOG_FORMAT=${LOG_FORMAT:-text}"
  echo "RUST_LOG=${RUST_LOG:-info,rdkafka=warn}"
  # Set by dev/start when the local trace backend (dev/trace-backend) is up.
  if [[ -n ${TRACES_OTLP_ENDPOINT:-} ]]; then
    echo "OTEL_EXPORTER_OTLP_ENDPOINT=$TRACES_OTLP_ENDPOINT"
  fi
  case "$1" in
    command)
      echo "COMMAND_LISTEN_ADDR=127.0.0.1:$port"
      echo "COMMAND_SOURCE_KEY_HASHES=$(key_hash "$DEMO_SOURCE_KEY")"
      echo "COMMAND_STATUS_BASE_URL=http://127.0.0.1:$(service_port query)"
      echo "COMMAND_SPOOL_DIR=$RUN_DIR/command-spool"
      ;;
    dispatcher)
      echo "DISPATCHER_LISTEN_ADDR=127.0.0.1:$port"
      echo "DISPATCHER_TARGET_URL=http://127.0.0.1:$(service_port sandbox-target)/graphql"
      ;;
    query)
      echo "QUERY_LISTEN_ADDR=127.0.0.1:$port"
      echo "QUERY_READER_KEY_HASHES=support=$(key_hash "$DEMO_READER_KEY")"
      echo "QUERY_OPS_KEY_HASHES=ops=$(key_hash "$DEMO_OPS_KEY")"
      echo "QUERY_DISPATCHER_URLS=http://127.0.0.1:$(service_port dispatcher)"
      echo "DATABASE_URL=postgres://orchestrator:orchestrator@127.0.0.1:${PGPORT:-5432}/orchestrator"
      if [[ -n ${TRACES_UI_URL:-} ]]; then
        echo "QUERY_TRACE_URL_TEMPLATE=$TRACES_UI_URL/zipkin/traces/{trace_id}"
      fi
      object_store_env
      ;;
    archiver)
      echo "ARCHIVER_LISTEN_ADDR=127.0.0.1:$port"
      object_store_env
      ;;
    sandbox-target)
      echo "SANDBOX_LISTEN_ADDR=127.0.0.1:$port"
      echo "SANDBOX_DATA_FILE=$RUN_DIR/sandbox-items.jsonl"
      ;;
  esac
}

service_pid() {
  local file="$RUN_DIR/$1.pid"
  if [[ -f $file ]]; then cat "$file"; fi
}

service_running() {
  local pid
  pid="$(service_pid "$1")"
  pid_alive "$pid" && pid_cmdline_has "$pid" "$(service_binary "$1")"
}

# service_start NAME: starts the release binary in the background, logging to
# $RUN_DIR/NAME.log, and waits until its /health answers.
service_start() {
  local name="$1" port binary owner
  port="$(service_port "$name")"
  binary="$REPO_ROOT/target/release/$(service_binary "$name")"
  [[ -x $binary ]] || die "$binary is missing; build it with: cargo build --release --workspace --bins"
  if owner="$(port_owner "$port")"; then
    die "port $port ($name) is already in use by $owner; stop it or set the ${name^^}_PORT variable"
  fi
  mkdir -p "$RUN_DIR"
  local -a settings
  mapfile -t settings < <(service_env "$name")
  env "${settings[@]}" setsid "$binary" >>"$RUN_DIR/$name.log" 2>&1 </dev/null &
  echo "$!" >"$RUN_DIR/$name.pid"
  local deadline=$((SECONDS + 60))
  until curl -fsS -o /dev/null "http://127.0.0.1:$port/health" 2>/dev/null; do
    if ! service_running "$name"; then
      tail -n 20 "$RUN_DIR/$name.log" >&2
      die "$name exited during start-up; its log is $RUN_DIR/$name.log"
    fi
    ((SECONDS < deadline)) || die "$name did not answer /health on port $port within 60 s; see $RUN_DIR/$name.log"
    sleep 0.2
  done
  info "  $name is up on http://127.0.0.1:$port (log: $RUN_DIR/$name.log)"
}

# service_stop NAME: SIGTERM (graceful: finish requests, commit, leave the
# group), then SIGKILL after 30 s.
service_stop() {
  local name="$1" pid
  pid="$(service_pid "$name")" || true
  if service_running "$name"; then
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 30))
    while pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
    if pid_alive "$pid"; then
      warn "$name did not stop within 30 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    info "  $name stopped"
  fi
  rm -f "$RUN_DIR/$name.pid"
}

# Services a script starts for itself (dev/bench, dev/fuzz), to stop when it is
# done with them or exits, however it exits: a function's locals are gone by
# the time an EXIT trap runs, so the pids are kept here.
SERVICE_PIDS=()
stop_services() {
  ((${#SERVICE_PIDS[@]} > 0)) || return 0
  kill -TERM "${SERVICE_PIDS[@]}" 2>/dev/null || true
  wait "${SERVICE_PIDS[@]}" 2>/dev/null || true
  SERVICE_PIDS=()
}
