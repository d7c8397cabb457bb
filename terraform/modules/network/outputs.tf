output "vpc_id" {
  description = "VPC ID."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "VPC CIDR block."
  value       = aws_vpc.this.cidr_block
}

output "private_subnet_ids" {
  description = "Private subnets, one per AZ: EKS nodes, MSK brokers, RDS."
  value       = aws_subnet.private[*].id
}

output "public_subnet_ids" {
  description = "Public subnets, one per AZ: internet-facing load balancers and NAT gateways."
  value       = aws_subnet.public[*].id
}

output "azs" {
  description = "Availability zones in use."
  value       = local.azs
}
