output "role_arns" {
  description = "IRSA role ARN per workload, for the eks.amazonaws.com/role-arn service account annotation."
  value       = { for k, r in aws_iam_role.this : k => r.arn }
}
