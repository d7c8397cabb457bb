# Per-account inputs (terraform.tfvars); described in
# ../../modules/stack/variables.tf, which also validates them.

variable "region" {
  description = "AWS region."
  type        = string
}

variable "availability_zones" {
  description = "Three AZ names for the VPC; unused with existing_network."
  type        = list(string)
  default     = []
}

variable "existing_network" {
  description = "Use this VPC instead of creating one."
  type = object({
    vpc_id             = string
    private_subnet_ids = list(string)
  })
  default = null
}

variable "existing_cluster_name" {
  description = "Attach to this EKS cluster instead of creating one."
  type        = string
  default     = null
}

variable "existing_workload_security_group_id" {
  description = "Security group of the existing cluster's pods."
  type        = string
  default     = null
}

variable "eks_public_access_cidrs" {
  description = "CIDRs allowed to a public API endpoint; empty keeps it private."
  type        = list(string)
  default     = []
}

variable "eks_cluster_admin_arns" {
  description = "IAM principals given cluster-admin."
  type        = list(string)
  default     = []
}

variable "msk_scram_secrets_ready" {
  description = "Set once every AmazonMSK_* secret holds credentials."
  type        = bool
  default     = false
}

variable "alarm_subscriptions" {
  description = "Subscribers of the alarm topic."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default = []
}

variable "alb_arn_suffixes" {
  description = "ARN suffixes of the load balancers, keyed by label."
  type        = map(string)
  default     = {}
}
