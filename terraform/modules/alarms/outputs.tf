output "sns_topic_arn" {
  description = "Topic every alarm notifies; subscribe the on-call tooling to it."
  value       = aws_sns_topic.alarms.arn
}
