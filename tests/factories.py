import datetime as dt

import factory
from django.contrib.auth.hashers import make_password

from coworking.models import Member
from spaces.models import Membership, Plan, Resource, Space, Training, TrainingRecord

PASSWORD = "correct horse battery staple"


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    first_name = factory.Sequence(lambda n: f"Person{n}")
    last_name = "Test"
    password = factory.LazyFunction(lambda: make_password(PASSWORD))


class SpaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Space

    slug = factory.Sequence(lambda n: f"space-{n}")
    name = factory.Sequence(lambda n: f"Space {n}")


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan

    space = factory.SubFactory(SpaceFactory)
    name = factory.Sequence(lambda n: f"Plan {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    member = factory.SubFactory(MemberFactory)
    space = factory.SubFactory(SpaceFactory)
    starts_on = dt.date(2025, 1, 1)


class ResourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resource

    space = factory.SubFactory(SpaceFactory)
    name = factory.Sequence(lambda n: f"Resource {n}")
    kind = Resource.Kind.ROOM


class TrainingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Training

    space = factory.SubFactory(SpaceFactory)
    name = factory.Sequence(lambda n: f"Training {n}")


class TrainingRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingRecord

    training = factory.SubFactory(TrainingFactory)
    member = factory.SubFactory(MemberFactory)
    granted_on = dt.date(2025, 1, 1)
