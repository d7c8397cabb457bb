variable "region" {
  description = "AWS region."
  type        = string
}

variable "project" {
  description = "Short project label; names are <project>-<environment>."
  type        = string
  default     = "orch"

  validation {
    # IAM name_prefix allows 38 characters and the longest suffix is 22.
    condition     = can(regex("^[a-z][a-z0-9]{1,5}$", var.project))
    error_message = "project: 2-6 lowercase letters or digits."
  }
}

variable "environment" {
  description = "Environment label (dev, prod, ...)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,8}$", var.environment))
    error_message = "environment: 2-9 lowercase letters or digits."
  }
}

# --- network -----------------------------------------------------------------

variable "availability_zones" {
  description = "Three AZ names for the VPC this stack creates (one MSK broker each); unused with existing_network."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.availability_zones) == 0 || length(var.availability_zones) == 3
    error_message = "Name exactly three availability zones."
  }
}

variable "vpc_cidr" {
  description = "CIDR of the VPC this stack creates."
  type        = string
}

variable "single_nat_gateway" {
  description = "Share one NAT gateway across AZs."
  type        = bool
}

variable "existing_network" {
  description = "Use this VPC (e.g. the existing cluster's) instead of creating one."
  type = object({
    vpc_id             = string
    private_subnet_ids = list(string)
  })
  default = null
}

# --- EKS -----------------------------------------------------------------------

variable "existing_cluster_name" {
  description = "Attach to this EKS cluster instead of creating one (it must have an IAM OIDC provider)."
  type        = string
  default     = null
}

variable "existing_workload_security_group_id" {
  description = "Security group of the existing cluster's pods, if not its cluster security group."
  type        = string
  default     = null
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of a created cluster."
  type        = string
  default     = "1.33"
}

variable "eks_public_access_cidrs" {
  description = "CIDRs allowed to a public API endpoint; empty keeps the endpoint private."
  type        = list(string)
  default     = []
}

variable "eks_cluster_admin_arns" {
  description = "IAM principals given cluster-admin (e.g. the CI deploy role)."
  type        = list(string)
  default     = []
}

variable "eks_node_instance_types" {
  description = "Node instance types."
  type        = list(string)
}

variable "eks_node_min_size" {
  description = "Minimum (and initial) nodes; one per AZ at least."
  type        = number
}

variable "eks_node_max_size" {
  description = "Maximum nodes."
  type        = number
}

# --- Kafka -------------------------------------------------------------------

variable "kafka_version" {
  description = "MSK Apache Kafka version: 4.1.x, the minor local development and CI run (dev/lib/kafka/pom.xml)."
  type        = string
  default     = "4.1.x"
}

variable "msk_broker_instance_type" {
  description = "Broker instance type."
  type        = string
}

variable "msk_broker_volume_size" {
  description = "Initial storage per broker, GiB."
  type        = number
}

variable "msk_broker_volume_size_max" {
  description = "Storage auto-scaling ceiling per broker, GiB."
  type        = number
}

variable "msk_sasl_scram_enabled" {
  description = "SASL/SCRAM-SHA-512 client auth (what the services implement today)."
  type        = bool
  default     = true
}

variable "msk_sasl_iam_enabled" {
  description = "IAM client auth; also grants the IRSA roles their kafka-cluster actions."
  type        = bool
  default     = false
}

variable "msk_scram_secrets_ready" {
  description = "Set once every AmazonMSK_* secret holds credentials; associates them with the cluster."
  type        = bool
  default     = false
}

variable "kafka_topic_prefix" {
  description = "KAFKA_TOPIC_PREFIX the services run with."
  type        = string
  default     = ""
}

variable "kafka_topic_partitions" {
  description = "KAFKA_TOPIC_PARTITIONS: bounds dispatcher parallelism."
  type        = number
  default     = 6
}

variable "kafka_allow_create_topics" {
  description = "With IAM auth, let the services create their topics (they ask at every start)."
  type        = bool
  default     = true
}

# --- Postgres ------------------------------------------------------------------

variable "rds_instance_class" {
  description = "DB instance class."
  type        = string
}

variable "rds_allocated_storage" {
  description = "Initial storage, GiB."
  type        = number
}

variable "rds_max_allocated_storage" {
  description = "Storage auto-scaling ceiling, GiB."
  type        = number
}

variable "rds_backup_retention_days" {
  description = "Automated backup retention."
  type        = number
}

variable "rds_deletion_protection" {
  description = "Refuse to delete the DB instance."
  type        = bool
}

variable "rds_skip_final_snapshot" {
  description = "Delete the DB without a final snapshot."
  type        = bool
}

variable "rds_connections_alarm" {
  description = "Alarm threshold for DatabaseConnections."
  type        = number
}

# --- workloads -----------------------------------------------------------------

variable "kubernetes_namespace" {
  description = "Namespace of the Helm release."
  type        = string
  default     = "event-orchestrator"
}

variable "service_accounts" {
  description = "Service account names the Helm chart gives each workload."
  type        = map(string)
  default = {
    command      = "command"
    dispatcher   = "dispatcher"
    query        = "query"
    dlq_archiver = "dlq-archiver"
  }
}

variable "secret_recovery_window_days" {
  description = "Days a deleted secret can be restored (0 deletes at once)."
  type        = number
}

# --- DLQ archive and exports ---------------------------------------------------

variable "object_store_prefix" {
  description = "OBJECT_STORE_PREFIX the archiver and the query service run with (objectStore.prefix in the Helm values); the IAM policies and lifecycle rules name <prefix>/dlq/ and <prefix>/exports/."
  type        = string
  default     = "orchestrator"
}

variable "exports_expire_after_days" {
  description = "Days before the query service's export files are deleted; at least QUERY_EXPORT_URL_EXPIRY_SECS (7 days at most)."
  type        = number
  default     = 7
}

variable "dlq_archive_glacier_after_days" {
  description = "Days before archived DLQ records move to Glacier Instant Retrieval."
  type        = number
  default     = 30
}

variable "dlq_archive_expire_after_days" {
  description = "Days before archived DLQ records are deleted."
  type        = number
}

variable "dlq_archive_object_lock" {
  description = "Object lock for the archive ({ mode, days }) or null."
  type = object({
    mode = string
    days = number
  })
  default = null
}

# --- observability -------------------------------------------------------------

variable "log_retention_days" {
  description = "Retention of flow, broker, database and control-plane logs."
  type        = number
}

variable "alarm_subscriptions" {
  description = "Subscribers of the alarm topic."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default = []
}

variable "dispatcher_lag_threshold" {
  description = "orch-dispatcher lag on events.raw (records, all partitions) that alarms; the target is slower than the source, so some backlog is normal."
  type        = number
  default     = 100000
}

variable "projector_lag_threshold" {
  description = "orch-projector lag (records, all partitions) that alarms."
  type        = number
  default     = 50000
}

variable "alb_arn_suffixes" {
  description = "ARN suffixes of the load balancers the AWS Load Balancer Controller made, keyed by label; empty until they exist."
  type        = map(string)
  default     = {}
}
