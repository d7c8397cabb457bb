variable "name" {
  description = "DB instance identifier."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the database."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets across AZs for the subnet group."
  type        = list(string)
}

variable "client_security_group_ids" {
  description = "Security groups allowed to reach 5432, keyed by a static label (e.g. { eks = sg-... })."
  type        = map(string)
}

variable "engine_version" {
  description = "Postgres version; a major version alone lets minor upgrades apply automatically."
  type        = string
  default     = "16"
}

variable "instance_class" {
  description = "DB instance class."
  type        = string
  default     = "db.m7g.large"
}

variable "allocated_storage" {
  description = "Initial storage, GiB."
  type        = number
  default     = 50
}

variable "max_allocated_storage" {
  description = "Ceiling for storage auto-scaling, GiB."
  type        = number
  default     = 500
}

variable "db_name" {
  description = "Database created at launch (the read model)."
  type        = string
  default     = "orchestrator"
}

variable "master_username" {
  description = "Master user; the services get their own role, not this one."
  type        = string
  default     = "orch_admin"
}

variable "backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery window)."
  type        = number
  default     = 14

  validation {
    condition     = var.backup_retention_days >= 7
    error_message = "Keep at least 7 days of backups."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the instance."
  type        = bool
  default     = true
}

variable "skip_final_snapshot" {
  description = "Delete without a final snapshot (only for throwaway environments)."
  type        = bool
  default     = false
}

variable "performance_insights_retention_days" {
  description = "7 (free) or a multiple of 31 up to 731."
  type        = number
  default     = 7
}

variable "log_min_duration_ms" {
  description = "Statements slower than this are logged."
  type        = number
  default     = 500
}

variable "log_retention_days" {
  description = "Days to keep exported Postgres logs."
  type        = number
  default     = 365
}
