import pytest
from django_tenants.utils import tenant_context

from offices.models import Department
from offices.tests.factories import DepartmentFactory, OfficerFactory


@pytest.fixture
def in_danang(danang):
    """Run the test body inside Đà Nẵng's schema."""
    with tenant_context(danang):
        yield danang


@pytest.fixture
def reception_desk(in_danang):
    return DepartmentFactory(code="TTHCC", name="Trung tâm Phục vụ hành chính công", is_reception=True)


@pytest.fixture
def ward(in_danang):
    return DepartmentFactory(code="UBND-PHUONG", name="UBND Phường Hải Châu")


@pytest.fixture
def reception(reception_desk):
    return OfficerFactory(role="reception", department=reception_desk, user__username="motcua.test")


@pytest.fixture
def specialist(ward):
    return OfficerFactory(role="specialist", department=ward, user__username="chuyenvien.test")


@pytest.fixture
def leader(ward):
    return OfficerFactory(role="leader", department=ward, user__username="lanhdao.test")


@pytest.fixture
def officers(reception, specialist, leader):
    return {"reception": reception, "specialist": specialist, "leader": leader}


@pytest.fixture
def other_department(in_danang):
    return Department.objects.create(code="SXD", name="Sở Xây dựng")
