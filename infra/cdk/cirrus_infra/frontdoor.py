"""The API's front door: an HTTP API (API Gateway v2) in front of the Chalice handler, the default
(`-c api_type=http`); `-c api_type=rest` keeps the REST API Chalice packages (routing.py).

An HTTP API costs $1.00 per million requests against REST's $3.50, and has no stage prefix in its
URLs. One `$default` route sends every path and verb (OPTIONS too: the app answers CORS preflights,
chalicelib/api/middleware.py, so the API has no CorsConfiguration that would answer them itself) to a
Lambda proxy integration with payload format 1.0, the shape Chalice reads; the handler
`app.api_handler` finds the route in Chalice's own table, as `$default` gives no resource path. The
integration invokes the function's published alias `live` (SnapStart restores only published
versions), which SAM creates from `AutoPublishAlias` and resolves `Ref: <function>.Alias` to.

API Gateway answers some requests itself (a throttled request: 429 `{"message":"Too Many
Requests"}`); an HTTP API has no gateway responses to reshape them, and none of its own answers
quotes the request. Access logs are JSON lines of fields that cannot carry the query string, where
a token may travel (`?token=`, the Cognito callback's `code`): the path, never the request URI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aws_cdk import Acknowledgment, Aws, Fn, Stack, Validations
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from cirrus_infra.nag import suppress

HTTP = "http"
REST = "rest"
API_TYPES = (HTTP, REST)
# SAM publishes a version of the API function at each change and points this alias at it.
ALIAS = "live"
# Payload format 1.0: the REST-shaped event Chalice reads (2.0 has no `resource`, `httpMethod`...).
PAYLOAD_FORMAT = "1.0"
# An HTTP API waits at most 30 s for its integration; the function's own timeout is shorter
# (StackSettings.lambda_timeout), so a slow request ends in the function, logged there.
INTEGRATION_TIMEOUT_MS = 30_000

# The access log's fields: request-scoped values that cannot hold the query string or a header other
# than the User-Agent. `$context.path` is the path alone (the query string is not part of it);
# `$context.routeKey` is `$default`. Not used: `$context.integrationErrorMessage` /
# `$context.integration.error` (the function's error text, which may quote its input) and the
# authorizer, identity and client certificate fields (none configured).
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "time": "$context.requestTimeEpoch",
    "method": "$context.httpMethod",
    "path": "$context.path",
    "status": "$context.status",
    "bytes": "$context.responseLength",
    "latency": "$context.responseLatency",
    "integrationLatency": "$context.integration.latency",
    "error": "$context.error.message",
}


def access_log_format() -> str:
    """One JSON object per request (CloudWatch Logs Insights discovers its fields)."""
    return json.dumps(ACCESS_LOG_FIELDS, separators=(",", ":"))


@dataclass(frozen=True)
class Throttle:
    """The `$default` route's limits (the account's regional limit is 10,000 rps, burst 5,000): a
    client looping on the API is answered 429 before it costs more than this many invocations."""

    rate: float = 500.0  # requests per second, steady
    burst: int = 1000  # requests at once


class HttpFrontDoor(Construct):
    """The HTTP API, its `$default` route and stage (throttled, access-logged), the permission for it
    to invoke the function's alias, and the custom domain mapped at the root when one is given."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        throttle: Throttle,
        log_retention: logs.RetentionDays,
        domain_name: str | None = None,
        certificate_arn: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.http_api = apigw.CfnApi(
            self,
            "HttpApi",
            name=f"{prefix}-api",
            protocol_type="HTTP",
            description="Cirrus API: every request to the Chalice handler (Lambda proxy, payload 1.0)",
        )
        self.api_id = self.http_api.ref
        # Infrequent Access: half the ingestion price; Logs Insights queries work, metric filters and
        # subscriptions do not (the alarms use API Gateway's own metrics).
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=log_retention,
            log_group_class=logs.LogGroupClass.INFREQUENT_ACCESS,
        )
        self.stage = apigw.CfnStage(
            self,
            "DefaultStage",
            api_id=self.api_id,
            stage_name="$default",
            auto_deploy=True,
            default_route_settings=apigw.CfnStage.RouteSettingsProperty(
                throttling_burst_limit=throttle.burst, throttling_rate_limit=throttle.rate
            ),
            access_log_settings=apigw.CfnStage.AccessLogSettingsProperty(
                destination_arn=self.access_logs.log_group_arn, format=access_log_format()
            ),
        )
        self.domain: apigw.CfnDomainName | None = None
        if domain_name:
            if not certificate_arn:
                raise ValueError("a custom domain needs certificate_arn (an ACM certificate for it)")
            self.domain = apigw.CfnDomainName(
                self,
                "Domain",
                domain_name=domain_name,
                domain_name_configurations=[
                    apigw.CfnDomainName.DomainNameConfigurationProperty(
                        certificate_arn=certificate_arn, endpoint_type="REGIONAL", security_policy="TLS_1_2"
                    )
                ],
            )
            # No ApiMappingKey: the API at the domain's root (https://<domain>/api/...). `Ref` to the
            # stage (its name, `$default`) so the mapping waits for it.
            apigw.CfnApiMapping(
                self, "Mapping", api_id=self.api_id, domain_name=self.domain.ref, stage=self.stage.ref
            )

    @property
    def origin(self) -> str:
        """The API's own `https://<id>.execute-api.<region>.<suffix>`, without a trailing slash."""
        return Fn.join("", ["https://", self.api_id, ".execute-api.", Aws.REGION, ".", Aws.URL_SUFFIX])

    @property
    def url(self) -> str:
        """The API's own base URL, what clients call without a custom domain (no stage prefix)."""
        return Fn.join("", [self.origin, "/"])

    @property
    def domain_target(self) -> str | None:
        """The name the custom domain's DNS record points at."""
        return self.domain.attr_regional_domain_name if self.domain else None

    def route_to(self, function_logical_id: str) -> None:
        """Every request (`$default`) to the SAM function's alias `live` (`Ref: <id>.Alias`, the alias's
        ARN once SAM has transformed the template), which API Gateway may invoke from this API only."""
        alias_arn = Fn.ref(f"{function_logical_id}.Alias")
        integration = apigw.CfnIntegration(
            self,
            "Integration",
            api_id=self.api_id,
            integration_type="AWS_PROXY",
            integration_uri=alias_arn,
            payload_format_version=PAYLOAD_FORMAT,
            timeout_in_millis=INTEGRATION_TIMEOUT_MS,
        )
        route = apigw.CfnRoute(
            self,
            "DefaultRoute",
            api_id=self.api_id,
            route_key="$default",
            target=Fn.join("/", ["integrations", integration.ref]),
        )
        suppress(
            route,
            "AwsSolutions-APIG4",
            "Authorization is the app's, per endpoint as Waldur's: token and Cognito JWT authentication, "
            "roles and permissions in chalicelib/api, and anonymous endpoints (health, the public "
            "catalogue, sign-in) that a gateway authorizer on the one $default route would refuse",
        )
        permission = lambda_.CfnPermission(
            self,
            "InvokePermission",
            action="lambda:InvokeFunction",
            function_name=alias_arn,
            principal="apigateway.amazonaws.com",
            # Any stage and route of this API (`<api>/<stage>/<route>`); no other API.
            source_arn=Stack.of(self).format_arn(
                service="execute-api", resource=self.api_id, resource_name="*/*"
            ),
        )
        for resource in (integration, permission):
            refers_to_alias(resource, function_logical_id)


def refers_to_alias(resource: IConstruct, function_logical_id: str) -> None:
    """CDK's template validation knows no SAM-generated ids: `<function>.Alias` is one."""
    refers_to_sam_id(resource, f"{function_logical_id}.Alias is the alias SAM generates for AutoPublishAlias")


def refers_to_sam_id(resource: IConstruct, reason: str) -> None:
    """Acknowledge CDK's template validation finding (F1020, an unknown Ref target) on a reference
    to an id the SAM transform generates (`<function>.Alias`, `<api>.Stage`)."""
    Validations.of(resource).acknowledge(Acknowledgment(id="CloudFormation-Validate::F1020", reason=reason))
