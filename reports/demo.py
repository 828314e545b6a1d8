"""Demo data (SPEC §7): the same every time, so anyone can try the product at once."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from coworking.models import Member
from coworking.months import month_first
from passes.models import (
    AllowanceCounter,
    HostDayCounter,
    Network,
    NetworkSpace,
    Pass,
    Scan,
    Visit,
)
from spaces.models import (
    Booking,
    Closure,
    Membership,
    Plan,
    Resource,
    Space,
    Training,
    TrainingRecord,
)
from spaces.opening_hours import intervals_on
from spaces.schedule import desk_periods

PASSWORD = "chtipass-demo"

SPACES = [
    ("mutualab", "Mutualab", "1 place de la Gare, 59000 Lille"),
    ("filature-roubaix", "La Filature", "12 rue de l'Épeule, 59100 Roubaix"),
    ("quai-tourcoing", "Le Quai", "3 quai du Canal, 59200 Tourcoing"),
    ("verriere-villeneuve", "La Verrière", "8 avenue du Pont de Bois, 59650 Villeneuve-d'Ascq"),
]
FIRST_NAMES = [
    "Léa",
    "Hugo",
    "Chloé",
    "Louis",
    "Manon",
    "Jules",
    "Inès",
    "Arthur",
    "Zoé",
    "Nathan",
    "Emma",
    "Théo",
    "Jade",
    "Lucas",
    "Sarah",
    "Maël",
    "Lina",
    "Tom",
    "Anaïs",
    "Noah",
    "Yasmine",
    "Karim",
    "Fatou",
    "Mehdi",
    "Agathe",
    "Basile",
    "Capucine",
    "Dorian",
    "Elsa",
    "Félix",
]
LAST_NAMES = [
    "Lefebvre",
    "Dubois",
    "Lemaire",
    "Delattre",
    "Vandenbussche",
    "Leclercq",
    "Deschamps",
    "Devos",
    "Verhaeghe",
    "Lambert",
    "Dupont",
    "Carpentier",
    "Wattez",
    "Hennebelle",
    "Declercq",
    "Bouchart",
    "Martin",
    "Benali",
    "Nguyen",
    "Diallo",
]


def demo_logins() -> list[tuple[str, str]]:
    logins = [
        ("camille@mutualab.example", "co-gérante de Mutualab"),
        ("alice@mutualab.example", "membre résidente de Mutualab"),
        ("bob@mutualab.example", "membre nomade de Mutualab"),
    ]
    logins += [
        (f"comanager@{slug}.example", f"co-gérant·e de {name}")
        for slug, name, _address in SPACES[1:]
    ]
    return logins


@transaction.atomic
def demo_seed(today: dt.date | None = None) -> bool:
    """Create the demo data once; return False if it is already there."""
    if Space.objects.filter(slug="mutualab").exists():
        return False
    rng = random.Random(59000)
    today = today or timezone.localdate()
    password = make_password(PASSWORD)
    long_ago = today - dt.timedelta(days=400)

    def person(email: str, first: str, last: str) -> Member:
        return Member.objects.create(
            email=email, first_name=first, last_name=last, password=password
        )

    spaces = {}
    for slug, name, address in SPACES:
        spaces[slug] = Space.objects.create(
            slug=slug,
            name=name,
            address=address,
            email=f"bonjour@{slug}.example",
        )
    mutualab = spaces["mutualab"]
    mutualab.opening_hours = {
        **mutualab.opening_hours,
        "sat": [["10:00", "18:00"]],
    }
    mutualab.save()

    plans = {}
    for space in spaces.values():
        plans[space.slug] = {
            "resident": Plan.objects.create(
                space=space, name="Résident", price_per_month=Decimal("250")
            ),
            "nomade": Plan.objects.create(
                space=space,
                name="Nomade 10 jours",
                desk_days_per_month=10,
                price_per_month=Decimal("120"),
            ),
            "decouverte": Plan.objects.create(
                space=space, name="Découverte", desk_days_per_month=1, price_per_month=Decimal("20")
            ),
        }

    laser = Training.objects.create(space=mutualab, name="Découpeuse laser — sécurité")
    printer = Training.objects.create(space=mutualab, name="Impression 3D — prise en main")
    resources: dict[str, list[Resource]] = {slug: [] for slug in spaces}
    for space in spaces.values():
        desks = 40 if space.slug == "mutualab" else 12
        for number in range(1, desks + 1):
            resources[space.slug].append(
                Resource(
                    space=space,
                    name=f"Poste {number:02d}",
                    kind=Resource.Kind.DESK,
                    desk_type=Resource.DeskType.HOT,
                    members_only=number > 4,
                )
            )
        for room, capacity in [("Salle Jean Bart", 8), ("Salle Vauban", 12), ("La Bulle", 2)]:
            resources[space.slug].append(
                Resource(
                    space=space,
                    name=room,
                    kind=Resource.Kind.ROOM,
                    capacity=capacity,
                    min_booking_minutes=30,
                    max_booking_minutes=240,
                )
            )
    resources["mutualab"] += [
        Resource(
            space=mutualab,
            name="Découpeuse laser",
            kind=Resource.Kind.MACHINE,
            training=laser,
            min_booking_minutes=30,
            max_booking_minutes=180,
            opening_hours={
                day: [["10:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")
            },
        ),
        Resource(
            space=mutualab,
            name="Imprimante 3D",
            kind=Resource.Kind.MACHINE,
            training=printer,
            min_booking_minutes=30,
            max_booking_minutes=480,
        ),
    ]
    for slug in resources:
        resources[slug] = Resource.objects.bulk_create(resources[slug])
    christmas = dt.date(today.year, 12, 24)
    Closure.objects.create(
        space=mutualab,
        starts_on=christmas,
        ends_on=christmas + dt.timedelta(days=8),
        reason="Fêtes de fin d'année",
    )

    # The people of SPEC §7.
    camille = person("camille@mutualab.example", "Camille", "Delattre")
    alice = person("alice@mutualab.example", "Alice", "Martin")
    bob = person("bob@mutualab.example", "Bob", "Leclercq")
    Membership.objects.create(
        member=camille,
        space=mutualab,
        plan=plans["mutualab"]["resident"],
        role=Membership.Role.CO_MANAGER,
        starts_on=long_ago,
    )
    Membership.objects.create(
        member=alice, space=mutualab, plan=plans["mutualab"]["resident"], starts_on=long_ago
    )
    Membership.objects.create(
        member=bob, space=mutualab, plan=plans["mutualab"]["nomade"], starts_on=long_ago
    )
    TrainingRecord.objects.create(
        training=laser, member=alice, granted_on=long_ago, granted_by=camille
    )
    for slug, _name, _address in SPACES[1:]:
        manager = person(
            f"comanager@{slug}.example", rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        )
        Membership.objects.create(
            member=manager,
            space=spaces[slug],
            plan=plans[slug]["resident"],
            role=Membership.Role.CO_MANAGER,
            starts_on=long_ago,
        )

    # About 300 members: 300 at Mutualab in all, and a few dozen at each partner.
    members_by_space: dict[str, list[Member]] = {"mutualab": [alice, bob, camille]}
    counts = {
        "mutualab": 297,
        "filature-roubaix": 60,
        "quai-tourcoing": 45,
        "verriere-villeneuve": 40,
    }
    people = []
    for slug, count in counts.items():
        for index in range(count):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            people.append(
                (
                    slug,
                    Member(
                        email=f"{first.lower()}.{last.lower()}.{index}@{slug}.example".replace(
                            "é", "e"
                        )
                        .replace("ë", "e")
                        .replace("ï", "i"),
                        first_name=first,
                        last_name=last,
                        password=password,
                    ),
                )
            )
    created = Member.objects.bulk_create([member for _slug, member in people])
    memberships = []
    for (slug, _unsaved), member in zip(people, created, strict=True):
        members_by_space.setdefault(slug, []).append(member)
        plan = rng.choices(list(plans[slug].values()), weights=[3, 5, 1])[0]
        memberships.append(
            Membership(
                member=member,
                space=spaces[slug],
                plan=plan,
                starts_on=today - dt.timedelta(days=rng.randint(30, 700)),
            )
        )
    Membership.objects.bulk_create(memberships)

    # Three weeks of history and two weeks ahead, without overlaps by construction.
    bookings = []
    for slug, space in spaces.items():
        members = members_by_space[slug]
        for offset in range(-21, 15):
            day = today + dt.timedelta(days=offset)
            closed = Closure.objects.filter(
                space=space, starts_on__lte=day, ends_on__gte=day
            ).exists()
            if closed or not intervals_on(space.opening_hours, day, space.tz):
                continue
            for resource in resources[slug]:
                resource.space = space
                if resource.kind == Resource.Kind.DESK:
                    if rng.random() < 0.55:
                        periods = desk_periods(resource, day)
                        name = rng.choices(["day", "morning", "afternoon"], weights=[6, 2, 2])[0]
                        start, end = periods[name]
                        bookings.append(
                            Booking(
                                resource=resource, member=rng.choice(members), start=start, end=end
                            )
                        )
                    continue
                for opens, closes in intervals_on(
                    resource.opening_hours or space.opening_hours, day, space.tz
                ):
                    cursor = opens + dt.timedelta(minutes=30 * rng.randint(0, 4))
                    while cursor + dt.timedelta(hours=1) <= closes:
                        length = dt.timedelta(minutes=rng.choice([30, 60, 90, 120]))
                        if rng.random() < 0.45 and cursor + length <= closes:
                            bookings.append(
                                Booking(
                                    resource=resource,
                                    member=rng.choice(members),
                                    start=cursor,
                                    end=cursor + length,
                                )
                            )
                        cursor += length + dt.timedelta(minutes=rng.choice([0, 30, 60]))
    # Alice's own upcoming desk, so her pages show something.
    desk = resources["mutualab"][10]
    for offset in range(1, 8):
        day = today + dt.timedelta(days=offset)
        periods = desk_periods(desk, day)
        if periods and not any(
            b.resource is desk and b.start == periods["day"][0] for b in bookings
        ):
            start, end = periods["day"]
            bookings = [
                b for b in bookings if not (b.resource is desk and b.start < end and start < b.end)
            ]
            bookings.append(Booking(resource=desk, member=alice, start=start, end=end))
            break
    Booking.objects.bulk_create(bookings, batch_size=1000)
    _demo_network(rng, today, spaces, members_by_space, alice=alice, bob=bob)
    return True


def _demo_network(rng, today, spaces, members_by_space, *, alice, bob) -> None:
    """The ch'tipass network, a pass for every member, and three weeks of visits.

    Counters are built from the visits so that allowances shown match what was used; alice and
    bob keep visits left at every partner space this month.
    """
    network = Network.objects.create(
        slug="chtipass-metropole",
        name="ch'tipass Métropole",
        monthly_visits=8,
        monthly_visits_per_host=4,
        day_rate=Decimal("15.00"),
    )
    capacity = {
        "mutualab": 15,
        "filature-roubaix": 6,
        "quai-tourcoing": 5,
        "verriere-villeneuve": 5,
    }
    for slug, space in spaces.items():
        NetworkSpace.objects.create(
            network=network,
            space=space,
            daily_visitor_capacity=capacity[slug],
            joined_on=today - dt.timedelta(days=400),
        )
    memberships = Membership.objects.filter(status=Membership.Status.ACTIVE).select_related("space")
    passes = Pass.objects.bulk_create(
        [Pass(network=network, membership=m, member_id=m.member_id) for m in memberships]
    )
    pass_of = {p.member_id: p for p in passes}
    home_of = {m.member_id: m.space for m in memberships}

    visits: list[Visit] = []
    network_used: Counter[tuple[int, dt.date]] = Counter()
    host_used: Counter[tuple[int, int, dt.date]] = Counter()
    host_day: Counter[tuple[int, dt.date]] = Counter()
    seen = set()
    for offset in range(-21, 0):
        day = today + dt.timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for host_slug, host in spaces.items():
            for _ in range(rng.randint(1, capacity[host_slug])):
                home_slug = rng.choice([slug for slug in spaces if slug != host_slug])
                member = rng.choice(members_by_space[home_slug])
                month = month_first(day)
                key = (member.pk, host.pk, day)
                if key in seen or member.pk in {alice.pk, bob.pk} or member.pk not in pass_of:
                    continue
                if (
                    network_used[(member.pk, month)] >= network.monthly_visits
                    or host_used[(member.pk, host.pk, month)] >= network.monthly_visits_per_host
                    or host_day[(host.pk, day)] >= capacity[host_slug]
                ):
                    continue
                seen.add(key)
                network_used[(member.pk, month)] += 1
                host_used[(member.pk, host.pk, month)] += 1
                host_day[(host.pk, day)] += 1
                visits.append(
                    Visit(
                        member_id=member.pk,
                        pass_obj=pass_of[member.pk],
                        network=network,
                        host=host,
                        home=home_of[member.pk],
                        date=day,
                    )
                )
    # Alice already went to La Filature once this month; she and Bob have visits left.
    first_of_month = month_first(today)
    if first_of_month < today:
        visits.append(
            Visit(
                member_id=alice.pk,
                pass_obj=pass_of[alice.pk],
                network=network,
                host=spaces["filature-roubaix"],
                home=spaces["mutualab"],
                date=first_of_month,
            )
        )
        network_used[(alice.pk, first_of_month)] += 1
        host_used[(alice.pk, spaces["filature-roubaix"].pk, first_of_month)] += 1
        host_day[(spaces["filature-roubaix"].pk, first_of_month)] += 1
    visits = Visit.objects.bulk_create(visits, batch_size=1000)
    AllowanceCounter.objects.bulk_create(
        [
            AllowanceCounter(member_id=m, network=network, month=month, used=n)
            for (m, month), n in network_used.items()
        ]
        + [
            AllowanceCounter(member_id=m, network=network, month=month, host_id=h, used=n)
            for (m, h, month), n in host_used.items()
        ],
        batch_size=1000,
    )
    HostDayCounter.objects.bulk_create(
        [
            HostDayCounter(network=network, host_id=h, date=day, used=n)
            for (h, day), n in host_day.items()
        ]
    )
    scans = []
    for visit in visits:
        moment = dt.datetime.combine(
            visit.date, dt.time(8, 30 + rng.randint(0, 29)), tzinfo=visit.host.tz
        )
        scans.append(
            Scan(
                host=visit.host,
                credential="CP1:(demo)",
                pass_obj=visit.pass_obj,
                scanned_at=moment,
                received_at=moment,
                decision="accepted",
                visit=visit,
            )
        )
        if rng.random() < 0.05:
            scans.append(
                Scan(
                    host=visit.host,
                    credential="CP1:(demo)",
                    scanned_at=moment,
                    received_at=moment,
                    decision="refused",
                    reason=rng.choice(["stale_code", "expired", "bad_signature"]),
                )
            )
    Scan.objects.bulk_create(scans, batch_size=1000)
