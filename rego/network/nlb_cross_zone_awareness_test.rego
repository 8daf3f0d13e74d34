package kgate.rules.network.nlb_cross_zone_awareness_test

import data.kgate.lib.testing
import data.kgate.rules.network.nlb_cross_zone_awareness as rule

attributes_key := "service.beta.kubernetes.io/aws-load-balancer-attributes"

attributes_path := "/metadata/annotations/service.beta.kubernetes.io~1aws-load-balancer-attributes"

tg_attributes_key := "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes"

tg_attributes_path := "/metadata/annotations/service.beta.kubernetes.io~1aws-load-balancer-target-group-attributes"

deprecated_key := "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled"

deprecated_path := "/metadata/annotations/service.beta.kubernetes.io~1aws-load-balancer-cross-zone-load-balancing-enabled"

service(annotations) := {
	"apiVersion": "v1",
	"kind": "Service",
	"metadata": {
		"name": "my-llama-svc",
		"namespace": "genai",
		"annotations": object.union({"service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip"}, annotations),
	},
	"spec": {
		"type": "LoadBalancer",
		"loadBalancerClass": "service.k8s.aws/nlb",
		"selector": {"app.kubernetes.io/name": "my-llama-finetuned"},
		"ports": [{"port": 80, "targetPort": 8080}],
	},
}

# The catalog's bad example.
cross_zone := service({attributes_key: "load_balancing.cross_zone.enabled=true"})

findings(svc) := [v | some v in rule.violation with input as testing.review(svc)]

test_cross_zone_enabled_is_warned if {
	[v] := findings(cross_zone)
	v.action == "warn"
	v.path == attributes_path
	contains(v.msg, `"my-llama-svc"`)
	contains(v.msg, "inter-AZ")
	contains(v.fix, "topologySpreadConstraints")
	contains(v.fix, "allowCrossZone")
}

test_cross_zone_among_other_attributes if {
	every raw in [
		"deletion_protection.enabled=true,load_balancing.cross_zone.enabled=true",
		" load_balancing.cross_zone.enabled=true , dns_record.client_routing_policy=any_availability_zone",
		# the last of repeated keys wins, as in LBC's map
		"load_balancing.cross_zone.enabled=false,load_balancing.cross_zone.enabled=true",
	] {
		count(findings(service({attributes_key: raw}))) == 1
	}
}

test_cross_zone_off_passes if {
	every svc in [
		# the catalog's good example
		service({attributes_key: "dns_record.client_routing_policy=availability_zone_affinity"}),
		service({attributes_key: "load_balancing.cross_zone.enabled=false"}),
		service({}),
		service({"other.example.com/load_balancing.cross_zone.enabled": "true"}),
		service({attributes_key: "load_balancing.cross_zone.enabled=true,load_balancing.cross_zone.enabled=false"}),
	] {
		rule.applies with input as testing.review(svc)
		count(rule.violation) == 0 with input as testing.review(svc)
	}
}

# The target group attribute decides for its target group.
test_target_group_attribute_overrides if {
	off := service({
		attributes_key: "load_balancing.cross_zone.enabled=true",
		tg_attributes_key: "load_balancing.cross_zone.enabled=false",
	})
	count(rule.violation) == 0 with input as testing.review(off)

	on := service({tg_attributes_key: "preserve_client_ip.enabled=true,load_balancing.cross_zone.enabled=true"})
	[v] := findings(on)
	v.path == tg_attributes_path

	inherit := service({
		attributes_key: "load_balancing.cross_zone.enabled=true",
		tg_attributes_key: "load_balancing.cross_zone.enabled=use_load_balancer_configuration",
	})
	[w] := findings(inherit)
	w.path == attributes_path
}

test_deprecated_annotation_is_warned if {
	svc := service({deprecated_key: "true"})
	vs := findings(svc)
	count(vs) == 2
	every v in vs {
		v.action == "warn"
		v.path == deprecated_path
	}
	some d in vs
	contains(d.msg, "deprecated")
	contains(d.fix, "load_balancing.cross_zone.enabled=true")
}

# The deprecated annotation wins over the attributes annotation in LBC.
test_deprecated_annotation_wins if {
	off := service({deprecated_key: "false", attributes_key: "load_balancing.cross_zone.enabled=true"})
	[v] := findings(off)
	contains(v.msg, "deprecated")
	contains(v.fix, "load_balancing.cross_zone.enabled=false")

	on := service({deprecated_key: "True", attributes_key: "load_balancing.cross_zone.enabled=false"})
	count(findings(on)) == 2
}

test_allow_cross_zone if {
	every allow in [["genai"], ["genai/my-llama-svc"]] {
		count(rule.violation) == 0 with input as testing.review_with(cross_zone, {"allowCrossZone": allow})
	}
	count(rule.violation) == 1 with input as testing.review_with(cross_zone, {"allowCrossZone": ["genai/other", "rag"]})

	# the deprecated form is warned even where cross-zone is accepted
	[v] := [v | some v in rule.violation with input as testing.review_with(service({deprecated_key: "true"}), {"allowCrossZone": ["genai"]})]
	contains(v.msg, "deprecated")
}

# The attribute may be changed in place: UPDATEs are warned like CREATEs.
test_update_is_warned if {
	[v] := [v | some v in rule.violation with input as testing.review_update(cross_zone, service({}))]
	v.action == "warn"
}

test_services_lbc_does_not_manage_are_not_in_scope if {
	every svc in [
		json.patch(cross_zone, [{"op": "replace", "path": "/spec/loadBalancerClass", "value": "metallb.universe.tf/metallb"}]),
		json.patch(cross_zone, [{"op": "replace", "path": "/spec", "value": {"type": "ClusterIP", "selector": {"app": "x"}}}]),
		json.patch(cross_zone, [{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"}]),
		# the legacy cloud provider reads its own cross-zone annotation
		json.patch(service({deprecated_key: "true", "service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}), [{"op": "remove", "path": "/spec/loadBalancerClass"}]),
	] {
		not rule.applies with input as testing.review(svc)
		count(rule.violation) == 0 with input as testing.review(svc)
	}
}

# LBC's webhook gives a LoadBalancer Service without class or type annotation its class.
test_webhook_defaulted_service_is_in_scope if {
	svc := json.patch(cross_zone, [{"op": "remove", "path": "/spec/loadBalancerClass"}])
	count(rule.violation) == 1 with input as testing.review(svc)
}
