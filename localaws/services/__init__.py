"""The AWS services the local AWS emulates itself (moto serves SSM, SQS, STS, CloudWatch and
DynamoDB): one folder per service. A service imports only localaws.core and other services."""
