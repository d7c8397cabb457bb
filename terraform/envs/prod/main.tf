# prod: the stack (../../modules/stack) at production sizes. What an operator
# supplies per account (region, AZs, access, subscribers) is in variables.tf
# and terraform.tfvars; the sizes and the safety settings are prod's, here,
# as literals: no variable or tfvars file can turn the safety settings off.

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = "event-orchestrator"
      Environment = "prod"
      ManagedBy   = "terraform"
    }
  }
}

module "stack" {
  source = "../../modules/stack"

  environment = "prod"

  # Operator inputs.
  region                              = var.region
  availability_zones                  = var.availability_zones
  existing_network                    = var.existing_network
  existing_cluster_name               = var.existing_cluster_name
  existing_workload_security_group_id = var.existing_workload_security_group_id
  eks_public_access_cidrs             = var.eks_public_access_cidrs
  eks_cluster_admin_arns              = var.eks_cluster_admin_arns
  msk_scram_secrets_ready             = var.msk_scram_secrets_ready
  alarm_subscriptions                 = var.alarm_subscriptions
  alb_arn_suffixes                    = var.alb_arn_suffixes

  # Network: a NAT gateway per AZ, so losing one AZ keeps the others' egress.
  vpc_cidr           = "10.50.0.0/16"
  single_nat_gateway = false

  # Sizes.
  eks_node_instance_types    = ["m7i.xlarge"]
  eks_node_min_size          = 3
  eks_node_max_size          = 9
  msk_broker_instance_type   = "kafka.m7g.xlarge"
  msk_broker_volume_size     = 500
  msk_broker_volume_size_max = 4000
  kafka_topic_partitions     = 6 # = kafka.topicPartitions in values-prod.yaml
  rds_instance_class         = "db.m7g.large"
  rds_allocated_storage      = 100
  rds_max_allocated_storage  = 1000
  rds_connections_alarm      = 600

  # Safety settings: keep them. Logs a year (CKV_AWS_338), backups at least
  # 14 days, the database undeletable and snapshotted if ever deleted
  # (CKV_AWS_293), deleted secrets restorable for 30 days, DLQ archives two
  # years.
  log_retention_days            = 365
  rds_backup_retention_days     = 14
  rds_deletion_protection       = true
  rds_skip_final_snapshot       = false
  secret_recovery_window_days   = 30
  dlq_archive_expire_after_days = 730
}
