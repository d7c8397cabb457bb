{{/*
Each component's non-secret environment, as ConfigMap data. Pods carry a
checksum of exactly this text, so a change to it rolls only that component.
Empty optional values are left out, so the service's own default applies.
*/}}

{{- define "eo.config.kafka" -}}
{{- $k := .Values.kafka -}}
KAFKA_BOOTSTRAP_SERVERS: {{ $k.bootstrapServers | quote }}
KAFKA_TOPIC_PREFIX: {{ $k.topicPrefix | quote }}
KAFKA_TOPIC_PARTITIONS: {{ include "eo.envValue" $k.topicPartitions }}
KAFKA_TOPIC_REPLICATION_FACTOR: {{ include "eo.envValue" $k.topicReplicationFactor }}
KAFKA_TOPIC_RETENTION_MS: {{ include "eo.envValue" $k.topicRetentionMs }}
KAFKA_SECURITY_PROTOCOL: {{ lower $k.securityProtocol | quote }}
{{- if include "eo.saslEnabled" . }}
KAFKA_SASL_MECHANISM: {{ $k.saslMechanism | quote }}
{{- end }}
{{- if include "eo.mskIam" . }}
AWS_REGION: {{ $k.awsRegion | quote }}
{{- end }}
{{- with include "eo.kafkaCaPath" . }}
KAFKA_SSL_CA_LOCATION: {{ . | quote }}
{{- end }}
{{- end }}

{{/*
Where the S3 client writes (archiver, and query when objectStore.bucket is
set). Credentials are not here: IRSA's AWS_ROLE_ARN and token file come from
EKS, static keys from objectStore.existingSecret (eo.secretEnv). With
AWS_MSK_IAM the Kafka settings already carry AWS_REGION (the validation makes
objectStore.region match it), so it is not written twice.
*/}}
{{- define "eo.config.objectStore" -}}
{{- $o := .Values.objectStore -}}
OBJECT_STORE_BUCKET: {{ $o.bucket | quote }}
OBJECT_STORE_PREFIX: {{ $o.prefix | quote }}
OBJECT_STORE_TIMEOUT_SECS: {{ include "eo.envValue" $o.timeoutSecs }}
{{- if and $o.region (not (include "eo.mskIam" .)) }}
AWS_REGION: {{ $o.region | quote }}
{{- end }}
{{- with $o.endpointUrl }}
AWS_ENDPOINT_URL: {{ . | quote }}
{{- if hasPrefix "http://" (lower .) }}
AWS_ALLOW_HTTP: "true"
{{- end }}
{{- end }}
{{- end }}

{{- define "eo.config.http" -}}
{{- $h := .Values.http -}}
HTTP_HEADER_READ_TIMEOUT_MS: {{ include "eo.envValue" $h.headerReadTimeoutMs }}
HTTP_REQUEST_TIMEOUT_MS: {{ include "eo.envValue" $h.requestTimeoutMs }}
HTTP_MAX_CONNECTIONS: {{ include "eo.envValue" $h.maxConnections }}
{{- end }}

{{- define "eo.config.telemetry" -}}
{{- $t := .Values.telemetry -}}
LOG_FORMAT: {{ $t.logFormat | quote }}
RUST_LOG: {{ $t.rustLog | quote }}
{{- with $t.otlpEndpoint }}
OTEL_EXPORTER_OTLP_ENDPOINT: {{ . | quote }}
OTEL_EXPORTER_OTLP_PROTOCOL: {{ $t.otlpProtocol | quote }}
{{- end }}
OTEL_TRACES_SAMPLER: {{ $t.tracesSampler | quote }}
{{- with $t.tracesSamplerArg }}
OTEL_TRACES_SAMPLER_ARG: {{ include "eo.envValue" . }}
{{- end }}
{{- with $t.resourceAttributes }}
OTEL_RESOURCE_ATTRIBUTES: {{ . | quote }}
{{- end }}
{{- end }}

