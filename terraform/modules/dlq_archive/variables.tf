variable "name" {
  description = "Name prefix of the buckets and key."
  type        = string
}

variable "object_store_prefix" {
  description = "OBJECT_STORE_PREFIX of the archiver and the query service (objectStore.prefix in the Helm values): dead letters go under <prefix>/dlq/, exports under <prefix>/exports/. No leading or trailing /; empty for none."
  type        = string
  default     = "orchestrator"

  validation {
    condition     = can(regex("^([^/](.*[^/])?)?$", var.object_store_prefix))
    error_message = "object_store_prefix must not start or end with /."
  }
}

variable "exports_expire_after_days" {
  description = "Days before the query service's export files (<prefix>/exports/) are deleted; at least QUERY_EXPORT_URL_EXPIRY_SECS."
  type        = number
  default     = 7

  validation {
    condition     = var.exports_expire_after_days >= 1
    error_message = "exports_expire_after_days must be at least 1."
  }
}

variable "glacier_after_days" {
  description = "Days before archived records move to Glacier Instant Retrieval (still read at once by orchctl dlq)."
  type        = number
  default     = 30
}

variable "expire_after_days" {
  description = "Days before archived records are deleted."
  type        = number
  default     = 365
}

variable "noncurrent_expire_after_days" {
  description = "Days an overwritten or deleted version is kept."
  type        = number
  default     = 30
}

variable "access_log_expire_after_days" {
  description = "Days server access logs are kept."
  type        = number
  default     = 365
}

variable "object_lock" {
  description = "WORM retention for archived records ({ mode = GOVERNANCE|COMPLIANCE, days }); null for none. Once on, S3 cannot turn it off, and it applies to every object of the bucket, export files too (they then outlive exports_expire_after_days as noncurrent versions until it ends)."
  type = object({
    mode = string
    days = number
  })
  default = null

  validation {
    condition     = var.object_lock == null || contains(["GOVERNANCE", "COMPLIANCE"], try(var.object_lock.mode, ""))
    error_message = "object_lock.mode must be GOVERNANCE or COMPLIANCE."
  }
}
