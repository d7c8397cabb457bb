# The whole deployment of one environment: every module below, wired once.
# envs/dev and envs/prod configure the provider and backend and call this
# module with their sizes and safety settings; nothing here is per environment.
# No provider block: the caller's aws provider (region, default tags) applies.

locals {
  name = "${var.project}-${var.environment}"

  vpc_id             = var.existing_network == null ? module.network[0].vpc_id : var.existing_network.vpc_id
  private_subnet_ids = var.existing_network == null ? module.network[0].private_subnet_ids : var.existing_network.private_subnet_ids

  topics = { for t in ["events.raw", "events.status", "events.dlq"] : t => "${var.kafka_topic_prefix}${t}" }

  # Each workload reads its own application secret and its own SCRAM user.
  scram = module.msk.scram_secret_arns
  workload_secrets = {
    command      = concat([module.secrets.secret_arns["command"]], [for u, arn in local.scram : arn if u == "command"])
    dispatcher   = concat([module.secrets.secret_arns["dispatcher"]], [for u, arn in local.scram : arn if u == "dispatcher"])
    query        = concat([module.secrets.secret_arns["query"]], [for u, arn in local.scram : arn if u == "query"])
    dlq_archiver = [for u, arn in local.scram : arn if u == "dlq-archiver"]
  }
}

module "network" {
  count  = var.existing_network == null ? 1 : 0
  source = "../network"

  name                    = local.name
  azs                     = var.availability_zones
  cidr                    = var.vpc_cidr
  single_nat_gateway      = var.single_nat_gateway
  flow_log_retention_days = var.log_retention_days
}

module "eks" {
  source = "../eks"

  name                                = local.name
  create_cluster                      = var.existing_cluster_name == null
  existing_cluster_name               = var.existing_cluster_name
  existing_workload_security_group_id = var.existing_workload_security_group_id
  kubernetes_version                  = var.kubernetes_version
  subnet_ids                          = local.private_subnet_ids
  endpoint_public_access              = length(var.eks_public_access_cidrs) > 0
  public_access_cidrs                 = var.eks_public_access_cidrs
  cluster_admin_arns                  = var.eks_cluster_admin_arns
  node_instance_types                 = var.eks_node_instance_types
  node_min_size                       = var.eks_node_min_size
  node_desired_size                   = var.eks_node_min_size
  node_max_size                       = var.eks_node_max_size
  log_retention_days                  = var.log_retention_days
}

module "msk" {
  source = "../msk"

  name                      = local.name
  vpc_id                    = local.vpc_id
  subnet_ids                = local.private_subnet_ids
  client_security_group_ids = { eks = module.eks.workload_security_group_id }
  kafka_version             = var.kafka_version
  broker_count              = 3
  broker_instance_type      = var.msk_broker_instance_type
  broker_volume_size        = var.msk_broker_volume_size
  broker_volume_size_max    = var.msk_broker_volume_size_max
  default_partitions        = var.kafka_topic_partitions
  sasl_scram_enabled        = var.msk_sasl_scram_enabled
  sasl_iam_enabled          = var.msk_sasl_iam_enabled
  scram_users               = ["command", "dispatcher", "query", "dlq-archiver"]
  scram_secrets_ready       = var.msk_scram_secrets_ready
  log_retention_days        = var.log_retention_days
}

module "rds" {
  source = "../rds"

  name                      = local.name
  vpc_id                    = local.vpc_id
  subnet_ids                = local.private_subnet_ids
  client_security_group_ids = { eks = module.eks.workload_security_group_id }
  instance_class            = var.rds_instance_class
  allocated_storage         = var.rds_allocated_storage
  max_allocated_storage     = var.rds_max_allocated_storage
  backup_retention_days     = var.rds_backup_retention_days
  deletion_protection       = var.rds_deletion_protection
  skip_final_snapshot       = var.rds_skip_final_snapshot
  log_retention_days        = var.log_retention_days
}

module "secrets" {
  source = "../secrets"

  name                 = local.name
  recovery_window_days = var.secret_recovery_window_days
}

module "dlq_archive" {
  source = "../dlq_archive"

  name                      = local.name
  object_store_prefix       = var.object_store_prefix
  glacier_after_days        = var.dlq_archive_glacier_after_days
  expire_after_days         = var.dlq_archive_expire_after_days
  exports_expire_after_days = var.exports_expire_after_days
  object_lock               = var.dlq_archive_object_lock
}

module "irsa" {
  source = "../irsa"

  name                = local.name
  oidc_provider_arn   = module.eks.oidc_provider_arn
  oidc_issuer_host    = module.eks.oidc_issuer_host
  namespace           = var.kubernetes_namespace
  service_accounts    = var.service_accounts
  msk_cluster_arn     = module.msk.cluster_arn
  kafka_iam_auth      = var.msk_sasl_iam_enabled
  allow_create_topics = var.kafka_allow_create_topics
  topic_prefix        = var.kafka_topic_prefix
  secret_arns         = local.workload_secrets
  secret_kms_key_arns = [module.secrets.kms_key_arn, module.msk.kms_key_arn]

  object_store = {
    bucket_arn     = module.dlq_archive.bucket_arn
    prefix         = module.dlq_archive.prefix
    dlq_prefix     = module.dlq_archive.dlq_prefix
    exports_prefix = module.dlq_archive.exports_prefix
    kms_key_arn    = module.dlq_archive.kms_key_arn
  }
}

module "alarms" {
  source = "../alarms"

  name             = local.name
  subscriptions    = var.alarm_subscriptions
  msk_cluster_name = module.msk.cluster_name
  msk_broker_count = 3
  consumer_groups = [
    { group = "orch-dispatcher", topic = local.topics["events.raw"], sum_threshold = var.dispatcher_lag_threshold, max_threshold = ceil(var.dispatcher_lag_threshold / 4) },
    { group = "orch-projector", topic = local.topics["events.raw"], sum_threshold = var.projector_lag_threshold, max_threshold = ceil(var.projector_lag_threshold / 4) },
    { group = "orch-projector", topic = local.topics["events.status"], sum_threshold = var.projector_lag_threshold, max_threshold = ceil(var.projector_lag_threshold / 4) },
  ]
  rds_instance_id     = module.rds.instance_id
  rds_max_connections = var.rds_connections_alarm
  alb_arn_suffixes    = var.alb_arn_suffixes
}
