# METADATA
# title: CoreDNS scales with the cluster
# description: |
#   Reports the CoreDNS Deployment (kube-system/coredns) when it runs fewer than 2
#   replicas, or fewer than one per nodesPerReplica schedulable nodes of the inventory
#   (the linear rule of cluster-proportional-autoscaler), and when a cluster of more
#   than nodeLocalDnsThreshold nodes has no NodeLocal DNSCache DaemonSet
#   (kube-system/node-local-dns). kube-system is exempt from admission, so the rule
#   looks at this Deployment deliberately and is audit-only: EKS manages CoreDNS as an
#   add-on whose autoScaling configuration, not an edit of the Deployment, is the fix.
#   Node counts come from the inventory; without Nodes only the 2-replica floor is
#   checked.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#ops-002
# custom:
#   id: OPS-002
#   severity: medium
#   kinds: [Deployment]
#   default_action: audit
#   audit_only: true
#   referential: true
#   inventory: [Node, DaemonSet]
#   why: |
#     Every Service lookup of every pod goes through CoreDNS. One replica is a single
#     point of failure for the whole cluster's name resolution, and a fixed replica
#     count that was right for 10 nodes drops and delays queries at 200, which GenAI
#     pipelines (RAG calls to vector databases, model endpoints, S3) feel as timeouts.
#     Autoscaling CoreDNS with the cluster, and NodeLocal DNSCache in large clusters,
#     keep lookups fast and spread the load.
#   examples:
#     bad: |
#       apiVersion: apps/v1
#       kind: Deployment
#       metadata: {name: coredns, namespace: kube-system}
#       spec:
#         replicas: 1
#         selector: {matchLabels: {k8s-app: kube-dns}}
#         template:
#           metadata: {labels: {k8s-app: kube-dns}}
#           spec:
#             containers:
#             - {name: coredns, image: 602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.11.3-eksbuild.1}
#     good: |
#       apiVersion: apps/v1
#       kind: Deployment
#       metadata: {name: coredns, namespace: kube-system}
#       spec:
#         replicas: 4
#         selector: {matchLabels: {k8s-app: kube-dns}}
#         template:
#           metadata: {labels: {k8s-app: kube-dns}}
#           spec:
#             containers:
#             - {name: coredns, image: 602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.11.3-eksbuild.1}
#   params:
#     nodesPerReplica: 16
#     nodeLocalDnsThreshold: 100
#   schema:
#     nodesPerReplica: {type: integer, minimum: 1, description: "schedulable nodes one CoreDNS replica serves (cluster-proportional-autoscaler's nodesPerReplica)"}
#     nodeLocalDnsThreshold: {type: integer, minimum: 0, description: "nodes from which the cluster should run NodeLocal DNSCache (DaemonSet kube-system/node-local-dns)"}
package kgate.rules.ops.coredns_scaling

import data.kgate.lib

applies if {
	lib.kind == "Deployment"
	lib.namespace == "kube-system"
	lib.obj.metadata.name == "coredns"
}

# replicas defaults to 1, as the API server does.
replicas := r if {
	r := lib.get(lib.obj.spec, "replicas", 1)
	is_number(r)
}

# nodes is the number of schedulable nodes in the inventory (0 when it holds none).
nodes := count([n | some n in object.get(data.inventory, ["cluster", "Node"], {}); not object.get(n, ["spec", "unschedulable"], false) == true])

# wanted is the replica count the cluster needs: at least 2, and one per
# nodesPerReplica nodes.
wanted := max([2, ceil(nodes / lib.params.nodesPerReplica)])

replicas_path := "/spec/replicas" if lib.obj.spec.replicas != null

else := "/spec"

violation contains v if {
	applies
	replicas < wanted
	v := {
		"msg": replicas_msg,
		"path": replicas_path,
		"fix": sprintf("enable autoscaling in the CoreDNS add-on configuration ({\"autoScaling\":{\"enabled\":true,\"minReplicas\":%d,\"maxReplicas\":10}}) or run cluster-proportional-autoscaler for it (nodesPerReplica %d), instead of editing replicas, which the add-on may reset", [wanted, lib.params.nodesPerReplica]),
	}
}

replicas_msg := sprintf("CoreDNS runs %d replica(s): a single node or pod failure stops name resolution for every pod of the cluster", [replicas]) if replicas < 2

else := sprintf("CoreDNS runs %d replicas for %d nodes, fewer than one per %d nodes (%d wanted): DNS queries queue and time out as the cluster grows", [replicas, nodes, lib.params.nodesPerReplica, wanted])

# NodeLocal DNSCache: a node-local-dns DaemonSet in kube-system.
node_local_dns if data.inventory.namespace["kube-system"].DaemonSet["node-local-dns"]

violation contains v if {
	applies
	nodes > lib.params.nodeLocalDnsThreshold
	not node_local_dns
	v := {
		"msg": sprintf("the cluster has %d nodes and no NodeLocal DNSCache (DaemonSet kube-system/node-local-dns): every DNS query crosses the network to a CoreDNS pod and conntrack races drop some of them", [nodes]),
		"path": "/metadata/name",
		"fix": "deploy NodeLocal DNSCache (DaemonSet node-local-dns, e.g. on 169.254.20.10) and let NetworkPolicies with egress rules allow DNS to that node-local IP (NETPOL-004)",
	}
}
