locals {
  broker_ids = [for i in range(1, var.msk_broker_count + 1) : tostring(i)]

  # One alarm per (group, topic) the services consume: orch-dispatcher falls
  # behind when the target is slow, orch-projector when Postgres is.
  lag_pairs = {
    for pair in var.consumer_groups : "${pair.group}/${pair.topic}" => pair
  }
}

resource "aws_cloudwatch_metric_alarm" "msk_disk" {
  for_each = toset(local.broker_ids)

  alarm_name          = "${var.name}-msk-disk-broker-${each.key}"
  alarm_description   = "Broker ${each.key} data volume over ${var.msk_disk_used_percent}% (storage auto-scaling should have grown it)."
  namespace           = "AWS/Kafka"
  metric_name         = "KafkaDataLogsDiskUsed"
  dimensions          = { "Cluster Name" = var.msk_cluster_name, "Broker ID" = each.key }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.msk_disk_used_percent
  treat_missing_data  = "missing"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "msk_under_replicated" {
  for_each = toset(local.broker_ids)

  alarm_name          = "${var.name}-msk-under-replicated-broker-${each.key}"
  alarm_description   = "Broker ${each.key} leads partitions whose followers lag: one more failure and acks=all writes stop."
  namespace           = "AWS/Kafka"
  metric_name         = "UnderReplicatedPartitions"
  dimensions          = { "Cluster Name" = var.msk_cluster_name, "Broker ID" = each.key }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 10
  datapoints_to_alarm = 8 # rolling restarts during MSK patching blip briefly
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "missing"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "msk_under_min_isr" {
  for_each = toset(local.broker_ids)

  alarm_name          = "${var.name}-msk-under-min-isr-broker-${each.key}"
  alarm_description   = "Partitions below min.insync.replicas on broker ${each.key}: producers with acks=all are refused (the command service spools)."
  namespace           = "AWS/Kafka"
  metric_name         = "UnderMinIsrPartitionCount"
  dimensions          = { "Cluster Name" = var.msk_cluster_name, "Broker ID" = each.key }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "missing"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "msk_offline_partitions" {
  alarm_name          = "${var.name}-msk-offline-partitions"
  alarm_description   = "Partitions without a leader: reads and writes to them fail."
  namespace           = "AWS/Kafka"
  metric_name         = "OfflinePartitionsCount"
  dimensions          = { "Cluster Name" = var.msk_cluster_name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "missing"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

# MSK publishes these only for groups that commit offsets to Kafka (both of
# ours do) and only once they have; a new, idle deployment has none yet, so
# missing data stays neutral rather than paging. The services' own
# orch_consumer_lag_records alerts (ops/prometheus) cover a group that disappears.
resource "aws_cloudwatch_metric_alarm" "consumer_sum_lag" {
  for_each = local.lag_pairs

  alarm_name          = "${var.name}-lag-sum-${each.value.group}-${each.value.topic}"
  alarm_description   = "${each.value.group} is ${each.value.sum_threshold}+ records behind on ${each.value.topic} across partitions."
  namespace           = "AWS/Kafka"
  metric_name         = "SumOffsetLag"
  dimensions          = { "Cluster Name" = var.msk_cluster_name, "Consumer Group" = each.value.group, "Topic" = each.value.topic }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.sum_threshold
  treat_missing_data  = "missing"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "consumer_max_lag" {
  for_each = local.lag_pairs

  alarm_name          = "${var.name}-lag-max-${each.value.group}-${each.value.topic}"
  alarm_description   = "One partition of ${each.value.topic} is ${each.value.max_threshold}+ records behind for ${each.value.group}: a stuck consumer or a hot key."
  namespace           = "AWS/Kafka"
  metric_name         = "MaxOffsetLag"
  dimensions          = { "Cluster Name" = var.msk_cluster_name, "Consumer Group" = each.value.group, "Topic" = each.value.topic }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.max_threshold
  treat_missing_data  = "missing"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}
