variable "name" {
  description = "Role name prefix, e.g. event-orchestrator-prod."
  type        = string
}

variable "oidc_provider_arn" {
  description = "IAM OIDC provider of the cluster."
  type        = string
}

variable "oidc_issuer_host" {
  description = "OIDC issuer without https://."
  type        = string
}

variable "namespace" {
  description = "Kubernetes namespace the services run in."
  type        = string
  default     = "event-orchestrator"
}

variable "service_accounts" {
  description = "Kubernetes service account per workload; each role trusts exactly one."
  type        = map(string)
  default = {
    command      = "command"
    dispatcher   = "dispatcher"
    query        = "query"
    dlq_archiver = "dlq-archiver"
  }

  validation {
    condition     = alltrue([for k in ["command", "dispatcher", "query", "dlq_archiver"] : contains(keys(var.service_accounts), k)])
    error_message = "service_accounts needs command, dispatcher, query and dlq_archiver."
  }
}

variable "msk_cluster_arn" {
  description = "MSK cluster ARN; topic and group ARNs are derived from it."
  type        = string
}

variable "kafka_iam_auth" {
  description = "Grant kafka-cluster:* data-plane actions (only used when clients authenticate with IAM)."
  type        = bool
  default     = false
}

variable "allow_create_topics" {
  description = "Grant kafka-cluster:CreateTopic on the three topics (the services create missing topics at start)."
  type        = bool
  default     = false
}

variable "topic_prefix" {
  description = "KAFKA_TOPIC_PREFIX of the deployment."
  type        = string
  default     = ""
}

variable "dispatcher_group_id" {
  description = "DISPATCHER_GROUP_ID."
  type        = string
  default     = "orch-dispatcher"
}

variable "projector_group_id" {
  description = "QUERY_GROUP_ID."
  type        = string
  default     = "orch-projector"
}

variable "dlq_archiver_group_id" {
  description = "Consumer group of the DLQ archiver."
  type        = string
  default     = "orch-dlq-archiver"
}

variable "secret_arns" {
  description = "Secrets Manager ARNs each workload may read (its own only), keyed like service_accounts."
  type        = map(list(string))
  default     = {}
}

variable "secret_kms_key_arns" {
  description = "Keys those secrets are encrypted with."
  type        = list(string)
  default     = []
}

variable "object_store" {
  description = "The bucket of the dlq_archive module: the archiver role writes dead letters under dlq_prefix, the query role export files under exports_prefix; prefix is OBJECT_STORE_PREFIX. Null creates no archiver role and gives the query role no S3 access."
  type = object({
    bucket_arn     = string
    prefix         = string
    dlq_prefix     = string
    exports_prefix = string
    kms_key_arn    = string
  })
  default = null
}
