# Offline check of the whole stack with a mocked AWS provider: no account or
# credentials needed (Terraform >= 1.7: `terraform init -backend=false &&
# terraform test` in modules/stack). The runs use dev's sizes, then prod's,
# as envs/dev and envs/prod pass them; the mocks are in tests/mocks.

mock_provider "aws" {
  source = "./tests/mocks"
}

# As envs/dev passes them.
variables {
  environment        = "dev"
  region             = "eu-west-1"
  availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]

  vpc_cidr                   = "10.40.0.0/16"
  single_nat_gateway         = true
  eks_node_instance_types    = ["m7i.large"]
  eks_node_min_size          = 3
  eks_node_max_size          = 4
  msk_broker_instance_type   = "kafka.m7g.large"
  msk_broker_volume_size     = 50
  msk_broker_volume_size_max = 200
  rds_instance_class         = "db.t4g.medium"
  rds_allocated_storage      = 20
  rds_max_allocated_storage  = 100
  rds_connections_alarm      = 300

  log_retention_days            = 30
  rds_backup_retention_days     = 7
  rds_deletion_protection       = false
  rds_skip_final_snapshot       = true
  secret_recovery_window_days   = 7
  dlq_archive_expire_after_days = 90
}

run "plans" {
  command = plan

  assert {
    condition     = length(module.msk.scram_secret_arns) == 4
    error_message = "Every workload gets its own SCRAM secret."
  }
}

run "creates_everything" {
  assert {
    condition     = toset(keys(output.service_accounts)) == toset(["command", "dispatcher", "query", "dlq_archiver"])
    error_message = "One IRSA role per workload."
  }
  assert {
    condition     = output.kafka_client_settings.KAFKA_SASL_MECHANISM == "SCRAM-SHA-512"
    error_message = "SCRAM is the default mechanism."
  }
}

# As envs/prod passes them.
run "prod_sizes" {
  variables {
    environment                   = "prod"
    vpc_cidr                      = "10.50.0.0/16"
    single_nat_gateway            = false
    eks_node_instance_types       = ["m7i.xlarge"]
    eks_node_max_size             = 9
    msk_broker_instance_type      = "kafka.m7g.xlarge"
    msk_broker_volume_size        = 500
    msk_broker_volume_size_max    = 4000
    rds_instance_class            = "db.m7g.large"
    rds_allocated_storage         = 100
    rds_max_allocated_storage     = 1000
    rds_connections_alarm         = 600
    log_retention_days            = 365
    rds_backup_retention_days     = 14
    rds_deletion_protection       = true
    rds_skip_final_snapshot       = false
    secret_recovery_window_days   = 30
    dlq_archive_expire_after_days = 730
  }

  assert {
    condition     = startswith(output.app_secret_arns["command"], "arn:aws:secretsmanager:")
    error_message = "Prod's sizes wire up like dev's."
  }
}

run "iam_auth_and_associated_scram" {
  variables {
    msk_sasl_iam_enabled    = true
    msk_scram_secrets_ready = true
  }
}

run "attaches_to_an_existing_cluster" {
  variables {
    existing_cluster_name = "platform"
    existing_network = {
      vpc_id             = "vpc-0123456789abcdef0"
      private_subnet_ids = ["subnet-a", "subnet-b", "subnet-c"]
    }
  }

  assert {
    condition     = output.eks_cluster_name != null && length(module.network) == 0
    error_message = "Attaching creates neither a cluster nor a VPC."
  }
}
