variable "name" {
  description = "Name prefix of every resource (e.g. event-orchestrator-prod)."
  type        = string
}

variable "cidr" {
  description = "VPC CIDR block; a /16 leaves room for three /19 private subnets."
  type        = string
  default     = "10.40.0.0/16"
}

variable "azs" {
  description = "Availability zones to span, e.g. [\"eu-west-1a\", \"eu-west-1b\", \"eu-west-1c\"]; MSK puts one broker in each."
  type        = list(string)

  validation {
    condition     = length(var.azs) >= 2 && length(var.azs) <= 3
    error_message = "Give 2 or 3 availability zones."
  }
}

variable "single_nat_gateway" {
  description = "One shared NAT gateway (cheaper; an AZ outage then cuts egress for all AZs)."
  type        = bool
  default     = false
}

variable "flow_log_retention_days" {
  description = "Days to keep VPC flow logs."
  type        = number
  default     = 365
}
