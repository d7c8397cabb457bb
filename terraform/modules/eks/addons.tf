# The VPC CNI and EBS CSI driver get their own IRSA roles instead of
# borrowing the node role, which every pod on the node could otherwise reach.
# The command service's spool PVCs need the EBS CSI driver.

locals {
  oidc_issuer_host = replace(local.oidc_issuer_url, "https://", "")

  addons = {
    # Before nodes: a node only turns Ready once the CNI can assign pod IPs,
    # and the node role deliberately lacks the CNI's EC2 permissions.
    vpc-cni            = { before_nodes = true, service_account = "aws-node", policy = "AmazonEKS_CNI_Policy" }
    kube-proxy         = { before_nodes = true, service_account = null, policy = null }
    coredns            = { before_nodes = false, service_account = null, policy = null }
    aws-ebs-csi-driver = { before_nodes = false, service_account = "ebs-csi-controller-sa", policy = "service-role/AmazonEBSCSIDriverPolicy" }
  }
  addons_with_role = { for k, v in local.addons : k => v if var.create_cluster && v.policy != null }
}

data "aws_iam_policy_document" "addon_assume" {
  for_each = local.addons_with_role

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.this[0].arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer_host}:sub"
      values   = ["system:serviceaccount:kube-system:${each.value.service_account}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer_host}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "addon" {
  for_each = local.addons_with_role

  name_prefix        = "${var.name}-${each.key}-"
  assume_role_policy = data.aws_iam_policy_document.addon_assume[each.key].json
}

resource "aws_iam_role_policy_attachment" "addon" {
  for_each = local.addons_with_role

  role       = aws_iam_role.addon[each.key].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.value.policy}"
}

resource "aws_eks_addon" "before_nodes" {
  for_each = { for k, v in local.addons : k => v if var.create_cluster && v.before_nodes }

  cluster_name                = aws_eks_cluster.this[0].name
  addon_name                  = each.key
  service_account_role_arn    = try(aws_iam_role.addon[each.key].arn, null)
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "PRESERVE"

  depends_on = [aws_iam_role_policy_attachment.addon]
}

resource "aws_eks_addon" "after_nodes" {
  for_each = { for k, v in local.addons : k => v if var.create_cluster && !v.before_nodes }

  cluster_name                = aws_eks_cluster.this[0].name
  addon_name                  = each.key
  service_account_role_arn    = try(aws_iam_role.addon[each.key].arn, null)
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "PRESERVE"

  depends_on = [aws_eks_node_group.default, aws_iam_role_policy_attachment.addon]
}
