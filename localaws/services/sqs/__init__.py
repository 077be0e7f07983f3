"""SQS beyond moto: queue policies, and moto's SQS on the simulated clock."""
