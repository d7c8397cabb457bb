locals {
  # What each workload touches in Kafka, straight from the topic table in
  # docs/architecture.md. Producers need WriteDataIdempotently because the
  # command service and the dispatcher run idempotent producers.
  kafka = {
    command = {
      write           = ["events.raw"]
      read            = []
      groups          = []
      describe_topics = []
      describe_groups = []
    }
    # The dispatcher also reads the delivery controls (every replica, the
    # whole compacted topic, outside any group). ops write them with orchctl
    # under their own credentials, or through the console under the query
    # service's role.
    dispatcher = {
      write           = ["events.status", "events.dlq"]
      read            = ["events.raw", "events.control"]
      groups          = [var.dispatcher_group_id]
      describe_topics = []
      describe_groups = []
    }
    # The console (served by the query service) writes redriven events to
    # events.raw and delivery controls to events.control, and draws the
    # dispatchers' lag and the DLQ's growth from offsets only: it describes
    # the dispatcher group and events.dlq but reads no record of either. The
    # overdue sweeper reads events.control (paused is not overdue) and
    # publishes overdue events to events.raw.
    query = {
      write           = ["events.raw", "events.control"]
      read            = ["events.raw", "events.status", "events.control"]
      groups          = [var.projector_group_id]
      describe_topics = ["events.dlq"]
      describe_groups = [var.dispatcher_group_id]
    }
    dlq_archiver = {
      write           = []
      read            = ["events.dlq"]
      groups          = [var.dlq_archiver_group_id]
      describe_topics = []
      describe_groups = []
    }
  }

  roles = { for k, v in local.kafka : k => v if k != "dlq_archiver" || var.object_store != null }

  # The object store, for the archiver (dead letters) and the query service
  # (export files); each touches only its own prefix.
  object_store = var.object_store == null ? [] : [var.object_store]

  # arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid> -> topic/... and group/...
  kafka_topic_base = "${replace(var.msk_cluster_arn, ":cluster/", ":topic/")}/${var.topic_prefix}"
  kafka_group_base = "${replace(var.msk_cluster_arn, ":cluster/", ":group/")}/"
  all_topics       = ["events.raw", "events.status", "events.dlq", "events.control"]
}

