terraform {
  required_version = ">= 1.5.7"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.81 made thumbprint_list optional on the IAM OIDC provider.
      version = "~> 5.81"
    }
  }
}
