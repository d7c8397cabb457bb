# This root with a mocked AWS provider (Terraform >= 1.7: `terraform init
# -backend=false && terraform test`): prod's literals pass the stack's
# validations and apply. The stack's own runs are in modules/stack/tests.

mock_provider "aws" {
  source = "../../modules/stack/tests/mocks"
}

variables {
  region             = "eu-west-1"
  availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
}

run "applies" {
  assert {
    condition     = length(output.kafka_scram_secret_arns) == 4 && length(output.service_accounts) == 4
    error_message = "prod wires a SCRAM secret and an IRSA role per workload."
  }
  assert {
    condition     = output.service_accounts["dlq_archiver"].name == "dlq-archiver" && output.dlq_archive.prefix == "orchestrator"
    error_message = "The archiver's role trusts the service account values-prod.yaml names (dlq-archiver), under the prefix objectStore.prefix names."
  }
}
