{{- define "kgate.name" -}}kgate{{- end -}}
{{- define "kgate.labels" -}}
app.kubernetes.io/name: kgate
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}
{{- define "kgate.selector" -}}
app.kubernetes.io/name: kgate
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "kgate.exempt" -}}
namespaceSelector:
  matchExpressions:
  - key: kubernetes.io/metadata.name
    operator: NotIn
    values:
    - kube-system
    - kube-node-lease
    - {{ .Release.Namespace }}
    {{- range .Values.webhook.exemptNamespaces }}
    - {{ . }}
    {{- end }}
{{- end -}}
{{- define "kgate.rules" -}}
rules:
- apiGroups: [""]
  apiVersions: ["v1"]
  resources: [pods, services, namespaces, persistentvolumeclaims, persistentvolumes]
  operations: [{{ .ops }}]
- apiGroups: [apps]
  apiVersions: ["v1"]
  resources: [deployments, replicasets, statefulsets, daemonsets]
  operations: [{{ .ops }}]
- apiGroups: [batch]
  apiVersions: ["v1"]
  resources: [jobs, cronjobs]
  operations: [{{ .ops }}]
- apiGroups: [storage.k8s.io]
  apiVersions: ["v1"]
  resources: [storageclasses]
  operations: [{{ .ops }}]
- apiGroups: [networking.k8s.io]
  apiVersions: ["v1"]
  resources: [ingresses, networkpolicies]
  operations: [{{ .ops }}]
- apiGroups: [karpenter.sh]
  apiVersions: ["v1"]
  resources: [nodepools]
  operations: [{{ .ops }}]
- apiGroups: [kubeflow.org, ray.io, leaderworkerset.x-k8s.io, batch.volcano.sh]
  apiVersions: ["*"]
  resources: [pytorchjobs, mpijobs, rayclusters, rayjobs, rayservices, leaderworkersets, jobs]
  operations: [{{ .ops }}]
{{- end -}}
{{- /* The configuration file: config, with the legacy params merged into
config.params (config's own values win). */ -}}
{{- define "kgate.config" -}}
{{- $cfg := deepCopy (.Values.config | default dict) -}}
{{- if .Values.params -}}
{{- $_ := set $cfg "params" (merge (deepCopy ($cfg.params | default dict)) .Values.params) -}}
{{- end -}}
{{- toYaml $cfg -}}
{{- end -}}
{{- define "kgate.configMapName" -}}
{{- .Values.existingConfigMap | default "kgate-config" -}}
{{- end -}}
