output "kafka_bootstrap_servers" {
  description = "KAFKA_BOOTSTRAP_SERVERS (SCRAM listener when enabled, else IAM)."
  value       = var.msk_sasl_scram_enabled ? module.msk.bootstrap_brokers_sasl_scram : module.msk.bootstrap_brokers_sasl_iam
}

output "kafka_client_settings" {
  description = "Non-secret Kafka settings for the Helm values."
  value = {
    KAFKA_SECURITY_PROTOCOL        = "sasl_ssl"
    KAFKA_SASL_MECHANISM           = var.msk_sasl_scram_enabled ? "SCRAM-SHA-512" : "AWS_MSK_IAM"
    KAFKA_TOPIC_PREFIX             = var.kafka_topic_prefix
    KAFKA_TOPIC_PARTITIONS         = tostring(var.kafka_topic_partitions)
    KAFKA_TOPIC_REPLICATION_FACTOR = "3"
    AWS_REGION                     = var.region
  }
}

output "msk_cluster_arn" {
  description = "MSK cluster ARN."
  value       = module.msk.cluster_arn
}

output "kafka_scram_secret_arns" {
  description = "AmazonMSK_* secret per SCRAM user; JSON keys username, password (map to KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD)."
  value       = module.msk.scram_secret_arns
}

output "app_secret_arns" {
  description = "Application secret per service; JSON keys are the env var names."
  value       = module.secrets.secret_arns
}

output "app_secret_keys" {
  description = "JSON keys each application secret must hold."
  value       = module.secrets.secret_keys
}

output "service_accounts" {
  description = "Per workload: the service account the Helm chart must create and its eks.amazonaws.com/role-arn annotation."
  value = {
    for k, arn in module.irsa.role_arns : k => {
      namespace = var.kubernetes_namespace
      name      = var.service_accounts[k]
      role_arn  = arn
    }
  }
}

output "postgres" {
  description = "Where the query service's DATABASE_URL points, and the master secret used to create its role."
  value = {
    host                   = module.rds.address
    port                   = module.rds.port
    database               = module.rds.db_name
    master_user_secret_arn = module.rds.master_user_secret_arn
  }
}

output "eks_cluster_name" {
  description = "Cluster to deploy the Helm chart to."
  value       = module.eks.cluster_name
}

output "eks_cluster_endpoint" {
  description = "API server endpoint."
  value       = module.eks.cluster_endpoint
}

output "dlq_archive" {
  description = "The object store for the Helm values' objectStore (bucket, prefix, region): the archiver writes under dlq_prefix, the query service's exports under exports_prefix."
  value = {
    bucket         = module.dlq_archive.bucket_name
    prefix         = module.dlq_archive.prefix
    region         = var.region
    dlq_prefix     = module.dlq_archive.dlq_prefix
    exports_prefix = module.dlq_archive.exports_prefix
    kms_key_arn    = module.dlq_archive.kms_key_arn
  }
}

output "alarm_topic_arn" {
  description = "SNS topic of every alarm."
  value       = module.alarms.sns_topic_arn
}
