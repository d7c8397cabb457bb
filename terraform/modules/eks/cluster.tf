data "aws_partition" "current" {}

locals {
  partition = data.aws_partition.current.partition
}

module "key" {
  count  = var.create_cluster ? 1 : 0
  source = "../kms"

  alias                 = "${var.name}/eks"
  description           = "EKS ${var.name}: Kubernetes Secrets envelope encryption and control-plane logs"
  allow_cloudwatch_logs = true
}

data "aws_iam_policy_document" "cluster_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["eks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "cluster" {
  count = var.create_cluster ? 1 : 0

  name_prefix        = "${var.name}-cluster-"
  assume_role_policy = data.aws_iam_policy_document.cluster_assume.json
}

resource "aws_iam_role_policy_attachment" "cluster" {
  count = var.create_cluster ? 1 : 0

  role       = aws_iam_role.cluster[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonEKSClusterPolicy"
}

data "aws_iam_policy_document" "cluster_kms" {
  count = var.create_cluster ? 1 : 0

  statement {
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"]
    resources = [module.key[0].key_arn]
  }
}

resource "aws_iam_role_policy" "cluster_kms" {
  count = var.create_cluster ? 1 : 0

  name   = "secrets-envelope-key"
  role   = aws_iam_role.cluster[0].id
  policy = data.aws_iam_policy_document.cluster_kms[0].json
}

# EKS would create this group itself, unencrypted and kept forever.
resource "aws_cloudwatch_log_group" "cluster" {
  count = var.create_cluster ? 1 : 0

  name              = "/aws/eks/${var.name}/cluster"
  retention_in_days = var.log_retention_days
  kms_key_id        = module.key[0].key_arn
}

resource "aws_eks_cluster" "this" {
  # checkov:skip=CKV_AWS_39:The public endpoint is off by default; when enabled it is limited to an explicit CIDR list (precondition below).
  count = var.create_cluster ? 1 : 0

  name     = var.name
  version  = var.kubernetes_version
  role_arn = aws_iam_role.cluster[0].arn

  enabled_cluster_log_types = ["api", "audit", "authenticator", "controllerManager", "scheduler"]

  vpc_config {
    subnet_ids              = var.subnet_ids
    endpoint_private_access = true
    endpoint_public_access  = var.endpoint_public_access
    public_access_cidrs     = var.endpoint_public_access ? var.public_access_cidrs : null
  }

  encryption_config {
    resources = ["secrets"]
    provider {
      key_arn = module.key[0].key_arn
    }
  }

  access_config {
    authentication_mode                         = "API"
    bootstrap_cluster_creator_admin_permissions = true
  }

  lifecycle {
    precondition {
      condition     = !var.endpoint_public_access || (length(var.public_access_cidrs) > 0 && !contains(var.public_access_cidrs, "0.0.0.0/0"))
      error_message = "A public endpoint needs an explicit CIDR allow-list without 0.0.0.0/0."
    }
  }

  depends_on = [
    aws_iam_role_policy_attachment.cluster,
    aws_iam_role_policy.cluster_kms,
    aws_cloudwatch_log_group.cluster,
  ]
}

# Since 2023 IAM trusts the EKS issuers' root CAs, so no thumbprint is pinned.
resource "aws_iam_openid_connect_provider" "this" {
  count = var.create_cluster ? 1 : 0

  url            = aws_eks_cluster.this[0].identity[0].oidc[0].issuer
  client_id_list = ["sts.amazonaws.com"]
}

resource "aws_eks_access_entry" "admins" {
  for_each = var.create_cluster ? toset(var.cluster_admin_arns) : toset([])

  cluster_name  = aws_eks_cluster.this[0].name
  principal_arn = each.value
}

resource "aws_eks_access_policy_association" "admins" {
  for_each = aws_eks_access_entry.admins

  cluster_name  = each.value.cluster_name
  principal_arn = each.value.principal_arn
  policy_arn    = "arn:${local.partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"

  access_scope {
    type = "cluster"
  }
}
