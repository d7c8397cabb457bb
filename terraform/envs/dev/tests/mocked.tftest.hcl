# Offline check of the whole stack with a mocked AWS provider: no account or
# credentials needed (Terraform >= 1.7: `terraform init -backend=false &&
# terraform test`). Mocks only stand in for values AWS would return, so that
# ARNs validate; they prove wiring, for_each keys and preconditions, not AWS
# behaviour.

mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}]}" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111111111111" }
  }
  mock_data "aws_availability_zones" {
    defaults = { names = ["eu-west-1a", "eu-west-1b", "eu-west-1c"] }
  }
  mock_data "aws_eks_cluster" {
    defaults = {
      identity              = [{ oidc = [{ issuer = "https://oidc.eks.eu-west-1.amazonaws.com/id/EXISTING" }] }]
      certificate_authority = [{ data = "Y2E=" }]
      vpc_config            = [{ cluster_security_group_id = "sg-0123456789abcdef0" }]
    }
  }
  mock_data "aws_iam_openid_connect_provider" {
    defaults = { arn = "arn:aws:iam::111111111111:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXISTING" }
  }

  mock_resource "aws_launch_template" {
    defaults = { id = "lt-0123456789abcdef0" }
  }
  mock_resource "aws_db_instance" {
    defaults = { master_user_secret = [{ secret_arn = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:rds-x", kms_key_id = "k", secret_status = "active" }] }
  }
  mock_resource "aws_eks_cluster" {
    defaults = {
      identity              = [{ oidc = [{ issuer = "https://oidc.eks.eu-west-1.amazonaws.com/id/NEW" }] }]
      certificate_authority = [{ data = "Y2E=" }]
    }
  }
  mock_resource "aws_msk_cluster" {
    defaults = { arn = "arn:aws:kafka:eu-west-1:111111111111:cluster/orch/abcd-1234-5" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::111111111111:role/x" }
  }
  mock_resource "aws_msk_configuration" {
    defaults = { arn = "arn:aws:kafka:eu-west-1:111111111111:configuration/x/1" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:111111111111:key/1234" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:111111111111:log-group:x" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = { arn = "arn:aws:s3:::x" }
  }
  mock_resource "aws_secretsmanager_secret" {
    defaults = { arn = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:x-AbCdEf" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:eu-west-1:111111111111:x" }
  }
  mock_resource "aws_iam_openid_connect_provider" {
    defaults = { arn = "arn:aws:iam::111111111111:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/NEW" }
  }
}

variables {
  region             = "eu-west-1"
  availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
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
