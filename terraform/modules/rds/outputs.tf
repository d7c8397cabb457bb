output "instance_id" {
  description = "DB instance identifier (the CloudWatch DBInstanceIdentifier dimension)."
  value       = aws_db_instance.this.identifier
}

output "address" {
  description = "Hostname of the instance."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "Port of the instance."
  value       = aws_db_instance.this.port
}

output "db_name" {
  description = "Database name."
  value       = aws_db_instance.this.db_name
}

output "master_user_secret_arn" {
  description = "Secrets Manager secret RDS keeps the master credentials in."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}

output "allocated_storage" {
  description = "Allocated storage, GiB (for the free-storage alarm)."
  value       = aws_db_instance.this.allocated_storage
}

output "security_group_id" {
  description = "Security group of the instance."
  value       = aws_security_group.db.id
}

output "kms_key_arn" {
  description = "Key of the storage, Performance Insights and master secret."
  value       = module.key.key_arn
}
