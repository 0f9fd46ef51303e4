"""The CloudFormation template that creates the read-only role Cloudivize assumes.

The trusted principal is fixed in the template; the external ID is a parameter whose
default is the tenant's, so the downloaded file works as is and the quick-create link
can use one published copy for every tenant.
"""

import json
from typing import Any
from urllib.parse import quote, urlencode

ROLE_NAME = "CloudivizeReadOnly"
STACK_NAME = "Cloudivize-ReadOnly-Role"
# ViewOnlyAccess lists and describes resources without reading their data (no
# s3:GetObject, no secret values), which is all a diagram needs.
READ_ONLY_POLICY = "arn:${AWS::Partition}:iam::aws:policy/job-function/ViewOnlyAccess"
EXTERNAL_ID_PATTERN = r"[\w+=,.@:/-]{2,1224}"


def trust_policy(principal_arn: str, external_id: Any) -> dict[str, Any]:
    """Trust only `principal_arn`, and only when it presents the external ID."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": principal_arn},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }
        ],
    }


def role_template(principal_arn: str, external_id: str) -> dict[str, Any]:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Read-only role that lets Cloudivize draw this AWS account.",
        "Parameters": {
            "ExternalId": {
                "Type": "String",
                "Default": external_id,
                "AllowedPattern": EXTERNAL_ID_PATTERN,
                "Description": "Your Cloudivize account's external ID; do not change it.",
            }
        },
        "Resources": {
            "CloudivizeRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": ROLE_NAME,
                    "AssumeRolePolicyDocument": trust_policy(principal_arn, {"Ref": "ExternalId"}),
                    "ManagedPolicyArns": [{"Fn::Sub": READ_ONLY_POLICY}],
                    "MaxSessionDuration": 3600,
                },
            }
        },
        "Outputs": {"RoleArn": {"Value": {"Fn::GetAtt": ["CloudivizeRole", "Arn"]}}},
    }


def render(principal_arn: str, external_id: str) -> str:
    return json.dumps(role_template(principal_arn, external_id), indent=2)


def quick_create_url(template_url: str, external_id: str, region: str) -> str:
    """The console link that opens a prefilled stack; the customer only confirms."""
    query = urlencode(
        {"templateURL": template_url, "stackName": STACK_NAME, "param_ExternalId": external_id},
        quote_via=quote,
    )
    return (
        f"https://console.aws.amazon.com/cloudformation/home?region={region}"
        f"#/stacks/quickcreate?{query}"
    )
