variable "name" {
  description = "Name prefix of the buckets and key."
  type        = string
}

variable "prefix" {
  description = "Key prefix the archiver writes under (and the lifecycle applies to)."
  type        = string
  default     = "dlq/"
}

variable "glacier_after_days" {
  description = "Days before archived records move to Glacier Flexible Retrieval."
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
  description = "WORM retention for archived records ({ mode = GOVERNANCE|COMPLIANCE, days }); null for none. Once on, S3 cannot turn it off."
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
