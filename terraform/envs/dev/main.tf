# dev: the stack (../../modules/stack) at small sizes, built to be torn down.
# What an operator supplies per account (region, AZs, access, subscribers) is
# in variables.tf and terraform.tfvars; the sizes are dev's choice, here.

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = "event-orchestrator"
      Environment = "dev"
      ManagedBy   = "terraform"
    }
  }
}

module "stack" {
  source = "../../modules/stack"

  environment = "dev"

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

  # Network: one NAT gateway shared by the three AZs.
  vpc_cidr           = "10.40.0.0/16"
  single_nat_gateway = true

  # Sizes.
  eks_node_instance_types    = ["m7i.large"]
  eks_node_min_size          = 3
  eks_node_max_size          = 4
  msk_broker_instance_type   = "kafka.m7g.large"
  msk_broker_volume_size     = 50
  msk_broker_volume_size_max = 200
  kafka_topic_partitions     = 6 # = kafka.topicPartitions of the Helm values
  rds_instance_class         = "db.t4g.medium"
  rds_allocated_storage      = 20
  rds_max_allocated_storage  = 100
  rds_connections_alarm      = 300

  # Retention and protection: short, and deletable (CKV_AWS_293 and
  # CKV_AWS_338 are waived for this in .checkov.yaml).
  log_retention_days            = 30
  rds_backup_retention_days     = 7
  rds_deletion_protection       = false
  rds_skip_final_snapshot       = true
  secret_recovery_window_days   = 7
  dlq_archive_expire_after_days = 90
}
