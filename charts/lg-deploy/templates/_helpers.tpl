{{/*
Shared blocks of the lg-deploy chart: names, labels, and the one container/pod shape every
function uses (Knative Services and the executor Deployment alike).
*/}}

{{- define "lg-deploy.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-scoped base name; object names are "<fullname>-<component>". */}}
{{- define "lg-deploy.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Selector labels; with a component: dict "root" $ "component" "intake". */}}
{{- define "lg-deploy.selectorLabels" -}}
app.kubernetes.io/name: {{ include "lg-deploy.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end }}

{{/* Labels of every object: dict "root" $ "component" "intake" (component optional). */}}
{{- define "lg-deploy.labels" -}}
{{ include "lg-deploy.selectorLabels" . }}
app.kubernetes.io/part-of: lg-deploy
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{- end }}

{{- define "lg-deploy.serviceAccountName" -}}
{{- default (include "lg-deploy.fullname" .) .Values.serviceAccount.name }}
{{- end }}

{{/* The Kafka topic "<prefix><suffix>": dict "root" $ "suffix" "run-requests". */}}
{{- define "lg-deploy.topic" -}}
{{- printf "%s%s" .root.Values.kafka.topicPrefix .suffix }}
{{- end }}

{{/*
Pod-level fields every function shares. No service-account token is mounted (no function
talks to the Kubernetes API). Knative Services accept them all; runtimeClassName only with the
kubernetes.podspec-runtimeclassname flag in config-features.
*/}}
{{- define "lg-deploy.podCommon" -}}
serviceAccountName: {{ include "lg-deploy.serviceAccountName" . }}
automountServiceAccountToken: false
enableServiceLinks: false
{{- with .Values.runtimeClass.name }}
runtimeClassName: {{ . }}
{{- end }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
Container securityContext for Pod Security "restricted". It is set per container because a
Knative Service only takes a pod-level securityContext behind the
kubernetes.podspec-securitycontext flag; Knative's queue-proxy sidecar already runs with the
same restricted settings. gVisor note (knative/serving#13471): some sandboxes (GKE Sandbox)
reject seccompProfile RuntimeDefault, which queue-proxy always sets; runsc on containerd
accepts it (gVisor applies its own syscall filter underneath).
*/}}
{{- define "lg-deploy.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: {{ .Values.securityContext.readOnlyRootFilesystem }}
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Environment of one function: dict "root" $ "function" <name> "values" <functions.x> "extra"
<list of env>.
Order: the contract's LG_DEPLOY_* settings, the function's own (extra), then .Values.env and
the function's env (later entries win in Kubernetes).
*/}}
{{- define "lg-deploy.env" -}}
{{- $v := .root.Values -}}
- name: LG_DEPLOY_HOST
  value: 0.0.0.0
- name: LG_DEPLOY_PORT
  value: "8080"
- name: LG_DEPLOY_CONFIG
  value: {{ $v.graphsConfig | quote }}
- name: LG_DEPLOY_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $v.database.existingSecret }}
      key: {{ $v.database.key }}
- name: LG_DEPLOY_KAFKA_BOOTSTRAP
  value: {{ join "," $v.kafka.bootstrapServers | quote }}
- name: LG_DEPLOY_KAFKA_TOPIC_PREFIX
  value: {{ $v.kafka.topicPrefix | quote }}
- name: LG_DEPLOY_LOG_JSON
  value: {{ $v.logJson | quote }}
- name: LG_DEPLOY_REQUIRE_API_KEY
  value: {{ $v.apiKeys.required | quote }}
{{- with $v.tracing.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
- name: OTEL_SERVICE_NAME
  value: lg-deploy-{{ $.function }}
- name: OTEL_TRACES_SAMPLER
  value: parentbased_traceidratio
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ $v.tracing.samplerRatio | quote }}
{{- end }}
- name: HOME
  value: /tmp
{{- with .extra }}
{{ toYaml . }}
{{- end }}
{{- with $v.env }}
{{ toYaml . }}
{{- end }}
{{- with .values.env }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
The container of one function: dict "root" $ "function" "intake" "values" <functions.x>
"portName" "http1" "extraEnv" <list>. Every function serves its HTTP surface, GET /ok
(probes) and GET /metrics on port 8080.
*/}}
{{- define "lg-deploy.container" -}}
{{- $root := .root -}}
- name: {{ .function }}
  image: "{{ $root.Values.image.repository }}:{{ $root.Values.image.tag | default $root.Chart.AppVersion }}"
  imagePullPolicy: {{ $root.Values.image.pullPolicy }}
  command: [lg-deploy, {{ .function }}]
  ports:
    - name: {{ .portName }}
      containerPort: 8080
      protocol: TCP
  env:
    {{- include "lg-deploy.env" (dict "root" $root "function" .function "values" .values "extra" .extraEnv) | nindent 4 }}
  {{- with .values.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- include "lg-deploy.containerSecurityContext" $root | nindent 4 }}
  readinessProbe:
    {{- include "lg-deploy.probe" $root | nindent 4 }}
  livenessProbe:
    {{- include "lg-deploy.probe" $root | nindent 4 }}
  volumeMounts:
    - name: tmp
      mountPath: /tmp
{{- end }}

{{/*
Probes: GET /ok without the database check, so a PostgreSQL outage makes requests fail with
503 but never restarts pods.
*/}}
{{- define "lg-deploy.probe" -}}
httpGet:
  path: {{ .Values.probes.path }}
  port: 8080
periodSeconds: {{ .Values.probes.periodSeconds }}
failureThreshold: {{ .Values.probes.failureThreshold }}
{{- end }}

{{/* Pod annotations for Prometheus' conventional pod discovery of GET /metrics. */}}
{{- define "lg-deploy.metricsAnnotations" -}}
prometheus.io/scrape: "true"
prometheus.io/port: "8080"
prometheus.io/path: /metrics
{{- end }}

{{/* The writable /tmp of every pod (the root filesystem is read-only). */}}
{{- define "lg-deploy.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end }}

{{/* A KafkaSource/PingSource sink: dict "root" $ "function" "webhooks". */}}
{{- define "lg-deploy.functionSink" -}}
ref:
  apiVersion: serving.knative.dev/v1
  kind: Service
  name: {{ include "lg-deploy.fullname" .root }}-{{ .function }}
{{- end }}

{{/*
One NetworkPolicy egress rule: dict "ports" <list of port numbers> "protocols" <list>
"to" <NetworkPolicyPeer list>. An empty "to" allows the ports to any address.
*/}}
{{- define "lg-deploy.egressRule" -}}
- ports:
    {{- range $port := .ports }}
    {{- range $protocol := $.protocols | default (list "TCP") }}
    - protocol: {{ $protocol }}
      port: {{ $port }}
    {{- end }}
    {{- end }}
  {{- with .to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{/* The podSelector of some components: dict "root" $ "components" <list>. */}}
{{- define "lg-deploy.componentSelector" -}}
matchLabels:
  {{- include "lg-deploy.selectorLabels" (dict "root" .root) | nindent 2 }}
matchExpressions:
  - key: app.kubernetes.io/component
    operator: In
    values: {{ toJson .components }}
{{- end }}

{{/* The enabled Knative functions, as a JSON list (fromJsonArray to use it). */}}
{{- define "lg-deploy.knativeFunctions" -}}
{{- $names := list }}
{{- range $name := list "intake" "cron" "webhooks" "builder" }}
{{- if (index $.Values.functions $name).enabled }}
{{- $names = append $names $name }}
{{- end }}
{{- end }}
{{- toJson $names }}
{{- end }}
