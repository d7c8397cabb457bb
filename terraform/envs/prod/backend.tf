terraform {
  # Partial configuration: bucket, region, dynamodb_table (and kms_key_id)
  # come from `terraform init -backend-config=backend.hcl`, so no account's
  # names live in the repository. See backend.hcl.example.
  backend "s3" {
    key     = "event-orchestrator/prod/terraform.tfstate"
    encrypt = true
  }
}
