import factory
from django.contrib.auth.models import User

from offices.models import Department, Officer
from offices.roles import assign_role

PASSWORD = "Dung-mat-khau-nay-1"


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"PB{n:03d}")
    name = factory.Sequence(lambda n: f"Phòng ban {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"canbo{n}")
    first_name = "An"
    last_name = "Nguyễn Văn"
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OfficerFactory(factory.django.DjangoModelFactory):
    """An officer with a role: OfficerFactory(role="specialist"); reception officer by default."""

    class Meta:
        model = Officer
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    department = factory.SubFactory(DepartmentFactory)
    title = "Cán bộ"
    phone = "0905123456"

    @factory.post_generation
    def role(obj, create, extracted, **kwargs):
        if create:
            assign_role(obj.user, extracted or "reception")