{{- define "eo.config.command" -}}
{{- $c := .Values.command.config -}}
COMMAND_LISTEN_ADDR: "0.0.0.0:8080"
COMMAND_SPOOL_DIR: "/var/lib/orch/spool"
COMMAND_MAX_BODY_BYTES: {{ include "eo.envValue" $c.maxBodyBytes }}
COMMAND_PUBLISH_BUDGET_MS: {{ include "eo.envValue" $c.publishBudgetMs }}
COMMAND_REQUEST_DEADLINE_MS: {{ include "eo.envValue" $c.requestDeadlineMs }}
COMMAND_KAFKA_LINGER_MS: {{ include "eo.envValue" $c.kafkaLingerMs }}
COMMAND_KAFKA_BATCH_BYTES: {{ include "eo.envValue" $c.kafkaBatchBytes }}
COMMAND_KAFKA_MESSAGE_TIMEOUT_MS: {{ include "eo.envValue" $c.kafkaMessageTimeoutMs }}
COMMAND_KAFKA_MESSAGE_MAX_BYTES: {{ include "eo.envValue" $c.kafkaMessageMaxBytes }}
COMMAND_SPOOL_MAX_BYTES: {{ include "eo.envValue" $c.spoolMaxBytes }}
COMMAND_SPOOL_SEGMENT_BYTES: {{ include "eo.envValue" $c.spoolSegmentBytes }}
COMMAND_STATUS_BASE_URL: {{ include "eo.statusBaseUrl" . | quote }}
{{ include "eo.config.kafka" . }}
{{ include "eo.config.http" . }}
{{ include "eo.config.telemetry" . }}
{{- end }}

{{- define "eo.config.dispatcher" -}}
{{- $c := .Values.dispatcher.config -}}
DISPATCHER_LISTEN_ADDR: "0.0.0.0:8081"
DISPATCHER_GROUP_ID: {{ $c.groupId | quote }}
DISPATCHER_TARGET_URL: {{ include "eo.dispatcherTargetUrl" . | quote }}
DISPATCHER_REQUEST_TIMEOUT_MS: {{ include "eo.envValue" $c.requestTimeoutMs }}
DISPATCHER_MAX_RESPONSE_BYTES: {{ include "eo.envValue" $c.maxResponseBytes }}
DISPATCHER_MAX_RETRY_AFTER_MS: {{ include "eo.envValue" $c.maxRetryAfterMs }}
DISPATCHER_BREAKER_FAILURE_RUN: {{ include "eo.envValue" $c.breakerFailureRun }}
DISPATCHER_BREAKER_PROBE_BASE_MS: {{ include "eo.envValue" $c.breakerProbeBaseMs }}
DISPATCHER_BREAKER_PROBE_MAX_MS: {{ include "eo.envValue" $c.breakerProbeMaxMs }}
DISPATCHER_RATE_LIMIT_PER_SEC: {{ include "eo.envValue" $c.rateLimitPerSec }}
DISPATCHER_MAX_IN_FLIGHT_PER_PARTITION: {{ include "eo.envValue" $c.maxInFlightPerPartition }}
DISPATCHER_MAX_ATTEMPTS: {{ include "eo.envValue" $c.maxAttempts }}
DISPATCHER_MAX_RETRY_ELAPSED_MS: {{ include "eo.envValue" $c.maxRetryElapsedMs }}
DISPATCHER_SHUTDOWN_GRACE_MS: {{ include "eo.envValue" $c.shutdownGraceMs }}
DISPATCHER_MAX_POLL_INTERVAL_MS: {{ include "eo.envValue" $c.maxPollIntervalMs }}
DISPATCHER_BACKOFF_BASE_MS: {{ include "eo.envValue" $c.backoffBaseMs }}
DISPATCHER_BACKOFF_MAX_MS: {{ include "eo.envValue" $c.backoffMaxMs }}
DISPATCHER_BRAND: {{ $c.brand | quote }}
{{ include "eo.config.kafka" . }}
{{ include "eo.config.http" . }}
{{ include "eo.config.telemetry" . }}
{{- end }}

