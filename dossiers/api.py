"""REST API v1: the public lookup (for a Zalo Mini App or a chatbot) and the officers' endpoints.

Officer endpoints call the same services as the admin; the lookup uses the same module as the pages.
"""

import copy
import threading
from functools import cached_property

from django.db.models import Prefetch
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from egov.api import ApiError, KeysetPagination
from egov.ratelimit import client_address
from offices.models import Department, Officer

from . import access, intake_procedures, lookup, selectors, services, workflow
from .models import AccessKind, Channel, Dossier, DossierEvent, Procedure, ProcedureComponent, Status
from .text import fold
from .views_public import NOT_FOUND, private_response

# --- public lookup ------------------------------------------------------------------------------


class MissingSerializer(serializers.Serializer):
    name = serializers.CharField()
    reason = serializers.CharField()


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.CharField(help_text="HH:MM dd/mm/yyyy, Asia/Ho_Chi_Minh")
    action = serializers.CharField()
    status = serializers.CharField()
    department = serializers.CharField(allow_null=True)
    note = serializers.CharField(allow_blank=True)


class PublicStatusSerializer(serializers.Serializer):
    code = serializers.CharField()
    procedure = inline_serializer("LookupProcedure", {"code": serializers.CharField(), "name": serializers.CharField()})
    applicant = serializers.CharField(help_text="Masked name, e.g. “Nguyễn V. A.”")
    status = inline_serializer(
        "LookupStatus",
        {"code": serializers.IntegerField(), "label": serializers.CharField(), "explanation": serializers.CharField()},
    )
    holder = inline_serializer(
        "LookupHolder",
        {
            "department": serializers.CharField(allow_null=True),
            "officer": serializers.CharField(allow_null=True),
            "title": serializers.CharField(allow_null=True),
        },
        allow_null=True,
    )
    received_at = serializers.CharField(allow_null=True)
    appointment_date = serializers.CharField(allow_null=True, help_text="dd/mm/yyyy")
    original_appointment_date = serializers.CharField(allow_null=True)
    missing_components = MissingSerializer(many=True)
    fee_amount = serializers.IntegerField(allow_null=True)
    grade = serializers.CharField(allow_null=True)
    result_ready_at = serializers.CharField(allow_null=True)
    returned_at = serializers.CharField(allow_null=True)
    timeline = TimelineEntrySerializer(many=True)
    online_files = inline_serializer(
        "LookupOnlineFile",
        {
            "id": serializers.IntegerField(),
            "item": serializers.CharField(allow_null=True),
            "kind": serializers.ChoiceField(choices=["image", "pdf"]),
            "state": serializers.CharField(),
            "refused": serializers.BooleanField(),
            "refusal_reason": serializers.CharField(),
            "sent_at": serializers.CharField(),
        },
        many=True,
        help_text="Papers the citizen sent online for a supplement request (viewable through the QR link only)",
    )


class LookupRequestSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=40)
    verifier = serializers.CharField(max_length=20, help_text="The applicant's full phone number or ID-paper number")


ERROR_SCHEMA = inline_serializer(
    "Error",
    {"error": inline_serializer("ErrorBody", {"code": serializers.CharField(), "message": serializers.CharField()})},
)


def _not_found():
    return ApiError("not_found", NOT_FOUND, status.HTTP_404_NOT_FOUND)


def _throttled(exc):
    error = ApiError("throttled", exc.message, status.HTTP_429_TOO_MANY_REQUESTS)
    error.retry_after = exc.retry_after
    return error


def _rendered_error(error: ApiError) -> HttpResponse:
    """`error` as the API's JSON error (the exception handler's shape and bytes), outside DRF's views."""
    body = {"error": {"code": error.error_code, "message": str(error.detail)}}
    return HttpResponse(JSONRenderer().render(body), status=error.status_code, content_type="application/json")


class PublicLookupView(APIView):
    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    def finalize_response(self, request, response, *args, **kwargs):
        # A dossier found by its code and the applicant's phone or ID number: no shared cache keeps it.
        return private_response(super().finalize_response(request, response, *args, **kwargs))

    @extend_schema(
        request=LookupRequestSerializer,
        responses={200: PublicStatusSerializer, 400: ERROR_SCHEMA, 404: ERROR_SCHEMA, 429: ERROR_SCHEMA},
        summary="Tra cứu bằng mã hồ sơ và thông tin xác minh",
        tags=["public"],
    )
    def post(self, request):
        data = LookupRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            result = lookup.status_by_code(
                data.validated_data["code"], data.validated_data["verifier"], client_address(request)
            )
        except lookup.Throttled as exc:
            raise _throttled(exc) from None
        if result is None:
            raise _not_found()
        return Response(result)


