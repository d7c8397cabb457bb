variable "name" {
  description = "Cluster name (when created)."
  type        = string
}

variable "create_cluster" {
  description = "Build a cluster; false attaches to existing_cluster_name."
  type        = bool
  default     = true
}

variable "existing_cluster_name" {
  description = "Cluster to attach to when create_cluster is false; it must already have an IAM OIDC provider."
  type        = string
  default     = null
}

variable "existing_workload_security_group_id" {
  description = "Security group the existing cluster's pods use, when it is not the cluster security group."
  type        = string
  default     = null
}

variable "kubernetes_version" {
  description = "Kubernetes minor version."
  type        = string
  default     = "1.33"
}

variable "subnet_ids" {
  description = "Private subnets for the control-plane ENIs and the nodes."
  type        = list(string)
  default     = []
}

variable "endpoint_public_access" {
  description = "Also expose the API server endpoint publicly (to public_access_cidrs only)."
  type        = bool
  default     = false
}

variable "public_access_cidrs" {
  description = "CIDRs allowed to the public API endpoint."
  type        = list(string)
  default     = []
}

variable "cluster_admin_arns" {
  description = "IAM principals (e.g. the CI deploy role) given cluster-admin through access entries."
  type        = list(string)
  default     = []
}

variable "node_instance_types" {
  description = "Instance types of the managed node group."
  type        = list(string)
  default     = ["m7i.large"]
}

variable "node_ami_type" {
  description = "EKS-optimised AMI family of the nodes."
  type        = string
  default     = "AL2023_x86_64_STANDARD"
}

variable "node_min_size" {
  description = "Minimum nodes."
  type        = number
  default     = 3
}

variable "node_desired_size" {
  description = "Nodes at creation."
  type        = number
  default     = 3
}

variable "node_max_size" {
  description = "Maximum nodes."
  type        = number
  default     = 6
}

variable "node_disk_size" {
  description = "Root volume per node, GiB."
  type        = number
  default     = 50
}

variable "log_retention_days" {
  description = "Days to keep control-plane logs."
  type        = number
  default     = 365
}
