module "key" {
  source = "../kms"

  alias       = "${var.name}/alarms"
  description = "Alarm notifications of ${var.name}"
  # CloudWatch has to encrypt the message it publishes to the topic.
  service_principals = ["cloudwatch.amazonaws.com"]
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = module.key.key_arn
}

resource "aws_sns_topic_subscription" "this" {
  for_each = { for s in var.subscriptions : "${s.protocol}:${s.endpoint}" => s }

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = each.value.protocol
  endpoint  = each.value.endpoint
}

locals {
  actions = [aws_sns_topic.alarms.arn]
}
