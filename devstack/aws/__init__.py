"""A local AWS endpoint for development and tests.

Serves SSO OIDC, the SSO portal API and its device verification page, and
hosts moto (STS, IAM, Identity Store, SSO Admin, Organizations, S3, EC2, ...)
behind one URL that boto3 reaches through `AWS_ENDPOINT_URL`. See README.md.
"""