class PublicTokenLookupView(APIView):
    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    def dispatch(self, request, *args, **kwargs):
        # A rush of scans, cached or each a different dossier: a public GET that no authentication,
        # permission, throttle class or content negotiation applies to is answered before any of DRF's
        # per-request machinery; its errors have the API's shape (`answer`).
        if request.method == "GET":
            return self.answer(request, kwargs.get("token"))
        return super().dispatch(request, *args, **kwargs)

    @staticmethod
    def answer(request, token):
        # One citizen's dossier, found by a secret link: never kept by a shared cache, as on the page.
        try:
            content = lookup.serve(token, "json", client_address(request), JSONRenderer().render)
        except lookup.Throttled as exc:
            response = _rendered_error(_throttled(exc))
            response["Retry-After"] = str(exc.retry_after)
            return private_response(response)
        if content is None:
            return private_response(_rendered_error(_not_found()))
        return private_response(HttpResponse(content, content_type="application/json"))

    @extend_schema(
        responses={200: PublicStatusSerializer, 404: ERROR_SCHEMA, 429: ERROR_SCHEMA},
        summary="Tra cứu bằng mã QR trên giấy tiếp nhận",
        tags=["public"],
    )
    def get(self, request, token):
        return self.answer(request, token)  # reached by HEAD; GET is answered in `dispatch`


# --- officers -----------------------------------------------------------------------------------


class IsOfficer(permissions.BasePermission):
    message = "officer_required"

    def has_permission(self, request, view):
        return bool(
            request.user
            and request.user.is_authenticated
            and request.user.is_staff
            and selectors.officer_of(request.user) is not None
            and request.user.has_perm(view.required_permission)
        )


class ComponentSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProcedureComponent
        fields = ["id", "name", "kind", "count", "required"]


class ProcedureSerializer(serializers.ModelSerializer):
    components = ComponentSerializer(many=True, read_only=True)
    department = serializers.CharField(source="department.code")

    class Meta:
        model = Procedure
        fields = [
            "id",
            "code",
            "name",
            "field",
            "department",
            "processing_days",
            "fee",
            "fee_note",
            "on_supplement",
            "legal_basis",
            "result",
            "components",
        ]


class FieldsBuiltOnce:
    """A ModelSerializer's fields worked out from the model once per class, not once per instance, and
    its answers written with them.

    DRF introspects the model for every serializer it makes and copies every field for every answer
    (a dossier with its timeline: a sixth of an intake's CPU). Here the fields are built once per class
    (`get_fields`: each instance that asks for `fields` still gets fresh copies, as DRF makes them), and
    `to_representation` reads an object through one shared set of them: a plain field's
    `get_attribute` and `to_representation` read only their own arguments, never the serializer or
    the request. What does read them is not shared: a `SerializerMethodField` calls the method of the
    serializer answering (its context, its request), and a nested serializer is shared only when it
    is plain all the way down; any other field is this instance's own (`self.fields`). The answer is
    the one DRF's `Serializer.to_representation` gives (tested against it)."""

    def get_fields(self):
        cls = type(self)
        built = cls.__dict__.get("_fields_built_once")
        if built is None:
            built = super().get_fields()  # two threads may both build it: the same fields either way
            cls._fields_built_once = built
        return copy.deepcopy(built)

    @classmethod
    def representation_plan(cls):
        """[(name, shared field or None, method name or None)] in the order of the answer's keys, and
        whether every entry is shared (nothing read from a serializer instance or its context)."""
        plan = cls.__dict__.get("_representation_plan")
        if plan is None:
            prototype = cls()  # bound to no request: only its context-free fields are used
            entries = []
            for field in prototype._readable_fields:
                if isinstance(field, serializers.SerializerMethodField):
                    entries.append((field.field_name, None, field.method_name))
                elif _context_free(field):
                    entries.append((field.field_name, field, None))
                else:
                    entries.append((field.field_name, None, None))
            plan = (entries, all(field is not None for _name, field, _method in entries))
            cls._representation_plan = plan
        return plan

    def to_representation(self, instance):
        answer = {}
        for name, field, method in self.representation_plan()[0]:
            if method is not None:
                answer[name] = getattr(self, method)(instance)
                continue
            if field is None:
                field = self.fields[name]
            try:
                attribute = field.get_attribute(instance)
            except SkipField:
                continue
            check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            answer[name] = None if check_for_none is None else field.to_representation(attribute)
        return answer


