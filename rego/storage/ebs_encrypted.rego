# METADATA
# title: EBS StorageClasses encrypt their volumes
# description: |
#   EBS encryption is transparent to workloads and costs nothing extra, but it can
#   only be chosen when a volume is created: an unencrypted volume holding model weights,
#   checkpoints or RAG data has to be snapshotted, copied and replaced later. The EBS CSI
#   driver encrypts only when parameters.encrypted is exactly "true" (default false), and
#   a kmsKeyId without it is an error. New classes without the parameter get
#   encrypted: "true" (and "True" or "TRUE" is normalised), an explicit other value or a
#   kmsKeyId without encryption is rejected, and existing classes are only reported
#   (parameters are immutable). With requiredKmsKeyArn set, classes must use that key.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#storage-004
# custom:
#   id: STORAGE-004
#   severity: high
#   kinds: [StorageClass]
#   default_action: mutate
#   why: |
#     Volumes of GenAI workloads hold model weights, fine-tuning data, checkpoints and
#     RAG documents. EBS encryption costs nothing extra and is invisible to the workload,
#     but it can only be chosen when a volume is created: an unencrypted volume has to
#     be snapshotted, copied and swapped later. A class that asks for encryption protects
#     every volume created from it, also in accounts without encryption by default.
#   examples:
#     bad: |
#       apiVersion: storage.k8s.io/v1
#       kind: StorageClass
#       metadata: {name: gp3-plain}
#       provisioner: ebs.csi.aws.com
#       parameters: {type: gp3, kmsKeyId: "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
#     good: |
#       apiVersion: storage.k8s.io/v1
#       kind: StorageClass
#       metadata: {name: gp3-encrypted}
#       provisioner: ebs.csi.aws.com
#       parameters:
#         type: gp3
#         encrypted: "true"
#         kmsKeyId: "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
#       volumeBindingMode: WaitForFirstConsumer
#   params:
#     requiredKmsKeyArn: ""
#   schema:
#     requiredKmsKeyArn: {type: string, description: "KMS key ARN every EBS class must use (empty: any key)"}
package kgate.rules.storage.ebs_encrypted

import data.kgate.lib
import data.kgate.lib.storage

applies if {
	lib.kind == "StorageClass"
	storage.ebs_object
}

name := lib.obj.metadata.name

enc := storage.param(lib.obj, "encrypted")

kms := storage.param(lib.obj, "kmsKeyId")

required_key := lib.params.requiredKmsKeyArn

# "True", "TRUE": meant as true, but the driver compares with "true".
loosely_true if {
	enc.value != "true"
	lower(trim_space(enc.value)) == "true"
}

# disabled: an explicit value that is not true in any spelling.
disabled if {
	enc
	enc.value != "true"
	not loosely_true
}

param_path(key) := concat("", ["/parameters/", lib.escape(key)])

# Fixes that only change a new class's parameters are safe: mutate on CREATE.
safe_action := "audit" if lib.updating

else := "mutate"

unsafe_action := "audit" if lib.updating

else := "deny"

recreate := "recreate the class under a new name with parameters.encrypted: \"true\" (parameters are immutable)"

fix(new) := recreate if {
	lib.updating
} else := new

violation contains v if {
	applies
	not enc
	not kms
	v := {
		"msg": sprintf("StorageClass %q does not set parameters.encrypted: its EBS volumes are created unencrypted (unless the account encrypts by default)", [name]),
		"path": "/parameters",
		"fix": fix("set parameters.encrypted: \"true\""),
		"action": safe_action,
	}
}

violation contains v if {
	applies
	not enc
	kms
	v := {
		"msg": sprintf("StorageClass %q sets kmsKeyId but not encrypted: \"true\": volume creation fails or ignores the key", [name]),
		"path": param_path(kms.key),
		"fix": fix("set parameters.encrypted: \"true\" next to kmsKeyId"),
		"action": unsafe_action,
	}
}

violation contains v if {
	applies
	loosely_true
	v := {
		"msg": sprintf("StorageClass %q sets encrypted: %q; the EBS CSI driver only recognises the string \"true\"", [name, enc.value]),
		"path": param_path(enc.key),
		"fix": fix("set parameters.encrypted: \"true\""),
		"action": safe_action,
	}
}

violation contains v if {
	applies
	disabled
	v := {
		"msg": sprintf("StorageClass %q disables EBS encryption (encrypted: %q)", [name, enc.value]),
		"path": param_path(enc.key),
		"fix": fix("set parameters.encrypted: \"true\""),
		"action": unsafe_action,
	}
}

# requiredKmsKeyArn: volumes must use that key. A class without kmsKeyId (AWS-managed
# aws/ebs key) gets it on CREATE; a class naming another key is rejected.
violation contains v if {
	applies
	required_key != ""
	not kms
	v := {
		"msg": sprintf("StorageClass %q encrypts with the AWS-managed aws/ebs key, not the required KMS key %s", [name, required_key]),
		"path": "/parameters",
		"fix": fix(sprintf("set parameters.kmsKeyId: %s", [required_key])),
		"action": safe_action,
	}
}

violation contains v if {
	applies
	required_key != ""
	kms.value != required_key
	v := {
		"msg": sprintf("StorageClass %q encrypts with KMS key %s, not the required %s", [name, kms.value, required_key]),
		"path": param_path(kms.key),
		"fix": fix(sprintf("set parameters.kmsKeyId: %s", [required_key])),
		"action": unsafe_action,
	}
}

patch contains {"op": "add", "path": "/parameters/encrypted", "value": "true"} if {
	applies
	lib.creating
	not enc
	not kms
}

patch contains {"op": "replace", "path": param_path(enc.key), "value": "true"} if {
	applies
	lib.creating
	loosely_true
}

patch contains {"op": "add", "path": "/parameters/kmsKeyId", "value": required_key} if {
	applies
	lib.creating
	required_key != ""
	not kms
}
