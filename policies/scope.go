package policies

import "sort"

// clusterScoped lists the cluster-scoped kinds kgate meets; every other kind is
// taken as namespaced. Rego tests read it as data.kgate.cluster_scoped.
var clusterScoped = map[string]bool{
	"Namespace": true, "Node": true, "PersistentVolume": true, "StorageClass": true,
	"VolumeAttributesClass": true, "CSIDriver": true, "IngressClass": true, "RuntimeClass": true,
	"PriorityClass": true, "ClusterRole": true, "ClusterRoleBinding": true,
	"CustomResourceDefinition": true, "MutatingWebhookConfiguration": true,
	"ValidatingWebhookConfiguration": true, "APIService": true,
	"NodePool": true, "NodeClaim": true, "EC2NodeClass": true, "NodeClass": true,
	"Queue": true, "ClusterQueue": true, "ResourceFlavor": true, "DeviceClass": true,
	"ClusterIssuer": true, "ClusterPolicy": true,
}

// ClusterScoped reports whether objects of kind have no namespace.
func ClusterScoped(kind string) bool { return clusterScoped[kind] }

// NamespaceOf normalises an object's namespace as the API server would see it:
// "" for cluster-scoped kinds (a metadata.namespace there is ignored) and
// "default" for namespaced objects that name none.
func NamespaceOf(kind, namespace string) string {
	if ClusterScoped(kind) {
		return ""
	}
	if namespace == "" {
		return "default"
	}
	return namespace
}

func clusterScopedKinds() []any {
	out := make([]any, 0, len(clusterScoped))
	for k := range clusterScoped {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].(string) < out[j].(string) })
	return out
}
