import factory

from dossiers import services
from dossiers.models import ComponentKind, Procedure, ProcedureComponent
from offices.tests.factories import DepartmentFactory


class ProcedureFactory(factory.django.DjangoModelFactory):
    """A procedure with two required components and one optional."""

    class Meta:
        model = Procedure
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"9.{n:06d}")
    name = factory.Sequence(lambda n: f"Thủ tục thử {n}")
    field = "Hộ tịch"
    department = factory.SubFactory(DepartmentFactory)
    processing_days = 3
    fee = 0

    @factory.post_generation
    def with_components(obj, create, extracted, **kwargs):
        if not create or obj.components.exists():
            return
        ProcedureComponent.objects.bulk_create(
            [
                ProcedureComponent(procedure=obj, position=1, name="Tờ khai", kind=ComponentKind.ORIGINAL),
                ProcedureComponent(procedure=obj, position=2, name="Giấy chứng sinh", kind=ComponentKind.ORIGINAL),
                ProcedureComponent(
                    procedure=obj, position=3, name="Văn bản ủy quyền", kind=ComponentKind.COPY, required=False
                ),
            ]
        )


def all_components(procedure):
    return [services.SubmittedComponent(c.name, c.kind, c.count) for c in procedure.components.all()]


def receive(officer, procedure=None, **applicant):
    """A dossier received at the counter by `officer` with every component."""
    procedure = procedure or ProcedureFactory()
    data = {"name": "Nguyễn Văn An", "id_number": "048090001234", "phone": "0905123456", "address": "12 Lê Lợi"}
    data.update(applicant)
    return services.receive_dossier(
        officer=officer, procedure=procedure, applicant=services.Applicant(**data), components=all_components(procedure)
    )
