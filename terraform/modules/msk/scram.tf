# One SCRAM user per service, so a leaked credential is one service's and
# per-user Kafka ACLs can be added later without handing out new secrets.
# MSK only reads secrets named AmazonMSK_* and encrypted with a customer key.
#
# Terraform creates the containers only; the values never pass through state.
# Operators put {"username":"...","password":"..."} into each one, then set
# scram_secrets_ready = true so the association (which MSK validates by
# reading the secret) runs on the next apply.
resource "aws_secretsmanager_secret" "scram" {
  # checkov:skip=CKV2_AWS_57:MSK has no managed SCRAM rotation; operators rotate by putting a new version and restarting the service.
  for_each = var.sasl_scram_enabled ? toset(var.scram_users) : toset([])

  name                    = "AmazonMSK_${var.name}_${each.key}"
  description             = "SCRAM credentials of ${each.key} on MSK ${var.name}: JSON {\"username\",\"password\"}"
  kms_key_id              = module.key.key_arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_msk_scram_secret_association" "this" {
  count = var.sasl_scram_enabled && var.scram_secrets_ready ? 1 : 0

  cluster_arn     = aws_msk_cluster.this.arn
  secret_arn_list = [for s in aws_secretsmanager_secret.scram : s.arn]
}
