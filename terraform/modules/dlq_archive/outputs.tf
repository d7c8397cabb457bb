output "bucket_name" {
  description = "Archive bucket name."
  value       = aws_s3_bucket.archive.id
}

output "bucket_arn" {
  description = "Archive bucket ARN."
  value       = aws_s3_bucket.archive.arn
}

output "prefix" {
  description = "Key prefix archived records go under."
  value       = var.prefix
}

output "kms_key_arn" {
  description = "Key archived objects are encrypted with."
  value       = module.key.key_arn
}

output "access_log_bucket_name" {
  description = "Bucket receiving the archive's server access logs."
  value       = aws_s3_bucket.logs.id
}
