data "aws_caller_identity" "current" {}

locals {
  # Bucket names are global; the account ID keeps them unique per account
  # without hard-coding it anywhere.
  bucket_name     = "${var.name}-dlq-archive-${data.aws_caller_identity.current.account_id}"
  log_bucket_name = "${var.name}-s3-access-logs-${data.aws_caller_identity.current.account_id}"

  # What the services write, under OBJECT_STORE_PREFIX: the archiver's dead
  # letters (and their manifest) and the query service's export files.
  key_prefix     = var.object_store_prefix == "" ? "" : "${var.object_store_prefix}/"
  dlq_prefix     = "${local.key_prefix}dlq/"
  exports_prefix = "${local.key_prefix}exports/"
}

module "key" {
  source = "../kms"

  alias       = "${var.name}/dlq-archive"
  description = "DLQ archive of ${var.name}"
}

resource "aws_s3_bucket" "archive" {
  # checkov:skip=CKV2_AWS_62:Nothing consumes archive events; records are written once and read only during incident review, exports are fetched by presigned link.
  bucket = local.bucket_name

  lifecycle {
    # Object lock is switched on by the lock configuration below (allowed on
    # a versioned bucket); the bucket's own flag would force a replacement.
    ignore_changes = [object_lock_enabled]
  }
}

resource "aws_s3_bucket_ownership_controls" "archive" {
  bucket = aws_s3_bucket.archive.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "archive" {
  bucket                  = aws_s3_bucket.archive.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "archive" {
  bucket = aws_s3_bucket.archive.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "archive" {
  bucket = aws_s3_bucket.archive.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = module.key.key_arn
    }
    bucket_key_enabled = true # one KMS call per bucket key, not per archived record
  }
}

resource "aws_s3_bucket_logging" "archive" {
  bucket        = aws_s3_bucket.archive.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "${local.bucket_name}/"
}

resource "aws_s3_bucket_lifecycle_configuration" "archive" {
  bucket = aws_s3_bucket.archive.id

  # Dead letters only. Instant Retrieval, not Flexible: `orchctl dlq` reads
  # the archive exactly when it matters, for letters older than the topic's
  # retention (30 days), and a GET must work without a restore first.
  rule {
    id     = "archive-then-expire"
    status = "Enabled"

    filter {
      prefix = local.dlq_prefix
    }

    transition {
      days          = var.glacier_after_days
      storage_class = "GLACIER_IR"
    }

    expiration {
      days = var.expire_after_days
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_expire_after_days
    }
  }

  # Export files are handed out for QUERY_EXPORT_URL_EXPIRY_SECS (7 days at
  # most), then only take space; never Glacier, or a link could not be followed.
  rule {
    id     = "expire-exports"
    status = "Enabled"

    filter {
      prefix = local.exports_prefix
    }

    expiration {
      days = var.exports_expire_after_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }

  # Bucket-wide, so an export whose upload was neither completed nor aborted
  # (a killed worker) or any upload outside the prefixes leaves no paid-for parts.
  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.archive]
}

resource "aws_s3_bucket_object_lock_configuration" "archive" {
  count = var.object_lock != null ? 1 : 0

  bucket = aws_s3_bucket.archive.id

  rule {
    default_retention {
      mode = var.object_lock.mode
      days = var.object_lock.days
    }
  }

  depends_on = [aws_s3_bucket_versioning.archive]
}

data "aws_iam_policy_document" "archive" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.archive.arn,
      "${aws_s3_bucket.archive.arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

}

resource "aws_s3_bucket_policy" "archive" {
  bucket = aws_s3_bucket.archive.id
  policy = data.aws_iam_policy_document.archive.json

  depends_on = [aws_s3_bucket_public_access_block.archive]
}
