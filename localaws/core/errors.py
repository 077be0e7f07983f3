"""The one error type the emulated services raise; the wire layer turns it into AWS's error shape."""

from __future__ import annotations


class AwsError(Exception):
    """An AWS API error: `code` is the error shape name botocore's parser reports as the
    ClientError code; `status` defaults to the shape's documented httpStatusCode (else 400)."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
