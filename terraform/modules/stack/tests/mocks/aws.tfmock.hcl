# Values a mocked AWS provider returns, so that ARNs and other computed
# attributes validate. Shared by modules/stack/tests and envs/*/tests:
#   mock_provider "aws" { source = "<path to this directory>" }
# They prove wiring, for_each keys and preconditions, not AWS behaviour.

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