{{- define "eo.config.query" -}}
{{- $c := .Values.query.config -}}
QUERY_LISTEN_ADDR: "0.0.0.0:8082"
QUERY_GROUP_ID: {{ $c.groupId | quote }}
QUERY_DB_MAX_CONNECTIONS: {{ include "eo.envValue" $c.dbMaxConnections }}
QUERY_BATCH_MAX: {{ include "eo.envValue" $c.batchMax }}
QUERY_BATCH_WAIT_MS: {{ include "eo.envValue" $c.batchWaitMs }}
QUERY_WRITERS: {{ include "eo.envValue" $c.writers }}
QUERY_WRITER_BUFFER_BYTES: {{ include "eo.envValue" $c.writerBufferBytes }}
{{- with $c.traceUrlTemplate }}
QUERY_TRACE_URL_TEMPLATE: {{ . | quote }}
{{- end }}
QUERY_EXPORT_MAX_RANGE_DAYS: {{ include "eo.envValue" $c.exportMaxRangeDays }}
QUERY_EXPORT_URL_EXPIRY_SECS: {{ include "eo.envValue" $c.exportUrlExpirySecs }}
QUERY_EXPORT_WORKERS: {{ include "eo.envValue" $c.exportWorkers }}
QUERY_EXPORT_LEASE_SECS: {{ include "eo.envValue" $c.exportLeaseSecs }}
QUERY_EXPORT_PAGE_ROWS: {{ include "eo.envValue" $c.exportPageRows }}
QUERY_EXPORT_PART_BYTES: {{ include "eo.envValue" $c.exportPartBytes }}
QUERY_OVERDUE_AFTER_SECS: {{ include "eo.envValue" $c.overdueAfterSecs }}
QUERY_SWEEP_INTERVAL_MS: {{ include "eo.envValue" $c.sweepIntervalMs }}
QUERY_SWEEP_BATCH: {{ include "eo.envValue" $c.sweepBatch }}
QUERY_CONSOLE_SESSION_MINUTES: {{ include "eo.envValue" $c.consoleSessionMinutes }}
QUERY_CONSOLE_SECURE_COOKIE: {{ $c.consoleSecureCookie | quote }}
QUERY_CONSOLE_REDRIVE_MAX: {{ include "eo.envValue" $c.consoleRedriveMax }}
QUERY_DISPATCHER_URLS: {{ include "eo.dispatcherUrls" . | quote }}
QUERY_DISPATCHER_GROUP_ID: {{ .Values.dispatcher.config.groupId | quote }}
{{- /* Without a bucket the service turns exports off (POST /exports answers 503). */}}
{{- if .Values.objectStore.bucket }}
{{ include "eo.config.objectStore" . }}
{{- end }}
{{ include "eo.config.kafka" . }}
{{ include "eo.config.http" . }}
{{ include "eo.config.telemetry" . }}
{{- end }}

{{- define "eo.config.archiver" -}}
{{- $c := .Values.archiver.config -}}
ARCHIVER_LISTEN_ADDR: "0.0.0.0:8083"
ARCHIVER_GROUP_ID: {{ $c.groupId | quote }}
ARCHIVER_ROLL_BYTES: {{ include "eo.envValue" $c.rollBytes }}
ARCHIVER_ROLL_SECS: {{ include "eo.envValue" $c.rollSecs }}
ARCHIVER_MAX_BUFFERED_BYTES: {{ include "eo.envValue" $c.maxBufferedBytes }}
ARCHIVER_RETRY_MAX_MS: {{ include "eo.envValue" $c.retryMaxMs }}
ARCHIVER_REVOKE_WAIT_MS: {{ include "eo.envValue" $c.revokeWaitMs }}
ARCHIVER_SHUTDOWN_GRACE_MS: {{ include "eo.envValue" $c.shutdownGraceMs }}
{{ include "eo.config.objectStore" . }}
{{ include "eo.config.kafka" . }}
{{ include "eo.config.http" . }}
{{ include "eo.config.telemetry" . }}
{{- end }}

