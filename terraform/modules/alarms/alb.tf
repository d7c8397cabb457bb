# The load balancers belong to the AWS Load Balancer Controller, not to
# Terraform, so their ARN suffixes come in as variables once they exist.
resource "aws_cloudwatch_metric_alarm" "alb_5xx" {
  for_each = var.alb_arn_suffixes

  alarm_name          = "${var.name}-alb-5xx-${each.key}"
  alarm_description   = "${each.key}: over ${var.alb_5xx_per_minute} 5xx answers a minute from its targets."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_Target_5XX_Count"
  dimensions          = { LoadBalancer = each.value }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alb_5xx_per_minute
  treat_missing_data  = "notBreaching" # no requests, no errors
  alarm_actions       = local.actions
  ok_actions          = local.actions
}
