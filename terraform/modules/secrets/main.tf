module "key" {
  source = "../kms"

  alias       = "${var.name}/secrets"
  description = "Application secrets of ${var.name}"
}

locals {
  # Each secret is a JSON object whose keys are the environment variables the
  # service reads, so the sync into Kubernetes can copy keys one to one.
  secrets = {
    command = {
      keys        = ["COMMAND_SOURCE_KEY_HASHES"]
      description = "Command service: comma-separated sha256:<hex> hashes of the source's API keys"
    }
    query = {
      keys        = ["QUERY_READER_KEY_HASHES", "QUERY_OPS_KEY_HASHES", "DATABASE_URL"]
      description = "Query service: reader and ops key hashes (name=sha256:<hex>) and the Postgres URL of its own role"
    }
    dispatcher = {
      keys        = ["DISPATCHER_TARGET_TOKEN"]
      description = "Dispatcher: bearer token for the target GraphQL API"
    }
  }
}

# Containers only: values are put by operators (see the README), so no secret
# ever reaches Terraform variables or state.
resource "aws_secretsmanager_secret" "this" {
  # checkov:skip=CKV2_AWS_57:Key hashes and the target token are issued by other parties and rotated by adding a value; rotation_lambda_arns enables it where a Lambda exists.
  for_each = local.secrets

  name                    = "${var.name}/${each.key}"
  description             = "${each.value.description}. JSON keys: ${join(", ", each.value.keys)}"
  kms_key_id              = module.key.key_arn
  recovery_window_in_days = var.recovery_window_days
}

# The hook for automatic rotation: hand in a rotation Lambda per secret.
# Key hashes rotate by adding the new hash next to the old one (the services
# accept several), so they are usually rotated by hand instead.
resource "aws_secretsmanager_secret_rotation" "this" {
  for_each = var.rotation_lambda_arns

  secret_id           = aws_secretsmanager_secret.this[each.key].id
  rotation_lambda_arn = each.value

  rotation_rules {
    automatically_after_days = var.rotation_days
  }
}