{{- define "eo.config.sandboxTarget" -}}
{{- $c := .Values.sandboxTarget.config -}}
SANDBOX_LISTEN_ADDR: "0.0.0.0:8090"
SANDBOX_RATE_LIMIT_PER_SEC: {{ include "eo.envValue" $c.rateLimitPerSec }}
SANDBOX_RATE_LIMIT_BURST: {{ include "eo.envValue" $c.rateLimitBurst }}
SANDBOX_RATE_LIMIT_MODE: {{ $c.rateLimitMode | quote }}
SANDBOX_WINDOW_MS: {{ include "eo.envValue" $c.windowMs }}
SANDBOX_FAULTS: {{ $c.faults | quote }}
{{ include "eo.config.http" . }}
{{ include "eo.config.telemetry" . }}
{{- end }}

{{/*
Environment read from existing Secrets, by explicit key, so a Secret that
lacks a key stops the pod with CreateContainerConfigError naming it.
*/}}
{{- define "eo.secretEnv" -}}
{{- $root := .root }}
{{- $v := index $root.Values .component }}
{{- $refs := list }}
{{- if eq .component "command" }}
{{- $refs = append $refs (list "COMMAND_SOURCE_KEY_HASHES" $v.existingSecret $v.secretKeys.sourceKeyHashes) }}
{{- else if eq .component "query" }}
{{- $refs = append $refs (list "QUERY_READER_KEY_HASHES" $v.existingSecret $v.secretKeys.readerKeyHashes) }}
{{- /* Optional: a Secret without ops keys leaves the console read-only. */}}
{{- $refs = append $refs (list "QUERY_OPS_KEY_HASHES" $v.existingSecret $v.secretKeys.opsKeyHashes true) }}
{{- $refs = append $refs (list "DATABASE_URL" $v.existingSecret $v.secretKeys.databaseUrl) }}
{{- else if eq .component "dispatcher" }}
{{- if include "eo.dispatcherUsesSandbox" $root }}
{{- with $root.Values.sandboxTarget.existingSecret }}
{{- $refs = append $refs (list "DISPATCHER_TARGET_TOKEN" . $root.Values.sandboxTarget.secretKeys.token) }}
{{- end }}
{{- else }}
{{- $refs = append $refs (list "DISPATCHER_TARGET_TOKEN" $v.existingSecret $v.secretKeys.targetToken) }}
{{- end }}
{{- else if eq .component "sandboxTarget" }}
{{- with $v.existingSecret }}
{{- $refs = append $refs (list "SANDBOX_TOKEN" . $v.secretKeys.token) }}
{{- end }}
{{- end }}
{{- if include "eo.usesObjectStore" . }}
{{- with $root.Values.objectStore.existingSecret }}
{{- $refs = append $refs (list "AWS_ACCESS_KEY_ID" . $root.Values.objectStore.secretKeys.accessKeyId) }}
{{- $refs = append $refs (list "AWS_SECRET_ACCESS_KEY" . $root.Values.objectStore.secretKeys.secretAccessKey) }}
{{- end }}
{{- end }}
{{- if and (include "eo.usesKafka" .) (include "eo.saslCredentials" $root) }}
{{- $kafkaSecret := include "eo.kafkaSecretName" . }}
{{- $refs = append $refs (list "KAFKA_SASL_USERNAME" $kafkaSecret $root.Values.kafka.secretKeys.username) }}
{{- $refs = append $refs (list "KAFKA_SASL_PASSWORD" $kafkaSecret $root.Values.kafka.secretKeys.password) }}
{{- end }}
{{- range $refs }}
- name: {{ index . 0 }}
  valueFrom:
    secretKeyRef:
      name: {{ index . 1 | quote }}
      key: {{ index . 2 | quote }}
      {{- if gt (len .) 3 }}
      optional: true
      {{- end }}
{{- end }}
{{- end }}