class FieldsPerThread:
    """A request serializer's fields built once per thread, not once per request.

    DRF deep-copies every declared field, nested serializers and their fields included, for each
    serializer it makes: an intake's body cost that on every request (a twelfth of its CPU), though
    validating reads nothing of a field but its own settings. Here the fields are built once per
    thread on a prototype bound to no request (so no request's data stays reachable from them) and
    each serializer validates through them; its own `validate_<name>` and `validate` methods, its
    data, errors and results stay its own. A field reads its serializer only for the context and
    `partial` (through its root, the prototype): a serializer given either, or an instance, builds its
    own fields as DRF does. One thread validates one body at a time, so nothing is shared between two
    validations in progress."""

    @cached_property
    def fields(self):
        if self._context or self.partial or self.instance is not None:
            return super().fields
        cls = type(self)
        local = cls.__dict__.get("_fields_per_thread")
        if local is None:
            local = threading.local()  # two threads may both make one: each then builds its fields again
            cls._fields_per_thread = local
        built = getattr(local, "fields", None)
        if built is None:
            prototype = cls.__new__(cls)
            serializers.BaseSerializer.__init__(prototype)  # no data, no context, no instance
            built = local.fields = super(FieldsPerThread, prototype).fields
        return built


def _context_free(field):
    """A field whose answer depends on the object alone (see FieldsBuiltOnce)."""
    if isinstance(field, serializers.ListSerializer):
        field = field.child
    if isinstance(field, serializers.ManyRelatedField):
        field = field.child_relation
    if isinstance(field, serializers.BaseSerializer):
        return isinstance(field, FieldsBuiltOnce) and field.representation_plan()[1]
    # Hyperlinks are built from the request; a method field calls its serializer.
    return not isinstance(field, serializers.SerializerMethodField | serializers.HyperlinkedRelatedField)


class EventSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    to_department = serializers.CharField(source="to_department.code", allow_null=True, default=None)
    to_officer = serializers.CharField(source="to_officer.user.username", allow_null=True, default=None)
    actor = serializers.CharField(source="actor.user.username", allow_null=True, default=None)

    class Meta:
        model = DossierEvent
        fields = [
            "id",
            "action",
            "from_status",
            "to_status",
            "actor",
            "to_department",
            "to_officer",
            "created_at",
            "citizen_note",
            "internal_note",
            "step_due",
            "step_grade",
            "appointment_date",
        ]


class DossierSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    procedure = serializers.CharField(source="procedure.code")
    current_department = serializers.CharField(source="current_department.code", allow_null=True, default=None)
    current_officer = serializers.CharField(source="current_officer.user.username", allow_null=True, default=None)
    status_label = serializers.SerializerMethodField()
    available_actions = serializers.SerializerMethodField()

    class Meta:
        model = Dossier
        fields = [
            "id",
            "code",
            "procedure",
            "channel",
            "status",
            "status_label",
            "applicant_name",
            "applicant_id_number",
            "applicant_phone",
            "applicant_address",
            "applicant_email",
            "current_department",
            "current_officer",
            "accepted_at",
            "due_date",
            "appointment_date",
            "original_appointment_date",
            "fee_amount",
            "result",
            "result_ready_at",
            "returned_at",
            "grade",
            "version",
            "available_actions",
        ]

    def get_status_label(self, obj) -> str:
        # Not get_status_display: Django rebuilds (and hashes every lazy label of) the choices per call.
        try:
            return str(Status(obj.status).label)
        except ValueError:  # not a national status: shown as stored, as get_status_display would
            return str(obj.status)

    def get_available_actions(self, obj) -> list[str]:
        # What this officer may actually do (the table's performers, not only permissions). The answer
        # depends on the status and where the officer stands (workflow.places_of): worked out once per
        # pair for a page of dossiers, not once per row.
        officer = selectors.officer_of(self.context["request"].user)
        if officer is None:
            return []
        known = self.context.setdefault("_available_actions", {})
        key = (obj.status, workflow.places_of(officer, obj))
        if key not in known:
            known[key] = [a.key for a in workflow.actions_for(officer, obj)]
        return known[key]


class DossierDetailSerializer(DossierSerializer):
    events = EventSerializer(many=True, read_only=True)

    class Meta(DossierSerializer.Meta):
        fields = [*DossierSerializer.Meta.fields, "events"]


