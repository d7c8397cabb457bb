{{/*
Most helpers take a context dict: (dict "root" $ "component" "command"), where
component is a key of .Values (command, dispatcher, query, archiver, sandboxTarget).
*/}}

{{- define "eo.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "eo.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* "<fullname>-<component>", e.g. orch-event-orchestrator-sandbox-target. */}}
{{- define "eo.componentFullname" -}}
{{- printf "%s-%s" (include "eo.fullname" .root) (kebabcase .component) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Components deployed by this release, in a stable order. */}}
{{- define "eo.components" -}}
{{- $list := list "command" "dispatcher" "query" }}
{{- if .Values.archiver.enabled }}
{{- $list = append $list "archiver" }}
{{- end }}
{{- if .Values.sandboxTarget.enabled }}
{{- $list = append $list "sandboxTarget" }}
{{- end }}
{{- toJson $list }}
{{- end }}

{{/* The port each service listens on; fixed, since only the Service exposes it. */}}
{{- define "eo.port" -}}
{{- index (dict "command" 8080 "dispatcher" 8081 "query" 8082 "archiver" 8083 "sandboxTarget" 8090) .component }}
{{- end }}

{{/* Components that talk to Kafka (the sandbox does not). */}}
{{- define "eo.usesKafka" -}}
{{- if has .component (list "command" "dispatcher" "query" "archiver") }}true{{ end }}
{{- end }}

{{/* The deployed components that talk to Kafka, in a stable order (JSON list). */}}
{{- define "eo.kafkaComponents" -}}
{{- $list := list "command" "dispatcher" "query" }}
{{- if .Values.archiver.enabled }}
{{- $list = append $list "archiver" }}
{{- end }}
{{- toJson $list }}
{{- end }}

{{/*
Components that talk to the object store: the archiver always, the query
service when objectStore.bucket is set (its exports; without it they are off).
*/}}
{{- define "eo.usesObjectStore" -}}
{{- if or (eq .component "archiver") (and (eq .component "query") .root.Values.objectStore.bucket) }}true{{ end }}
{{- end }}

