module "key" {
  source = "../kms"

  alias                 = "${var.name}/msk"
  description           = "MSK ${var.name}: data at rest, broker logs and SCRAM secrets"
  allow_cloudwatch_logs = true
}

locals {
  # The services keep acks=all with an idempotent producer; with RF 3 and
  # min.insync.replicas 2 a write survives one broker down, and no replica
  # that missed writes may become leader. Topics come from the services
  # (auto-creation off), so a typo in a topic name fails loudly.
  server_properties = <<-EOT
    auto.create.topics.enable=false
    default.replication.factor=3
    min.insync.replicas=2
    unclean.leader.election.enable=false
    num.partitions=${var.default_partitions}
  EOT

  client_ports = concat(var.sasl_scram_enabled ? [9096] : [], var.sasl_iam_enabled ? [9098] : [])
  client_rules = {
    for pair in setproduct(keys(var.client_security_group_ids), local.client_ports) :
    "${pair[0]}-${pair[1]}" => { group = var.client_security_group_ids[pair[0]], port = pair[1] }
  }
}

resource "aws_msk_configuration" "this" {
  name              = "${var.name}-${replace(var.kafka_version, ".", "-")}"
  kafka_versions    = [var.kafka_version]
  server_properties = local.server_properties

  # A configuration cannot be deleted while the cluster still uses it.
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group" "brokers" {
  name_prefix = "${var.name}-msk-"
  description = "MSK brokers of ${var.name}: SASL over TLS from the workload security group only"
  vpc_id      = var.vpc_id

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "clients" {
  for_each = local.client_rules

  security_group_id            = aws_security_group.brokers.id
  description                  = "Kafka ${each.value.port == 9096 ? "SASL/SCRAM" : "IAM"} over TLS from ${each.key}"
  referenced_security_group_id = each.value.group
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
}

resource "aws_cloudwatch_log_group" "brokers" {
  name              = "/aws/msk/${var.name}/brokers"
  retention_in_days = var.log_retention_days
  kms_key_id        = module.key.key_arn
}

resource "aws_msk_cluster" "this" {
  cluster_name           = var.name
  kafka_version          = var.kafka_version
  number_of_broker_nodes = var.broker_count
  enhanced_monitoring    = var.enhanced_monitoring

  broker_node_group_info {
    instance_type   = var.broker_instance_type
    client_subnets  = var.subnet_ids
    security_groups = [aws_security_group.brokers.id]

    storage_info {
      ebs_storage_info {
        volume_size = var.broker_volume_size
      }
    }

    connectivity_info {
      public_access {
        type = "DISABLED"
      }
    }
  }

  configuration_info {
    arn      = aws_msk_configuration.this.arn
    revision = aws_msk_configuration.this.latest_revision
  }

  client_authentication {
    unauthenticated = false

    sasl {
      scram = var.sasl_scram_enabled
      iam   = var.sasl_iam_enabled
    }
  }

  encryption_info {
    encryption_at_rest_kms_key_arn = module.key.key_arn

    encryption_in_transit {
      client_broker = "TLS"
      in_cluster    = true
    }
  }

  logging_info {
    broker_logs {
      cloudwatch_logs {
        enabled   = true
        log_group = aws_cloudwatch_log_group.brokers.name
      }
    }
  }

  lifecycle {
    # Storage auto-scaling grows the volumes; Terraform must not shrink them back.
    ignore_changes = [broker_node_group_info[0].storage_info[0].ebs_storage_info[0].volume_size]

    precondition {
      condition     = var.broker_count % length(var.subnet_ids) == 0
      error_message = "broker_count must be a multiple of the number of subnets (one broker set per AZ)."
    }
  }
}

resource "aws_appautoscaling_target" "storage" {
  service_namespace  = "kafka"
  scalable_dimension = "kafka:broker-storage:VolumeSize"
  resource_id        = aws_msk_cluster.this.arn
  min_capacity       = 1
  max_capacity       = var.broker_volume_size_max
}

resource "aws_appautoscaling_policy" "storage" {
  name               = "${var.name}-broker-storage"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.storage.service_namespace
  scalable_dimension = aws_appautoscaling_target.storage.scalable_dimension
  resource_id        = aws_appautoscaling_target.storage.resource_id

  target_tracking_scaling_policy_configuration {
    target_value     = 60
    disable_scale_in = true # MSK volumes cannot shrink

    predefined_metric_specification {
      predefined_metric_type = "KafkaBrokerStorageUtilization"
    }
  }
}
