"""SNS beyond moto: topic policies evaluated, asynchronous (and losable) delivery to SQS."""