{{- define "eo.selectorLabels" -}}
app.kubernetes.io/name: {{ include "eo.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ kebabcase . }}
{{- end }}
{{- end }}

{{- define "eo.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "eo.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: event-orchestrator
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "eo.image" -}}
{{- $image := (index .root.Values .component).image }}
{{- $repository := $image.repository }}
{{- with .root.Values.global.imageRegistry }}
{{- $repository = printf "%s/%s" (trimSuffix "/" .) $repository }}
{{- end }}
{{- if $image.digest }}
{{- printf "%s@%s" $repository $image.digest }}
{{- else }}
{{- printf "%s:%s" $repository (default .root.Chart.AppVersion $image.tag) }}
{{- end }}
{{- end }}

{{- define "eo.serviceAccountName" -}}
{{- $sa := (index .root.Values .component).serviceAccount }}
{{- if $sa.create }}
{{- default (include "eo.componentFullname" .) $sa.name }}
{{- else }}
{{- default "default" $sa.name }}
{{- end }}
{{- end }}

{{/*
A value as a quoted env string. YAML numbers reach templates as float64, which
would print 2592000000 as 2.592e+09; whole numbers are printed as integers.
*/}}
{{- define "eo.envValue" -}}
{{- if and (kindIs "float64" .) (eq (float64 (int64 .)) .) }}
{{- int64 . | toString | quote }}
{{- else }}
{{- toString . | quote }}
{{- end }}
{{- end }}

{{/* Bytes in a Kubernetes quantity with a binary suffix ("10Gi"); 0 when not understood. */}}
{{- define "eo.quantityBytes" -}}
{{- $quantity := toString . }}
{{- $units := dict "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 }}
{{- $number := regexFind "^[0-9]+" $quantity }}
{{- $unit := trimPrefix $number $quantity }}
{{- if and $number (hasKey $units $unit) }}
{{- mul (atoi $number) (index $units $unit) }}
{{- else }}0{{ end }}
{{- end }}

{{- define "eo.saslEnabled" -}}
{{- if hasPrefix "sasl_" (lower .Values.kafka.securityProtocol) }}true{{ end }}
{{- end }}

{{/* MSK IAM: tokens signed with the pod's AWS credentials instead of a username and password. */}}
{{- define "eo.mskIam" -}}
{{- if and (include "eo.saslEnabled" .) (eq .Values.kafka.saslMechanism "AWS_MSK_IAM") }}true{{ end }}
{{- end }}

{{/* SASL with a username and password from a Secret (SCRAM, PLAIN). */}}
{{- define "eo.saslCredentials" -}}
{{- if and (include "eo.saslEnabled" .) (not (include "eo.mskIam" .)) }}true{{ end }}
{{- end }}

{{- define "eo.roleArn" -}}
{{- $sa := (index .root.Values .component).serviceAccount }}
{{- $sa.roleArn | default (index (default dict $sa.annotations) "eks.amazonaws.com/role-arn") | default "" }}
{{- end }}

{{- define "eo.kafkaSecretName" -}}
{{- default .root.Values.kafka.existingSecret (index .root.Values .component).kafkaExistingSecret }}
{{- end }}

{{- define "eo.kafkaCaPath" -}}
{{- with .Values.kafka.caCertificate }}
{{- if or .configMapName .secretName }}/etc/orch/kafka-ca/{{ .key }}{{ end }}
{{- end }}
{{- end }}

{{/* True when the dispatcher delivers to the chart's own sandbox target. */}}
{{- define "eo.dispatcherUsesSandbox" -}}
{{- if and .Values.sandboxTarget.enabled (not .Values.dispatcher.config.targetUrl) }}true{{ end }}
{{- end }}

{{- define "eo.dispatcherTargetUrl" -}}
{{- if include "eo.dispatcherUsesSandbox" . }}
{{- printf "http://%s:%d/graphql" (include "eo.componentFullname" (dict "root" . "component" "sandboxTarget")) 8090 }}
{{- else }}
{{- .Values.dispatcher.config.targetUrl }}
{{- end }}
{{- end }}

{{/*
The dispatchers' ops addresses the console asks: as configured, else every
pod behind the chart's headless dispatcher Service.
*/}}
{{- define "eo.dispatcherUrls" -}}
{{- with .Values.query.config.dispatcherUrls -}}
{{ . }}
{{- else -}}
dns+http://{{ include "eo.componentFullname" (dict "root" . "component" "dispatcher") }}-headless:8081
{{- end -}}
{{- end }}

{{/* Where the source is told to look up an event's status. */}}
{{- define "eo.statusBaseUrl" -}}
{{- $ingress := .Values.query.ingress }}
{{- if .Values.command.config.statusBaseUrl }}
{{- .Values.command.config.statusBaseUrl }}
{{- else if and $ingress.enabled $ingress.hosts }}
{{- printf "%s://%s" (ternary "https" "http" (gt (len $ingress.tls) 0)) (first $ingress.hosts).host }}
{{- else }}
{{- printf "http://%s.%s.svc:%d" (include "eo.componentFullname" (dict "root" . "component" "query")) .Release.Namespace 8082 }}
{{- end }}
{{- end }}

{{/*
Checks that values a schema cannot express are consistent. Each message names
the value to set, so a broken release fails at render time rather than in a
crash loop.
*/}}
{{- define "eo.validate" -}}
{{- $v := .Values }}
{{- $protocol := lower $v.kafka.securityProtocol }}
{{- if and (has $protocol (list "plaintext" "sasl_plaintext")) (not $v.kafka.allowPlaintext) }}
{{- fail (printf "kafka.securityProtocol=%s sends events unencrypted; use ssl or sasl_ssl, or set kafka.allowPlaintext=true for a development cluster" $protocol) }}
{{- end }}
{{- if include "eo.saslEnabled" . }}
{{- if not $v.kafka.saslMechanism }}
{{- fail (printf "kafka.securityProtocol=%s needs kafka.saslMechanism (SCRAM-SHA-512 on MSK)" $protocol) }}
{{- end }}
{{- if include "eo.mskIam" . }}
{{- if ne $protocol "sasl_ssl" }}
{{- fail (printf "kafka.saslMechanism=AWS_MSK_IAM needs kafka.securityProtocol=sasl_ssl (MSK port 9098), not %s" $protocol) }}
{{- end }}
{{- $_ := required "kafka.awsRegion: AWS_MSK_IAM signs its tokens for a region; set the MSK cluster's region" $v.kafka.awsRegion }}
{{- range $c := include "eo.kafkaComponents" $ | fromJsonArray }}
{{- $ctx := dict "root" $ "component" $c }}
{{- if and (index $v $c).serviceAccount.create (not (include "eo.roleArn" $ctx)) }}
{{- fail (printf "kafka.saslMechanism=AWS_MSK_IAM authenticates with each service's IRSA role: set %s.serviceAccount.roleArn (terraform output service_accounts)" $c) }}
{{- end }}
{{- end }}
{{- end }}
{{- if include "eo.saslCredentials" . }}
{{- range $c := include "eo.kafkaComponents" $ | fromJsonArray }}
{{- if not (include "eo.kafkaSecretName" (dict "root" $ "component" $c)) }}
{{- fail (printf "kafka.saslMechanism=%s needs the SASL credentials: set kafka.existingSecret (or %s.kafkaExistingSecret) to an existing Secret with keys %s and %s" $v.kafka.saslMechanism $c $v.kafka.secretKeys.username $v.kafka.secretKeys.password) }}
{{- end }}
{{- end }}
{{- end }}
{{- else if $v.kafka.saslMechanism }}
{{- fail (printf "kafka.saslMechanism is set but kafka.securityProtocol=%s does not use SASL; clear one of them" $protocol) }}
{{- end }}
{{- $_ := required "command.existingSecret: name an existing Secret holding COMMAND_SOURCE_KEY_HASHES (the chart never creates Secrets)" $v.command.existingSecret }}
{{- $_ = required "query.existingSecret: name an existing Secret holding QUERY_READER_KEY_HASHES and DATABASE_URL (the chart never creates Secrets)" $v.query.existingSecret }}
{{- if not (include "eo.dispatcherUsesSandbox" .) }}
{{- $_ = required "dispatcher.config.targetUrl: set the target's GraphQL URL, or enable sandboxTarget for a test cluster" $v.dispatcher.config.targetUrl }}
{{- $_ = required "dispatcher.existingSecret: name an existing Secret holding DISPATCHER_TARGET_TOKEN, the target's bearer token (the chart never creates Secrets)" $v.dispatcher.existingSecret }}
{{- end }}
{{- if and $v.dispatcher.autoscaling.enabled $v.dispatcher.autoscaling.keda.enabled }}
{{- fail "dispatcher.autoscaling.enabled and dispatcher.autoscaling.keda.enabled are both on; two autoscalers would fight over the replicas: keep one" }}
{{- end }}
{{- if and $v.dispatcher.autoscaling.keda.enabled (gt (int $v.dispatcher.autoscaling.keda.maxReplicaCount) (int $v.kafka.topicPartitions)) }}
{{- fail (printf "dispatcher.autoscaling.keda.maxReplicaCount (%d) exceeds kafka.topicPartitions (%d): replicas beyond the partition count would sit idle" (int $v.dispatcher.autoscaling.keda.maxReplicaCount) (int $v.kafka.topicPartitions)) }}
{{- end }}
{{- $grace := int64 $v.dispatcher.config.shutdownGraceMs }}
{{- if lt (mul (int64 $v.dispatcher.terminationGracePeriodSeconds) 1000) (add $grace 5000) }}
{{- fail (printf "dispatcher.terminationGracePeriodSeconds must be at least DISPATCHER_SHUTDOWN_GRACE_MS + 5 s (%d s) so in-flight events finish and offsets are committed before the kill" (add (div $grace 1000) 5)) }}
{{- end }}
{{- $pvcBytes := int64 (include "eo.quantityBytes" $v.command.persistence.size) }}
{{- if and (gt $pvcBytes 0) (le $pvcBytes (int64 $v.command.config.spoolMaxBytes)) }}
{{- fail (printf "command.persistence.size (%s) must be larger than command.config.spoolMaxBytes (%d bytes), or the disk fills before the spool's own limit answers 503" $v.command.persistence.size (int64 $v.command.config.spoolMaxBytes)) }}
{{- end }}
{{- with $v.query.config.traceUrlTemplate }}
{{- if not (contains "{trace_id}" .) }}
{{- fail "query.config.traceUrlTemplate must contain {trace_id}; the service refuses to start otherwise" }}
{{- end }}
{{- end }}
{{- if $v.archiver.enabled }}
{{- $_ = required "objectStore.bucket: the archiver (archiver.enabled) writes every dead letter to this bucket; set it (terraform output dlq_archive.bucket), or set archiver.enabled=false" $v.objectStore.bucket }}
{{- $ac := $v.archiver.config }}
{{- if lt (int64 $ac.maxBufferedBytes) (int64 $ac.rollBytes) }}
{{- fail (printf "archiver.config.maxBufferedBytes (%d) must be at least archiver.config.rollBytes (%d); the service refuses to start otherwise" (int64 $ac.maxBufferedBytes) (int64 $ac.rollBytes)) }}
{{- end }}
{{- $archiverGrace := int64 $ac.shutdownGraceMs }}
{{- if lt (mul (int64 $v.archiver.terminationGracePeriodSeconds) 1000) (add $archiverGrace 5000) }}
{{- fail (printf "archiver.terminationGracePeriodSeconds must be at least ARCHIVER_SHUTDOWN_GRACE_MS + 5 s (%d s) so open objects are written and committed before the kill" (add (div $archiverGrace 1000) 5)) }}
{{- end }}
{{- $memory := int64 (include "eo.quantityBytes" (default "" (dig "limits" "memory" "" $v.archiver.resources))) }}
{{- if and (gt $memory 0) (lt $memory (add (int64 $ac.maxBufferedBytes) 134217728)) }}
{{- fail (printf "archiver.resources.limits.memory (%s) must exceed archiver.config.maxBufferedBytes (%d bytes) by at least 128Mi, or the archiver is OOM-killed before its own limit pauses it" $v.archiver.resources.limits.memory (int64 $ac.maxBufferedBytes)) }}
{{- end }}
{{- end }}
{{- if and (include "eo.mskIam" .) $v.objectStore.region (ne $v.objectStore.region $v.kafka.awsRegion) (or $v.archiver.enabled $v.objectStore.bucket) }}
{{- fail (printf "objectStore.region (%s) differs from kafka.awsRegion (%s): with AWS_MSK_IAM both are the process's one AWS_REGION; leave objectStore.region empty or make them equal" $v.objectStore.region $v.kafka.awsRegion) }}
{{- end }}
{{- if and (contains "traceidratio" $v.telemetry.tracesSampler) (not $v.telemetry.tracesSamplerArg) }}
{{- fail (printf "telemetry.tracesSampler=%s needs telemetry.tracesSamplerArg (the share to keep, 0 to 1)" $v.telemetry.tracesSampler) }}
{{- end }}
{{- end }}

{{/*
One NetworkPolicy rule: (dict "direction" "from"|"to" "peers" list "ports" list).
An empty peer list leaves the direction out, which means any peer.
*/}}
{{- define "eo.networkPolicyRule" -}}
- ports:
    {{- range .ports }}
    - port: {{ .port }}
      protocol: {{ .protocol | default "TCP" }}
    {{- end }}
  {{- with .peers }}
  {{ $.direction }}:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