class IntakeAnswerSerializer(DossierDetailSerializer):
    """DossierDetailSerializer for a dossier just received, its timeline given (`dossier.timeline`)."""

    events = EventSerializer(many=True, read_only=True, source="timeline")


class ProcedureViewSet(viewsets.ReadOnlyModelViewSet):
    """Danh mục thủ tục hành chính của tỉnh."""

    serializer_class = ProcedureSerializer
    permission_classes = [IsOfficer]
    required_permission = "dossiers.view_procedure"
    queryset = Procedure.objects.filter(is_active=True).select_related("department").prefetch_related("components")


class IntakeComponentSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="A paper, by its name in the procedure's list or the supplement request")
    count = serializers.IntegerField(min_value=0, max_value=50, default=1)


class ActionRequestSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="The dossier's version the officer saw (stale forms are refused)")
    citizen_note = serializers.CharField(
        required=False, allow_blank=True, help_text="Shown to the citizen (status page, lookup API, messages)"
    )
    internal_note = serializers.CharField(required=False, allow_blank=True, help_text="Officers only")
    note = serializers.CharField(required=False, allow_blank=True, help_text="Without saying whom for: internal")
    reason = serializers.CharField(required=False, allow_blank=True)
    to_department = serializers.SlugRelatedField(
        slug_field="code", queryset=Department.objects.filter(is_active=True), required=False
    )
    to_officer = serializers.CharField(required=False, help_text="Username of the receiving officer")

    def validate_to_officer(self, value):
        officer = Officer.objects.select_related("user").filter(user__username=value).first()
        if officer is None:
            raise serializers.ValidationError(_("Không có cán bộ “%s”.") % value)
        return officer

    step_due = serializers.DateField(required=False)
    items = MissingSerializer(many=True, required=False)
    amount = serializers.IntegerField(required=False, min_value=1)
    new_date = serializers.DateField(required=False)
    result = serializers.CharField(required=False, allow_blank=True)
    components = IntakeComponentSerializer(
        many=True, required=False, help_text="receive_supplement: the papers brought (every item asked)"
    )


class ApplicantSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    id_number = serializers.CharField(required=False, allow_blank=True, max_length=20)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=20)
    address = serializers.CharField(required=False, allow_blank=True, max_length=300)
    email = serializers.EmailField(required=False, allow_blank=True)


class ActiveProcedureField(serializers.SlugRelatedField):
    """An active procedure of the province by its code, with its papers and reception points, from the
    web process's cache (dossiers/intake_procedures.py): what DRF's slug field gives, without reading
    three tables on every intake."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="code", queryset=Procedure.objects.filter(is_active=True), **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("invalid")
        code = str(data)
        procedure = None
        if "\x00" not in code and len(code) <= Procedure._meta.get_field("code").max_length:
            procedure = intake_procedures.active_procedure(code)
        if procedure is None:
            self.fail("does_not_exist", slug_name=self.slug_field, value=code)
        return procedure


class IntakeRequestSerializer(FieldsPerThread, serializers.Serializer):
    """Counter intake (the registry's `receive`): the same checks as the admin's "Tiếp nhận hồ sơ" page."""

    # With its components: `validate` and the service's check of the required papers read the same list.
    procedure = ActiveProcedureField()
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.COUNTER)
    applicant = ApplicantSerializer()
    components = IntakeComponentSerializer(many=True)
    citizen_note = serializers.CharField(required=False, allow_blank=True)
    internal_note = serializers.CharField(required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True)

    def validate(self, data):
        known = {c.name: c for c in data["procedure"].components.all()}
        unknown = [c["name"] for c in data["components"] if c["name"] not in known]
        if unknown:
            raise serializers.ValidationError(
                {"components": _("Thủ tục không có thành phần: %s.") % "; ".join(unknown)}
            )
        data["components"] = [
            services.SubmittedComponent(c["name"], known[c["name"]].kind, c["count"]) for c in data["components"]
        ]
        data["applicant"] = services.Applicant(**data["applicant"])
        return data


def _api_error(exc: services.WorkflowError) -> ApiError:
    """A refused action as the API's JSON error, with the status its kind means."""
    if isinstance(exc, services.ActionForbidden):
        return ApiError(exc.code, exc.message, status.HTTP_403_FORBIDDEN)
    if isinstance(exc, services.StaleDossier | services.ActionNotAllowed):
        return ApiError(exc.code, exc.message, status.HTTP_409_CONFLICT)
    return ApiError(exc.code, exc.message)


# --- online registration: the citizen chooses where to hand in and collect ---------------------


class PointSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "code", "name", "point_kind", "agency_code", "ward_code", "address", "opening_hours"]


