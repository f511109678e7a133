"""`/api/support-feedbacks/`: callers' ratings of resolved issues, in Waldur's shapes
(waldur-api-client 8.1.3's Feedback, CreateFeedback and CreateFeedbackRequest). Creating needs no
sign-in, only the token the resolution mail carried; staff and support read them. Rules:
chalicelib/services/support_feedbacks.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import BeforeValidator, Field, RootModel

from chalicelib.api.fields import DateTimeFilter, ReferenceFilter, UuidFilter, free_text, one_of
from chalicelib.api.marketplace_orders import uuid_filter
from chalicelib.api.rest import (
    BodyModel,
    Call,
    Created,
    FieldsQuery,
    ListQuery,
    ResponseModel,
    endpoint,
    listed,
    object_id,
    render,
)
from chalicelib.domain import support_feedback as domain
from chalicelib.domain.ids import id_from_url
from chalicelib.domain.support_feedback import Feedback
from chalicelib.services import support_feedbacks as service

bp = Blueprint(__name__)
FEEDBACKS = "support-feedbacks"
ISSUES = "support-issues"


def _evaluation(value: Any) -> int:
    """One of 1..10, as DRF's ChoiceField takes it (a number, or its text), with its message."""
    if not isinstance(value, bool) and str(value).strip() in {str(n) for n in domain.EVALUATIONS}:
        return int(str(value).strip())
    raise ValueError(f'"{value}" is not a valid choice.')


Evaluation = Annotated[int, BeforeValidator(_evaluation), Field(json_schema_extra=one_of(domain.EVALUATIONS))]


class FeedbackIn(BodyModel):
    """Waldur's CreateFeedbackRequest."""

    evaluation: Evaluation
    token: str = Field(max_length=domain.TOKEN_MAX)
    comment: free_text(max_bytes=domain.COMMENT_MAX_BYTES) = ""  # type: ignore[valid-type]


class CreatedFeedbackOut(ResponseModel):
    """Waldur's CreateFeedback (the create's answer)."""

    uuid: str
    issue: str
    evaluation: int
    comment: str


class FeedbackOut(ResponseModel):
    """Waldur's Feedback."""

    uuid: str
    created: datetime
    modified: datetime
    state: str
    evaluation: int
    comment: str
    issue_uuid: str
    user_full_name: str
    issue_key: str
    issue_summary: str


def feedback_data(f: Feedback) -> dict[str, Any]:
    return {
        "uuid": f.id,
        "created": f.created,
        "modified": f.modified,
        "state": f.state,
        "evaluation": f.evaluation,
        "comment": f.comment,
        "issue_uuid": f.issue_id,
        "user_full_name": f.user_full_name,
        "issue_key": f.issue_key,
        "issue_summary": f.issue_summary,
    }


def nested_feedback(f: Feedback | None) -> dict[str, Any] | None:
    """An issue's `feedback` (Waldur's NestedFeedbackSerializer; HomePort reads evaluation_number)."""
    if f is None:
        return None
    number = f.evaluation
    return {"evaluation": number, "evaluation_number": number, "comment": f.comment, "state": f.state}


def _reference(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    return id_from_url(value) or uuid_filter(name, value)


class FeedbackQuery(ListQuery):
    """Waldur's FeedbackFilter."""

    issue: ReferenceFilter | None = None
    issue_uuid: UuidFilter | None = None
    user: ReferenceFilter | None = None
    user_uuid: UuidFilter | None = None
    created_before: DateTimeFilter | None = None
    created_after: DateTimeFilter | None = None
    evaluation: list[Evaluation] = []
    issue_key: str | None = Field(None, max_length=255)
    user_full_name: str | None = Field(None, max_length=255)

    def filters(self) -> service.FeedbackFilters:
        return service.FeedbackFilters(
            issue_id=_reference("issue", self.issue) or uuid_filter("issue_uuid", self.issue_uuid),
            caller_id=_reference("user", self.user) or uuid_filter("user_uuid", self.user_uuid),
            created_before=self.created_before,
            created_after=self.created_after,
            evaluations=tuple(self.evaluation),
            issue_key=self.issue_key,
            user_full_name=self.user_full_name,
        )


@endpoint(bp, f"/api/{FEEDBACKS}", "GET", name="support_feedbacks_list", tag=FEEDBACKS, query=FeedbackQuery,
          response=FeedbackOut, many=True, summary="Every feedback (staff and support)")  # fmt: skip
def list_feedbacks(call: Call) -> Any:
    q: FeedbackQuery = call.query
    page = service.listed(call.user, q.filters(), q.page_request())
    return listed(call, page, FeedbackOut, feedback_data)


@endpoint(bp, f"/api/{FEEDBACKS}", "POST", name="support_feedbacks_create", tag=FEEDBACKS, body=FeedbackIn,
          response=CreatedFeedbackOut, status=201, anonymous=True,
          summary="Rate a resolved issue with the token its mail carried (no sign-in needed)")  # fmt: skip
def create_feedback(call: Call) -> Any:
    body: FeedbackIn = call.body
    made = service.create(call.ctx, body.token, body.evaluation, body.comment)
    data = {
        "uuid": made.id,
        "issue": call.url(ISSUES, made.issue_id),
        "evaluation": made.evaluation,
        "comment": made.comment,
    }
    return Created(render(CreatedFeedbackOut, data))


@endpoint(bp, f"/api/{FEEDBACKS}/{{uuid}}", "GET", name="support_feedbacks_retrieve", tag=FEEDBACKS,
          query=FieldsQuery, response=FeedbackOut)  # fmt: skip
def retrieve_feedback(call: Call, uuid: str) -> Any:
    service.require_reader(call.user)  # a 403 before the id is looked at (Waldur's order)
    found = service.get(call.user, object_id(uuid, domain.FEEDBACK))
    return render(FeedbackOut, feedback_data(found), getattr(call.query, "field", ()))


# Waldur's feedback reports (HomePort's support dashboard reads both), from the evaluations'
# platform-wide counters: constant cost whatever the feedbacks number.
class FeedbackReportOut(RootModel[dict[str, int]]):
    """Evaluation ("1" to "10") → how many feedbacks give it (the evaluations nobody gave left out)."""


class FeedbackAverageOut(RootModel[float | None]):
    """The average evaluation, to two decimals; null without any feedback."""


@endpoint(bp, "/api/support-feedback-report", "GET", name="support_feedback_report_retrieve",
          tag="support-feedback-report", response=FeedbackReportOut,
          summary="How many feedbacks rate each evaluation")  # fmt: skip
def feedback_report(call: Call) -> Any:
    return service.report(call.user)


@endpoint(bp, "/api/support-feedback-average-report", "GET", name="support_feedback_average_report_retrieve",
          tag="support-feedback-average-report", response=FeedbackAverageOut,
          summary="The average evaluation, or null")  # fmt: skip
def feedback_average_report(call: Call) -> Any:
    return service.average(call.user)
