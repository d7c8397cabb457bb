# Either builds a cluster or looks up an existing one; every output has the
# same meaning in both cases, so callers never branch on create_cluster.

data "aws_eks_cluster" "existing" {
  count = var.create_cluster ? 0 : 1

  name = var.existing_cluster_name

  lifecycle {
    precondition {
      condition     = var.existing_cluster_name != null
      error_message = "existing_cluster_name is required when create_cluster is false."
    }
  }
}

data "aws_iam_openid_connect_provider" "existing" {
  count = var.create_cluster ? 0 : 1

  url = data.aws_eks_cluster.existing[0].identity[0].oidc[0].issuer
}

# Exactly one of each pair of lists below has an element.
locals {
  cluster_name    = one(concat(aws_eks_cluster.this[*].name, data.aws_eks_cluster.existing[*].name))
  endpoint        = one(concat(aws_eks_cluster.this[*].endpoint, data.aws_eks_cluster.existing[*].endpoint))
  ca_data         = one(concat(aws_eks_cluster.this[*].certificate_authority[0].data, data.aws_eks_cluster.existing[*].certificate_authority[0].data))
  oidc_issuer_url = one(concat(aws_eks_cluster.this[*].identity[0].oidc[0].issuer, data.aws_eks_cluster.existing[*].identity[0].oidc[0].issuer))
  oidc_provider_arn = one(concat(
    aws_iam_openid_connect_provider.this[*].arn,
    data.aws_iam_openid_connect_provider.existing[*].arn,
  ))

  # Managed nodes without launch-template security groups get the cluster
  # security group, and pods share their node's ENIs, so this is where pod
  # traffic comes from unless an existing cluster says otherwise.
  cluster_security_group_id = one(concat(
    aws_eks_cluster.this[*].vpc_config[0].cluster_security_group_id,
    data.aws_eks_cluster.existing[*].vpc_config[0].cluster_security_group_id,
  ))
  workload_security_group_id = coalesce(var.existing_workload_security_group_id, local.cluster_security_group_id)
}