data "aws_iam_policy_document" "assume" {
  for_each = local.roles

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_issuer_host}:sub"
      values   = ["system:serviceaccount:${var.namespace}:${var.service_accounts[each.key]}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_issuer_host}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  for_each = local.roles

  name                 = "${var.name}-${replace(each.key, "_", "-")}"
  description          = "IRSA role of ${var.namespace}/${var.service_accounts[each.key]}"
  assume_role_policy   = data.aws_iam_policy_document.assume[each.key].json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "this" {
  for_each = local.roles

  dynamic "statement" {
    for_each = var.kafka_iam_auth ? [1] : []
    content {
      sid = "KafkaCluster"
      actions = concat(
        ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"],
        length(each.value.write) > 0 ? ["kafka-cluster:WriteDataIdempotently"] : [],
      )
      resources = [var.msk_cluster_arn]
    }
  }

  dynamic "statement" {
    for_each = var.kafka_iam_auth && length(each.value.write) > 0 ? [1] : []
    content {
      sid       = "KafkaProduce"
      actions   = ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"]
      resources = [for t in each.value.write : "${local.kafka_topic_base}${t}"]
    }
  }

  dynamic "statement" {
    for_each = var.kafka_iam_auth && length(each.value.read) > 0 ? [1] : []
    content {
      sid       = "KafkaConsume"
      actions   = ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"]
      resources = [for t in each.value.read : "${local.kafka_topic_base}${t}"]
    }
  }

  dynamic "statement" {
    for_each = var.kafka_iam_auth && length(each.value.groups) > 0 ? [1] : []
    content {
      sid       = "KafkaConsumerGroup"
      actions   = ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"]
      resources = [for g in each.value.groups : "${local.kafka_group_base}${g}"]
    }
  }

  dynamic "statement" {
    for_each = var.kafka_iam_auth && length(each.value.describe_topics) > 0 ? [1] : []
    content {
      sid       = "KafkaDescribeTopics"
      actions   = ["kafka-cluster:DescribeTopic"]
      resources = [for t in each.value.describe_topics : "${local.kafka_topic_base}${t}"]
    }
  }

  dynamic "statement" {
    for_each = var.kafka_iam_auth && length(each.value.describe_groups) > 0 ? [1] : []
    content {
      sid       = "KafkaDescribeGroups"
      actions   = ["kafka-cluster:DescribeGroup"]
      resources = [for g in each.value.describe_groups : "${local.kafka_group_base}${g}"]
    }
  }

  # Every service (the archiver too) asks for all four topics at start and
  # stops on a refusal, even for topics that exist (authorization is checked
  # before existence).
  dynamic "statement" {
    for_each = var.kafka_iam_auth && var.allow_create_topics ? [1] : []
    content {
      sid       = "KafkaCreateTopics"
      actions   = ["kafka-cluster:CreateTopic", "kafka-cluster:DescribeTopic"]
      resources = [for t in local.all_topics : "${local.kafka_topic_base}${t}"]
    }
  }

  dynamic "statement" {
    for_each = length(lookup(var.secret_arns, each.key, [])) > 0 ? [1] : []
    content {
      sid       = "OwnSecrets"
      actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
      resources = var.secret_arns[each.key]
    }
  }

  dynamic "statement" {
    for_each = length(lookup(var.secret_arns, each.key, [])) > 0 ? [1] : []
    content {
      sid       = "DecryptOwnSecrets"
      actions   = ["kms:Decrypt"]
      resources = var.secret_kms_key_arns
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${data.aws_region.current.name}.amazonaws.com"]
      }
    }
  }

  # The archiver writes each object with one PUT, and after a crash writes
  # the same key again (a new version; object lock, if on, keeps the old).
  dynamic "statement" {
    for_each = each.key == "dlq_archiver" ? local.object_store : []
    content {
      sid       = "ArchiveDeadLetters"
      actions   = ["s3:PutObject"]
      resources = ["${statement.value.bucket_arn}/${statement.value.dlq_prefix}*"]
    }
  }

  # Its /ready lists <prefix>/ every 5 s; nothing else of the bucket. (With
  # an empty prefix the listing names none, so the condition cannot either.)
  dynamic "statement" {
    for_each = each.key == "dlq_archiver" ? local.object_store : []
    content {
      sid       = "ProbeArchive"
      actions   = ["s3:ListBucket"]
      resources = [statement.value.bucket_arn]
      condition {
        test     = statement.value.prefix == "" ? "StringLikeIfExists" : "StringLike"
        variable = "s3:prefix"
        values   = statement.value.prefix == "" ? ["*"] : ["${statement.value.prefix}/", "${statement.value.prefix}/*"]
      }
    }
  }

  # A single-PUT SSE-KMS upload needs only a data key.
  dynamic "statement" {
    for_each = each.key == "dlq_archiver" ? local.object_store : []
    content {
      sid       = "EncryptArchive"
      actions   = ["kms:GenerateDataKey"]
      resources = [statement.value.kms_key_arn]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${data.aws_region.current.name}.amazonaws.com"]
      }
    }
  }

  # Exports are multipart uploads (PutObject covers create, part and
  # complete), aborted on failure; downloads are presigned with this role, so
  # it reads them too.
  dynamic "statement" {
    for_each = each.key == "query" ? local.object_store : []
    content {
      sid       = "WriteExports"
      actions   = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject"]
      resources = ["${statement.value.bucket_arn}/${statement.value.exports_prefix}*"]
    }
  }

  # Multipart SSE-KMS uploads and SSE-KMS downloads need Decrypt too.
  dynamic "statement" {
    for_each = each.key == "query" ? local.object_store : []
    content {
      sid       = "EncryptExports"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [statement.value.kms_key_arn]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${data.aws_region.current.name}.amazonaws.com"]
      }
    }
  }
}

data "aws_region" "current" {}

resource "aws_iam_role_policy" "this" {
  # IAM refuses an empty policy, so a role with nothing to grant gets none.
  for_each = { for k, v in local.roles : k => v if var.kafka_iam_auth || length(lookup(var.secret_arns, k, [])) > 0 || (contains(["dlq_archiver", "query"], k) && var.object_store != null) }

  name   = "workload"
  role   = aws_iam_role.this[each.key].id
  policy = data.aws_iam_policy_document.this[each.key].json
}
