variable "name" {
  description = "Path prefix of the secret names, e.g. event-orchestrator/prod."
  type        = string
}

variable "recovery_window_days" {
  description = "Days a deleted secret can still be restored."
  type        = number
  default     = 30
}

variable "rotation_lambda_arns" {
  description = "Rotation Lambda per secret (keys: command, query, dispatcher); empty means rotated by hand."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.rotation_lambda_arns) : contains(["command", "query", "dispatcher"], k)])
    error_message = "rotation_lambda_arns keys must be command, query or dispatcher."
  }
}

variable "rotation_days" {
  description = "Rotation interval for secrets that have a rotation Lambda."
  type        = number
  default     = 30
}
