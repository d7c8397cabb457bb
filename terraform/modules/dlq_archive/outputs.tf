output "bucket_name" {
  description = "Archive bucket name."
  value       = aws_s3_bucket.archive.id
}

output "bucket_arn" {
  description = "Archive bucket ARN."
  value       = aws_s3_bucket.archive.arn
}

output "prefix" {
  description = "OBJECT_STORE_PREFIX (objectStore.prefix in the Helm values)."
  value       = var.object_store_prefix
}

output "dlq_prefix" {
  description = "Key prefix of the archived dead letters (<prefix>/dlq/)."
  value       = local.dlq_prefix
}

output "exports_prefix" {
  description = "Key prefix of the query service's export files (<prefix>/exports/)."
  value       = local.exports_prefix
}

output "kms_key_arn" {
  description = "Key the bucket's objects (archive and exports) are encrypted with."
  value       = module.key.key_arn
}

output "access_log_bucket_name" {
  description = "Bucket receiving the archive's server access logs."
  value       = aws_s3_bucket.logs.id
}
