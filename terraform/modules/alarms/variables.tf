variable "name" {
  description = "Name prefix of the topic and alarms."
  type        = string
}

variable "subscriptions" {
  description = "Subscribers of the alarm topic, e.g. [{ protocol = \"email\", endpoint = \"oncall@example.com\" }]."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default = []
}

variable "msk_cluster_name" {
  description = "MSK cluster name."
  type        = string
}

variable "msk_broker_count" {
  description = "Brokers in the cluster (broker IDs run 1..n)."
  type        = number
  default     = 3
}

variable "msk_disk_used_percent" {
  description = "Alarm when a broker's data volume is fuller than this."
  type        = number
  default     = 80
}

variable "consumer_groups" {
  description = "Consumer group and topic pairs to watch, with lag thresholds in records."
  type = list(object({
    group         = string
    topic         = string
    sum_threshold = number
    max_threshold = number
  }))
}

variable "rds_instance_id" {
  description = "DB instance identifier."
  type        = string
}

variable "rds_cpu_percent" {
  description = "Alarm when average CPU exceeds this."
  type        = number
  default     = 80
}

variable "rds_free_storage_gib" {
  description = "Alarm when free storage drops below this."
  type        = number
  default     = 10
}

variable "rds_max_connections" {
  description = "Alarm when connections exceed this."
  type        = number
  default     = 400
}

variable "rds_replica_ids" {
  description = "Read replica identifiers to watch for lag."
  type        = list(string)
  default     = []
}

variable "rds_replica_lag_seconds" {
  description = "Alarm when a replica is this many seconds behind."
  type        = number
  default     = 60
}

variable "alb_arn_suffixes" {
  description = "ALB ARN suffixes (app/<name>/<id>) keyed by a label, e.g. { command = \"app/k8s-.../...\" }."
  type        = map(string)
  default     = {}
}

variable "alb_5xx_per_minute" {
  description = "Alarm when target 5xx answers per minute exceed this."
  type        = number
  default     = 5
}
