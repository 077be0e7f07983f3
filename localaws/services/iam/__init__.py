"""IAM, as it authorizes the calls of a function's execution role and of a person."""
