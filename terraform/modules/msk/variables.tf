variable "name" {
  description = "Cluster name."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the brokers."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets, one per AZ; brokers are spread evenly across them."
  type        = list(string)
}

variable "client_security_group_ids" {
  description = "Security groups allowed to reach the brokers, keyed by a static label (e.g. { eks = sg-... })."
  type        = map(string)
}

variable "kafka_version" {
  description = "MSK Apache Kafka version: 4.1.x, the minor local development and CI run (dev/lib/kafka/pom.xml)."
  type        = string
  default     = "4.1.x"
}

variable "broker_count" {
  description = "Brokers in total; a multiple of the subnet count."
  type        = number
  default     = 3
}

variable "broker_instance_type" {
  description = "Broker instance type."
  type        = string
  default     = "kafka.m7g.large"
}

variable "broker_volume_size" {
  description = "Initial EBS size per broker, GiB."
  type        = number
  default     = 100
}

variable "broker_volume_size_max" {
  description = "Ceiling for storage auto-scaling per broker, GiB."
  type        = number
  default     = 1000
}

variable "default_partitions" {
  description = "Partitions of topics created without an explicit count (the services pass KAFKA_TOPIC_PARTITIONS)."
  type        = number
  default     = 6
}

variable "enhanced_monitoring" {
  description = "CloudWatch metric level; PER_TOPIC_PER_PARTITION adds per-partition consumer lag."
  type        = string
  default     = "PER_TOPIC_PER_PARTITION"
}

variable "sasl_scram_enabled" {
  description = "Accept SASL/SCRAM-SHA-512 on port 9096 (what the services support today)."
  type        = bool
  default     = true
}

variable "sasl_iam_enabled" {
  description = "Accept IAM (AWS_MSK_IAM) on port 9098."
  type        = bool
  default     = false
}

variable "scram_users" {
  description = "One SCRAM secret is created per user."
  type        = list(string)
  default     = ["command", "dispatcher", "query"]
}

variable "scram_secrets_ready" {
  description = "Set after every SCRAM secret holds a value; associates them with the cluster."
  type        = bool
  default     = false
}

variable "secret_recovery_window_days" {
  description = "Days a deleted SCRAM secret can still be restored."
  type        = number
  default     = 30
}

variable "log_retention_days" {
  description = "Days to keep broker logs."
  type        = number
  default     = 365
}
