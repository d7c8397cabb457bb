output "cluster_arn" {
  description = "MSK cluster ARN."
  value       = aws_msk_cluster.this.arn
}

output "cluster_name" {
  description = "MSK cluster name (the CloudWatch \"Cluster Name\" dimension)."
  value       = aws_msk_cluster.this.cluster_name
}

output "bootstrap_brokers_sasl_scram" {
  description = "KAFKA_BOOTSTRAP_SERVERS for SASL/SCRAM over TLS (port 9096)."
  value       = aws_msk_cluster.this.bootstrap_brokers_sasl_scram
}

output "bootstrap_brokers_sasl_iam" {
  description = "KAFKA_BOOTSTRAP_SERVERS for IAM auth over TLS (port 9098)."
  value       = aws_msk_cluster.this.bootstrap_brokers_sasl_iam
}

output "scram_secret_arns" {
  description = "SCRAM secret ARN per user."
  value       = { for user, s in aws_secretsmanager_secret.scram : user => s.arn }
}

output "kms_key_arn" {
  description = "Key of the data at rest, broker logs and SCRAM secrets."
  value       = module.key.key_arn
}

output "security_group_id" {
  description = "Security group of the brokers."
  value       = aws_security_group.brokers.id
}
