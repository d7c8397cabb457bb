output "cluster_name" {
  description = "EKS cluster name."
  value       = local.cluster_name
}

output "cluster_endpoint" {
  description = "API server endpoint."
  value       = local.endpoint
}

output "cluster_certificate_authority_data" {
  description = "Base64 CA bundle of the API server."
  value       = local.ca_data
}

output "oidc_provider_arn" {
  description = "IAM OIDC provider that IRSA roles trust."
  value       = local.oidc_provider_arn
}

output "oidc_issuer_host" {
  description = "OIDC issuer without https://, the prefix of the :sub and :aud condition keys."
  value       = replace(local.oidc_issuer_url, "https://", "")
}

output "workload_security_group_id" {
  description = "Security group the pods' traffic comes from; MSK and RDS admit it."
  value       = local.workload_security_group_id
}