class PublicPointsView(APIView):
    """The province's active reception points: where an online or postal application may be collected."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses={200: PointSerializer(many=True)}, summary="Các điểm tiếp nhận hồ sơ", tags=["public"])
    def get(self, request):
        from offices.points import points

        return Response(PointSerializer(points(), many=True).data)


# How a citizen may hand in an application themselves (the API schema names this set apart:
# SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]).
REGISTRATION_CHANNELS = [(Channel.ONLINE, Channel.ONLINE.label), (Channel.POSTAL, Channel.POSTAL.label)]


class RegistrationRequestSerializer(serializers.Serializer):
    procedure = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Procedure.objects.filter(is_active=True).prefetch_related("components", "reception_points"),
        error_messages={"does_not_exist": gettext_lazy("Không có thủ tục mã “{value}” đang áp dụng.")},
    )
    channel = serializers.ChoiceField(choices=REGISTRATION_CHANNELS, default=Channel.ONLINE)
    # The point's id from GET /api/v1/points/; left out: the province's centre. Checked by the service
    # (an id of another province, a closed point or a processing department is refused in Vietnamese).
    reception_point = serializers.CharField(required=False, allow_blank=True, max_length=20)
    applicant = ApplicantSerializer()
    components = IntakeComponentSerializer(many=True)

    def validate(self, data):
        known = {c.name: c for c in data["procedure"].components.all()}
        unknown = [c["name"] for c in data["components"] if c["name"] not in known]
        if unknown:
            raise serializers.ValidationError(
                {"components": _("Thủ tục không có thành phần: %s.") % "; ".join(unknown)}
            )
        data["components"] = [
            services.SubmittedComponent(c["name"], known[c["name"]].kind, c["count"]) for c in data["components"]
        ]
        data["applicant"] = services.Applicant(**data["applicant"])
        return data


class PublicRegistrationView(APIView):
    """Nộp hồ sơ trực tuyến (or by post): the registry's `register`, through `services.register_online`.

    The dossier waits for the counter of the chosen point, where the result is collected."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=RegistrationRequestSerializer,
        responses={
            201: inline_serializer(
                "Registration",
                {
                    "code": serializers.CharField(),
                    "status": serializers.IntegerField(),
                    "reception_point": PointSerializer(),
                    "lookup_url": serializers.CharField(),
                },
            ),
            400: ERROR_SCHEMA,
            429: ERROR_SCHEMA,
        },
        summary="Nộp hồ sơ trực tuyến",
        tags=["public"],
    )
    def post(self, request):
        from django.conf import settings

        from egov import ratelimit

        from .links import lookup_url

        verdict = ratelimit.hit(
            "register-address", client_address(request), ratelimit.Rate.parse(settings.REGISTER_RATE_PER_ADDRESS)
        )
        if not verdict.allowed:
            error = ApiError(
                "throttled",
                _("Bạn đã nộp quá nhiều hồ sơ trong thời gian ngắn; hãy thử lại sau."),
                status.HTTP_429_TOO_MANY_REQUESTS,
            )
            error.retry_after = verdict.retry_after
            raise error
        body = RegistrationRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            dossier = services.register_online(
                procedure=data["procedure"],
                applicant=data["applicant"],
                components=data["components"],
                channel=data["channel"],
                reception_point=data.get("reception_point") or None,
            )
        except services.WorkflowError as exc:
            raise _api_error(exc) from None
        return Response(
            {
                "code": dossier.code,
                "status": dossier.status,
                "reception_point": PointSerializer(dossier.reception_point).data if dossier.reception_point else None,
                "lookup_url": lookup_url(dossier),
            },
            status=status.HTTP_201_CREATED,
        )


class DossierViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Hồ sơ mà cán bộ được xem; thao tác xử lý đi qua cùng một module nghiệp vụ với trang quản trị."""

    permission_classes = [IsOfficer]
    required_permission = "dossiers.view_dossier"
    # Cursor paging, newest first, on the index (registered_at DESC, id DESC): deep pages cost what page 1 costs.
    pagination_class = KeysetPagination
    keyset_fields = ("registered_at", "id")

    def get_serializer_class(self):
        return DossierDetailSerializer if self.action == "retrieve" else DossierSerializer

    def get_queryset(self):
        qs = selectors.visible_dossiers(self.request.user).select_related("current_officer__user", "procedure")
        params = self.request.query_params
        status_code = params.get("status", "")
        if status_code.isascii() and status_code.isdigit():  # not "²", which isdigit() but int() refuses
            qs = qs.filter(status=int(status_code))
        if params.get("worklist") in selectors.WORKLISTS:
            qs = qs.filter(selectors.worklist_filter(params["worklist"], self.request.user))
        if params.get("procedure"):
            qs = qs.filter(procedure__code=params["procedure"])
        if params.get("q"):
            for word in fold(params["q"]).split():
                qs = qs.filter(search_text__contains=word)
        if self.action == "retrieve":  # the answer that shows the timeline (an intake answers from memory)
            events = DossierEvent.objects.select_related("to_department", "to_officer__user", "actor__user")
            qs = qs.prefetch_related(Prefetch("events", queryset=events.order_by("created_at", "id")))
        return qs.order_by("-registered_at", "-id")

    def retrieve(self, request, *args, **kwargs):
        dossier = self.get_object()
        access.record(request, AccessKind.API, dossier)  # the full record: ID number, phone, address
        return Response(self.get_serializer(dossier).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("status", OpenApiTypes.INT, description="National status code 1–10"),
            OpenApiParameter("worklist", OpenApiTypes.STR, enum=[*selectors.WORKLISTS]),
            OpenApiParameter("procedure", OpenApiTypes.STR, description="Procedure code"),
            OpenApiParameter(
                "q",
                OpenApiTypes.STR,
                description="Words of the code, the applicant's name or ID number, each contained, diacritics "
                "and case ignored (“nguyen van” finds “Nguyễn Văn”)",
            ),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=ActionRequestSerializer,
        responses={200: DossierDetailSerializer, 400: ERROR_SCHEMA, 403: ERROR_SCHEMA, 409: ERROR_SCHEMA},
        parameters=[OpenApiParameter("name", OpenApiTypes.STR, OpenApiParameter.PATH, enum=[*workflow.ACTIONS])],
    )
    @action(detail=True, methods=["post"], url_path=r"actions/(?P<name>[a-z_]+)")
    def perform_action(self, request, pk=None, name=None):
        if name not in workflow.ACTIONS:
            raise ApiError("unknown_action", _("Không có thao tác này."), status.HTTP_404_NOT_FOUND)
        dossier = self.get_object()
        body = ActionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        spec = workflow.ACTIONS[name]
        missing = [f for f in spec.required if not data.get(f)]
        if missing:
            raise ApiError("invalid_input", _("Thiếu thông tin bắt buộc: %s.") % ", ".join(missing))
        kwargs = {f: data[f] for f in spec.fields if f in data}
        if "items" in kwargs:
            kwargs["items"] = [services.MissingItem(i["name"], i["reason"]) for i in kwargs["items"]]
        if "components" in kwargs:
            # The kind comes from the procedure's list, in the service.
            kwargs["components"] = [
                services.SubmittedComponent(c["name"], "", c["count"]) for c in kwargs["components"]
            ]
        officer = selectors.officer_of(request.user)
        try:
            services.ACTION_FUNCTIONS[name](dossier, officer, expected_version=data["version"], **kwargs)
        except services.WorkflowError as exc:
            raise _api_error(exc) from None
        return Response(
            DossierDetailSerializer(self.get_queryset().get(pk=dossier.pk), context={"request": request}).data
        )

    @extend_schema(
        request=IntakeRequestSerializer,
        responses={201: DossierDetailSerializer, 400: ERROR_SCHEMA, 403: ERROR_SCHEMA},
    )
    def create(self, request, *args, **kwargs):
        """Tiếp nhận hồ sơ tại quầy: the registry's `receive`, through `services.receive_dossier`."""
        body = IntakeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        spec = workflow.RECEIVE
        kwargs = {f: data[f] for f in spec.fields if f in data}
        try:
            dossier = getattr(services, spec.service_name)(officer=selectors.officer_of(request.user), **kwargs)
        except services.WorkflowError as exc:
            raise _api_error(exc) from None
        # Answered from what the intake wrote (the dossier and its one event, in memory): the receiving
        # officer's department holds it, so the officer sees it; the answer equals GET /dossiers/<id>/.
        dossier.timeline = [dossier.intake_event]
        detail = IntakeAnswerSerializer(dossier, context={"request": request})
        return Response(detail.data, status=status.HTTP_201_CREATED)
