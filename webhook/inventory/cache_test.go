package inventory

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func obj(kind string, labels map[string]any, spec, status map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": kind,
		"metadata": map[string]any{"name": "x", "labels": labels, "resourceVersion": "1"},
		"spec":     spec, "status": status,
	}}
}

func TestChanged(t *testing.T) {
	base := obj("Node", map[string]any{"zone": "a"}, map[string]any{"unschedulable": false}, map[string]any{"conditions": []any{"Ready"}})
	tests := []struct {
		name string
		cur  *unstructured.Unstructured
		want bool
	}{
		{"status heartbeat", obj("Node", map[string]any{"zone": "a"}, map[string]any{"unschedulable": false}, map[string]any{"conditions": []any{"Ready", "MemoryPressure"}}), false},
		{"label", obj("Node", map[string]any{"zone": "b"}, map[string]any{"unschedulable": false}, map[string]any{"conditions": []any{"Ready"}}), true},
		{"spec", obj("Node", map[string]any{"zone": "a"}, map[string]any{"unschedulable": true}, map[string]any{"conditions": []any{"Ready"}}), true},
	}
	for _, tc := range tests {
		if got := changed(base, tc.cur); got != tc.want {
			t.Errorf("%s: changed = %v, want %v", tc.name, got, tc.want)
		}
	}
	vpa := obj("VerticalPodAutoscaler", nil, nil, map[string]any{"recommendation": "a"})
	if !changed(vpa, obj("VerticalPodAutoscaler", nil, nil, map[string]any{"recommendation": "b"})) {
		t.Error("a VPA's recommendation is read by COMPUTE-004: its status change must count")
	}
}
