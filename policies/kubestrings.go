package policies

import "github.com/open-policy-agent/opa/v1/ast"

// OPA converts each object key and string value to an AST term, and a string
// it has interned costs no allocation. Interning the field names of the kinds
// kgate reviews (and a few values every manifest repeats) spares a Deployment's
// evaluation 18 of its 512 allocations. OPA's intern table is a plain
// map, written only here, during package initialisation, before any goroutine
// can evaluate.
var _ = internKubernetesStrings()

func internKubernetesStrings() bool {
	ast.InternStringTerm(kubernetesStrings...)
	return true
}

var kubernetesStrings = []string{
	// Object envelope.
	"apiVersion", "kind", "metadata", "name", "namespace", "labels", "annotations", "generateName",
	"uid", "resourceVersion", "generation", "creationTimestamp", "ownerReferences", "finalizers",
	"managedFields", "controller", "blockOwnerDeletion", "spec", "status", "data", "items",
	// Workloads and pod templates.
	"replicas", "selector", "matchLabels", "matchExpressions", "template", "strategy", "serviceName",
	"jobTemplate", "schedule", "parallelism", "completions", "backoffLimit", "completionMode",
	"containers", "initContainers", "ephemeralContainers", "image", "imagePullPolicy", "command", "args",
	"env", "envFrom", "value", "valueFrom", "ports", "containerPort", "protocol", "resources", "requests",
	"limits", "claims", "cpu", "memory", "ephemeral-storage", "nvidia.com/gpu", "vpc.amazonaws.com/efa",
	"volumeMounts", "mountPath", "readOnly", "subPath", "volumes", "persistentVolumeClaim", "claimName",
	"emptyDir", "medium", "sizeLimit", "hostPath", "configMap", "secret", "csi", "driver",
	"readinessProbe", "livenessProbe", "startupProbe", "httpGet", "tcpSocket", "path", "port",
	"initialDelaySeconds", "periodSeconds", "securityContext", "runAsNonRoot", "runAsUser",
	"restartPolicy", "nodeSelector", "affinity", "nodeAffinity", "podAffinity", "podAntiAffinity",
	"requiredDuringSchedulingIgnoredDuringExecution", "preferredDuringSchedulingIgnoredDuringExecution",
	"nodeSelectorTerms", "labelSelector", "topologyKey", "topologySpreadConstraints", "maxSkew",
	"whenUnsatisfiable", "tolerations", "key", "operator", "values", "effect", "serviceAccountName",
	"priorityClassName", "schedulerName", "hostNetwork", "dnsPolicy", "terminationGracePeriodSeconds",
	"resourceClaims",
	// Services, Ingresses, NetworkPolicies.
	"type", "clusterIP", "targetPort", "nodePort", "loadBalancerClass", "externalTrafficPolicy",
	"internalTrafficPolicy", "trafficDistribution", "sessionAffinity", "ingressClassName", "rules",
	"host", "http", "paths", "pathType", "backend", "service", "number", "tls", "hosts", "secretName",
	"podSelector", "namespaceSelector", "policyTypes", "ingress", "egress", "from", "to", "ipBlock", "cidr",
	// Storage.
	"provisioner", "parameters", "reclaimPolicy", "volumeBindingMode", "allowVolumeExpansion",
	"allowedTopologies", "storageClassName", "accessModes", "volumeMode", "capacity", "storage",
	"volumeName", "dataSource",
	// Karpenter NodePools.
	"nodeClassRef", "group", "disruption", "consolidationPolicy", "consolidateAfter", "budgets",
	"expireAfter", "weight", "taints", "startupTaints",
	// Values most manifests repeat.
	"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "Service", "Ingress",
	"StorageClass", "PersistentVolumeClaim", "NetworkPolicy", "Namespace", "NodePool",
	"apps/v1", "batch/v1", "v1", "networking.k8s.io/v1", "storage.k8s.io/v1", "karpenter.sh/v1",
	"TCP", "UDP", "ClusterIP", "LoadBalancer", "NodePort", "Always", "IfNotPresent", "Never",
	"In", "NotIn", "Exists", "DoesNotExist", "Egress", "ReadWriteOnce", "Filesystem",
	"app", "app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component",
	"topology.kubernetes.io/zone", "kubernetes.io/arch", "node.kubernetes.io/instance-type",
	"karpenter.sh/capacity-type", "ebs.csi.aws.com", "gp2", "gp3", "WaitForFirstConsumer", "Delete", "Retain",
}
