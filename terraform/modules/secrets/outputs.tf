output "secret_arns" {
  description = "Secret ARN per service (command, query, dispatcher)."
  value       = { for k, s in aws_secretsmanager_secret.this : k => s.arn }
}

output "secret_keys" {
  description = "JSON keys each secret must hold, per service."
  value       = { for k, v in local.secrets : k => v.keys }
}

output "kms_key_arn" {
  description = "Key the secrets are encrypted with."
  value       = module.key.key_arn
}
