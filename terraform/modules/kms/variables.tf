variable "alias" {
  description = "Alias name without the alias/ prefix."
  type        = string
}

variable "description" {
  description = "What the key protects."
  type        = string
}

variable "allow_cloudwatch_logs" {
  description = "Let CloudWatch Logs in this region use the key for this account's log groups."
  type        = bool
  default     = false
}

variable "service_principals" {
  description = "Service principals (e.g. cloudwatch.amazonaws.com) that must encrypt messages, e.g. CloudWatch alarms publishing to an encrypted SNS topic."
  type        = list(string)
  default     = []
}

variable "deletion_window_in_days" {
  description = "Waiting period before a scheduled key deletion takes effect."
  type        = number
  default     = 30
}
