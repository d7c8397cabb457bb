{{/*
The pod template every workload shares. Takes the component context dict.
*/}}
{{- define "eo.podTemplate" -}}
{{- $root := .root }}
{{- $v := index $root.Values .component }}
{{- $probes := mergeOverwrite (deepCopy $root.Values.probes) (deepCopy (default dict $v.probes)) }}
{{- $caCert := $root.Values.kafka.caCertificate }}
{{- $mountCa := and (include "eo.usesKafka" .) (or $caCert.configMapName $caCert.secretName) }}
{{- $dbCa := and (eq .component "query") $v.databaseCa.configMapName -}}
metadata:
  labels:
    {{- include "eo.selectorLabels" . | nindent 4 }}
    {{- with $v.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    checksum/config: {{ include (printf "eo.config.%s" .component) $root | sha256sum }}
    {{- with $v.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "eo.serviceAccountName" . }}
  # No service talks to the Kubernetes API. IRSA still works: the EKS webhook
  # mounts its own projected token.
  automountServiceAccountToken: false
  # Service links would add *_PORT/*_HOST variables next to the services' own
  # env-based configuration.
  enableServiceLinks: false
  terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds }}
  {{- with $v.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  {{- with $root.Values.global.imagePullSecrets }}
  imagePullSecrets:
    {{- range . }}
    - name: {{ . }}
    {{- end }}
  {{- end }}
  securityContext:
    runAsNonRoot: true
    runAsUser: 65532
    runAsGroup: 65532
    # Makes volumes (the command service's spool) writable by the nonroot user.
    fsGroup: 65532
    fsGroupChangePolicy: OnRootMismatch
    seccompProfile:
      type: RuntimeDefault
  containers:
    - name: {{ kebabcase .component }}
      image: {{ include "eo.image" . | quote }}
      imagePullPolicy: {{ $v.image.pullPolicy }}
      ports:
        - name: http
          containerPort: {{ include "eo.port" . }}
          protocol: TCP
      envFrom:
        - configMapRef:
            name: {{ include "eo.componentFullname" . }}
      {{- $secretEnv := include "eo.secretEnv" . }}
      {{- if or $secretEnv $v.extraEnv }}
      env:
        {{- with $secretEnv }}
        {{- . | trim | nindent 8 }}
        {{- end }}
        {{- with $v.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- end }}
      startupProbe:
        httpGet:
          path: /health
          port: http
        {{- toYaml $probes.startup | nindent 8 }}
      livenessProbe:
        httpGet:
          path: /health
          port: http
        {{- toYaml $probes.liveness | nindent 8 }}
      readinessProbe:
        httpGet:
          {{- /* The sandbox target has no /ready. */}}
          path: {{ ternary "/health" "/ready" (eq .component "sandboxTarget") }}
          port: http
        {{- toYaml $probes.readiness | nindent 8 }}
      {{- if gt (int (default 0 $v.preStopSleepSeconds)) 0 }}
      lifecycle:
        preStop:
          sleep:
            seconds: {{ $v.preStopSleepSeconds }}
      {{- end }}
      resources:
        {{- toYaml $v.resources | nindent 8 }}
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        runAsGroup: 65532
        readOnlyRootFilesystem: true
        allowPrivilegeEscalation: false
        privileged: false
        capabilities:
          drop:
            - ALL
        seccompProfile:
          type: RuntimeDefault
      {{- if or (eq .component "command") $mountCa $dbCa }}
      volumeMounts:
        {{- if eq .component "command" }}
        - name: spool
          mountPath: /var/lib/orch/spool
        {{- end }}
        {{- if $mountCa }}
        - name: kafka-ca
          mountPath: /etc/orch/kafka-ca
          readOnly: true
        {{- end }}
        {{- if $dbCa }}
        - name: postgres-ca
          mountPath: /etc/orch/postgres-ca
          readOnly: true
        {{- end }}
      {{- end }}
  {{- if or $mountCa $dbCa }}
  volumes:
    {{- if $dbCa }}
    - name: postgres-ca
      configMap:
        name: {{ $dbCa }}
    {{- end }}
    {{- if $mountCa }}
    - name: kafka-ca
      {{- if $caCert.configMapName }}
      configMap:
        name: {{ $caCert.configMapName }}
      {{- else }}
      secret:
        secretName: {{ $caCert.secretName }}
      {{- end }}
    {{- end }}
  {{- end }}
  {{- with $v.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if $v.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml $v.topologySpreadConstraints | nindent 4 }}
  {{- else if $root.Values.topologySpread.enabled }}
  topologySpreadConstraints:
    - maxSkew: 1
      topologyKey: topology.kubernetes.io/zone
      whenUnsatisfiable: {{ $root.Values.topologySpread.zoneWhenUnsatisfiable }}
      labelSelector:
        matchLabels:
          {{- include "eo.selectorLabels" . | nindent 10 }}
    - maxSkew: 1
      topologyKey: kubernetes.io/hostname
      whenUnsatisfiable: ScheduleAnyway
      labelSelector:
        matchLabels:
          {{- include "eo.selectorLabels" . | nindent 10 }}
  {{- end }}
{{- end }}
