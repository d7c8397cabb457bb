# Forwarded from the stack; descriptions are in ../../modules/stack/outputs.tf.

output "kafka_bootstrap_servers" {
  description = "KAFKA_BOOTSTRAP_SERVERS."
  value       = module.stack.kafka_bootstrap_servers
}

output "kafka_client_settings" {
  description = "Non-secret Kafka settings for the Helm values."
  value       = module.stack.kafka_client_settings
}

output "msk_cluster_arn" {
  description = "MSK cluster ARN."
  value       = module.stack.msk_cluster_arn
}

output "kafka_scram_secret_arns" {
  description = "AmazonMSK_* secret per SCRAM user."
  value       = module.stack.kafka_scram_secret_arns
}

output "app_secret_arns" {
  description = "Application secret per service."
  value       = module.stack.app_secret_arns
}

output "app_secret_keys" {
  description = "JSON keys each application secret must hold."
  value       = module.stack.app_secret_keys
}

output "service_accounts" {
  description = "Per workload (command, dispatcher, query, dlq_archiver): service account and its IRSA role ARN."
  value       = module.stack.service_accounts
}

output "postgres" {
  description = "Host, port, database and master secret of Postgres."
  value       = module.stack.postgres
}

output "eks_cluster_name" {
  description = "Cluster to deploy the Helm chart to."
  value       = module.stack.eks_cluster_name
}

output "eks_cluster_endpoint" {
  description = "API server endpoint."
  value       = module.stack.eks_cluster_endpoint
}

output "dlq_archive" {
  description = "Bucket, prefix and region of the object store (Helm objectStore): dead letters and query exports."
  value       = module.stack.dlq_archive
}

output "alarm_topic_arn" {
  description = "SNS topic of every alarm."
  value       = module.stack.alarm_topic_arn
}
