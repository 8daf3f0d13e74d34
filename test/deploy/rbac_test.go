package deploy

import (
	"path/filepath"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

// inventoryResources maps each kind the referential rules read from the cluster
// (policies.Engine.InventoryKinds, the inventory of `kgate policies -o json`) to
// its API group and resource. A rule that adds a kind fails
// TestRBACGrantsInventoryKinds until the kind is added here and granted in
// deploy/chart/kgate/templates/rbac.yaml.
var inventoryResources = map[string]groupResource{
	"DaemonSet":               {"apps", "daemonsets"},
	"EC2NodeClass":            {"karpenter.k8s.aws", "ec2nodeclasses"},
	"HorizontalPodAutoscaler": {"autoscaling", "horizontalpodautoscalers"},
	"Ingress":                 {"networking.k8s.io", "ingresses"},
	"IngressClass":            {"networking.k8s.io", "ingressclasses"},
	"IngressClassParams":      {"elbv2.k8s.aws", "ingressclassparams"},
	"LimitRange":              {"", "limitranges"},
	"Namespace":               {"", "namespaces"},
	"NetworkPolicy":           {"networking.k8s.io", "networkpolicies"},
	"Node":                    {"", "nodes"},
	"NodePool":                {"karpenter.sh", "nodepools"},
	"PersistentVolume":        {"", "persistentvolumes"},
	"PersistentVolumeClaim":   {"", "persistentvolumeclaims"},
	"Pod":                     {"", "pods"},
	"ReplicaSet":              {"apps", "replicasets"},
	"Service":                 {"", "services"},
	"StatefulSet":             {"apps", "statefulsets"},
	"Deployment":              {"apps", "deployments"},
	"StorageClass":            {"storage.k8s.io", "storageclasses"},
	"VerticalPodAutoscaler":   {"autoscaling.k8s.io", "verticalpodautoscalers"},
}

type groupResource struct{ group, resource string }

// boundRules returns the rules of every ClusterRole bound to kgate's
// ServiceAccount, by ClusterRole name.
func boundRules(t *testing.T, m manifest) map[string][]rbacv1.PolicyRule {
	t.Helper()
	out := map[string][]rbacv1.PolicyRule{}
	for _, o := range m {
		if o.Kind != "ClusterRoleBinding" {
			continue
		}
		var b rbacv1.ClusterRoleBinding
		m.get(t, o.Kind, o.Metadata.Name, &b)
		bound := false
		for _, s := range b.Subjects {
			bound = bound || (s.Kind == "ServiceAccount" && s.Name == serviceAccount && s.Namespace == namespace)
		}
		if !bound || b.RoleRef.Kind != "ClusterRole" {
			continue
		}
		var r rbacv1.ClusterRole
		if !m.get(t, "ClusterRole", b.RoleRef.Name, &r) {
			t.Errorf("ClusterRoleBinding %s refers to ClusterRole %s, which is not in the manifest", b.Name, b.RoleRef.Name)
			continue
		}
		out[r.Name] = r.Rules
	}
	return out
}

// grants reports whether the rules allow verb on every object of group/resource.
func grants(rules []rbacv1.PolicyRule, group, resource, verb string) bool {
	for _, r := range rules {
		if len(r.ResourceNames) > 0 {
			continue
		}
		if contains(r.APIGroups, group) && contains(r.Resources, resource) && contains(r.Verbs, verb) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s || x == "*" {
			return true
		}
	}
	return false
}

// kgate's ServiceAccount may list and watch every kind a referential rule reads,
// read namespaces, and record Events, in both certificate setups; apart from
// Events the role is read-only.
func TestRBACGrantsInventoryKinds(t *testing.T) {
	e := builtinEngine(t)
	readers := map[string][]string{}
	for _, r := range e.Rules() {
		for _, k := range r.Inventory {
			readers[k] = append(readers[k], r.ID)
		}
	}
	kinds := e.InventoryKinds()
	if len(kinds) == 0 {
		t.Fatal("the engine reports no inventory kinds")
	}
	type need struct {
		groupResource
		verbs []string
		why   string
	}
	var needs []need
	for _, k := range kinds {
		gr, ok := inventoryResources[k]
		if !ok {
			t.Errorf("inventory kind %s (read by %v) has no API group and resource in inventoryResources: add it there and grant get, list and watch on it in deploy/chart/kgate/templates/rbac.yaml", k, readers[k])
			continue
		}
		needs = append(needs, need{gr, []string{"get", "list", "watch"}, "inventory kind " + k + " of " + strings.Join(readers[k], ", ")})
	}
	needs = append(needs,
		need{groupResource{"", "namespaces"}, []string{"get", "list", "watch"}, "namespace labels and annotations (cached client)"},
		need{groupResource{"", "events"}, []string{"create", "patch"}, "reload Events (core API)"},
		need{groupResource{"events.k8s.io", "events"}, []string{"create", "patch"}, "reload Events (events.k8s.io)"},
	)
	for _, file := range renderedFiles {
		t.Run(filepath.Base(file), func(t *testing.T) {
			m := readManifest(t, file)
			roles := boundRules(t, m)
			var all []rbacv1.PolicyRule
			for _, rules := range roles {
				all = append(all, rules...)
			}
			for _, n := range needs {
				for _, verb := range n.verbs {
					if !grants(all, n.group, n.resource, verb) {
						t.Errorf("ServiceAccount %s/%s may not %s %s in API group %q (%s)", namespace, serviceAccount, verb, n.resource, n.group, n.why)
					}
				}
			}
			rules, ok := roles["kgate"]
			if !ok {
				t.Fatalf("no ClusterRole kgate bound to ServiceAccount %s/%s", namespace, serviceAccount)
			}
			read := map[string]bool{"get": true, "list": true, "watch": true}
			for _, r := range rules {
				events := len(r.Resources) == 1 && r.Resources[0] == "events"
				for _, v := range r.Verbs {
					if !read[v] && !(events && (v == "create" || v == "patch")) {
						t.Errorf("ClusterRole kgate grants %s on %v in %v: it is read-only apart from creating Events", v, r.Resources, r.APIGroups)
					}
				}
			}
		})
	}
}
