"""The Cirrus stack: the single table and the Chalice API that reads and writes it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_logs as logs
from chalice.cdk import Chalice
from constructs import Construct

from cirrus_infra.data import CirrusTable

# The repository root: app.py, chalicelib/, requirements.txt and .chalice/config.json live there.
REPO_ROOT = Path(__file__).resolve().parents[3]

# Names Chalice gives the resources in the SAM template it packages (`chalice package` output),
# kept because the construct preserves logical ids.
API_HANDLER = "APIHandler"
API_ROLE = "DefaultRole"
REST_API = "RestAPI"
CUSTOM_DOMAIN = "ApiGatewayCustomDomain"

# What the API does to its table: no Scan (a request costs a constant number of calls), no table
# management. grant_read_write_data would include both.
API_TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
)


@dataclass(frozen=True)
class StackSettings:
    """What varies between deployments (filled from CDK context by the app entry point)."""

    stage: str = "prod"
    # The Chalice project to package; tests point it at a copy with an empty requirements.txt.
    source_dir: Path = REPO_ROOT
    # Base of every absolute URL the API emits (CIRRUS_PUBLIC_URL); None: taken from the Host header.
    public_url: str | None = None
    # An API Gateway custom domain mapped at the root (see README "Deploying").
    domain_name: str | None = None
    certificate_arn: str | None = None
    lambda_memory_size: int = 1024
    # API Gateway's integration timeout is 29 s; a longer Lambda timeout would never be seen.
    lambda_timeout: int = 29
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH


class CirrusStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, settings: StackSettings, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.settings = settings
        self.table = CirrusTable(self, "Data").table

        # chalice.cdk names the Chalice stage after this scope (the stack), so the stage's settings
        # come from here rather than from a `stages` entry in .chalice/config.json.
        self.api = Chalice(
            self, "Api", source_dir=str(settings.source_dir), stage_config=self._stage_config()
        )
        handler = self.api.get_resource(API_HANDLER)
        # The function logs to a group with a retention period. (Chalice's own `log_retention_in_days`
        # emits a log group whose Fn::Sub names `ApiHandler`, not the function `APIHandler`, which
        # CfnInclude rejects.)
        self.api_logs = logs.LogGroup(self, "ApiLogs", retention=settings.log_retention)
        handler.add_property_override("LoggingConfig.LogGroup", self.api_logs.log_group_name)
        # Chalice sets X-Ray on the function only ("xray": true); trace the API Gateway stage too.
        self.api.get_resource(REST_API).add_property_override("TracingEnabled", True)
        grant = self.table.grant(self.api.get_role(API_ROLE), *API_TABLE_ACTIONS)
        # The grant is a separate AWS::IAM::Policy: create it before the function can serve a request.
        grant.apply_before(handler)

        CfnOutput(self, "TableName", value=self.table.table_name)
        # Chalice's own outputs (RestAPIId, EndpointURL, APIHandlerArn, ...) are kept as they are.
        if settings.domain_name:
            self._fix_custom_domain_mapping()

    def _fix_custom_domain_mapping(self) -> None:
        # Chalice's BasePathMapping names the stage as a plain string, so CloudFormation may create it
        # before SAM's stage exists ("Invalid stage identifier specified", aws/chalice#1735, #2003).
        # SAM resolves `Ref: <api>.Stage` to the stage it generates, which adds the dependency.
        mapping = self.api.get_resource(CUSTOM_DOMAIN + "Mapping")
        mapping.add_property_override("Stage", {"Ref": f"{REST_API}.Stage"})
        CfnOutput(
            self,
            "CustomDomainTarget",
            description="Point the custom domain's DNS (alias or CNAME) at this name",
            value=self.api.get_resource(CUSTOM_DOMAIN).get_att("RegionalDomainName").to_string(),
        )

    def _stage_config(self) -> dict[str, Any]:
        s = self.settings
        environment = {
            "CIRRUS_TABLE_NAME": self.table.table_name,
            "CIRRUS_STAGE": s.stage,
            "POWERTOOLS_SERVICE_NAME": "cirrus",
        }
        public_url = s.public_url or (f"https://{s.domain_name}" if s.domain_name else None)
        if public_url:
            environment["CIRRUS_PUBLIC_URL"] = public_url.rstrip("/")
        config: dict[str, Any] = {
            "api_gateway_stage": "api",
            "xray": True,
            "lambda_memory_size": s.lambda_memory_size,
            "lambda_timeout": s.lambda_timeout,
            "environment_variables": environment,
            "tags": {"project": "cirrus", "stage": s.stage},
        }
        if s.domain_name:
            if not s.certificate_arn:
                raise ValueError("a custom domain needs certificate_arn (an ACM certificate for it)")
            config["api_gateway_endpoint_type"] = "REGIONAL"
            config["api_gateway_custom_domain"] = {
                "domain_name": s.domain_name,
                "certificate_arn": s.certificate_arn,
            }
        return config
