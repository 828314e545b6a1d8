"""Shapes of the ch'tipass API (SPEC §5)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from passes.models import PartnerKey, Pass, Scan, Visit
from passes.scanning import MAX_BATCH

from .fields import MomentField


class AllowanceSerializer(serializers.Serializer):
    network_left = serializers.IntegerField()
    per_host_left = serializers.DictField(child=serializers.IntegerField())


class UpcomingCredentialSerializer(serializers.Serializer):
    counter = serializers.IntegerField()
    credential = serializers.CharField()


class MyPassSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.CharField()
    network = serializers.CharField()
    home_space = serializers.CharField()
    credential = serializers.CharField(allow_null=True)
    counter = serializers.IntegerField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    server_time = serializers.DateTimeField()
    window_seconds = serializers.IntegerField()
    allowance = AllowanceSerializer()
    upcoming = UpcomingCredentialSerializer(many=True, required=False)


class ScanRequestSerializer(serializers.Serializer):
    credential = serializers.CharField(max_length=400, trim_whitespace=True)
    scanned_at = MomentField(required=False)
    nonce = serializers.CharField(max_length=64, required=False)


class BatchItemSerializer(ScanRequestSerializer):
    scanned_at = MomentField()
    nonce = serializers.CharField(max_length=64)
    device_decision = serializers.ChoiceField(choices=["accepted", "refused"], default="accepted")


class BatchRequestSerializer(serializers.Serializer):
    # many=True makes a ListSerializer, which takes max_length (the stub's __init__ does not).
    scans = BatchItemSerializer(many=True, allow_empty=False, max_length=MAX_BATCH)  # type: ignore[call-arg]

    def validate_scans(self, items):
        nonces = [item["nonce"] for item in items]
        if len(set(nonces)) != len(nonces):
            raise serializers.ValidationError(
                _("Chaque nonce ne figure qu'une fois."), code="duplicate_nonce"
            )
        return items


class VisitRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    date = serializers.DateField()
    host = serializers.CharField()


class VisitorSerializer(serializers.Serializer):
    first_name = serializers.CharField()
    photo_url = serializers.CharField(allow_null=True)
    home_space = serializers.CharField()


class ScanAllowanceSerializer(serializers.Serializer):
    network_left = serializers.IntegerField()
    host_left = serializers.IntegerField()


class ScanResultSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Scan.Decision.choices)
    reason = serializers.ChoiceField(choices=Scan.Reason.choices, allow_null=True)
    already_checked_in = serializers.BooleanField()
    visit = VisitRefSerializer(allow_null=True)
    visitor = VisitorSerializer(allow_null=True)
    allowance = ScanAllowanceSerializer(allow_null=True)
    id_check_required = serializers.BooleanField()
    offline = serializers.BooleanField()
    flagged = serializers.BooleanField()
    flag_reason = serializers.CharField(allow_null=True)
    nonce = serializers.CharField(allow_null=True)


class BatchResultSerializer(serializers.Serializer):
    results = ScanResultSerializer(many=True)


class PartnerKeySerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="prefix", read_only=True)

    class Meta:
        model = PartnerKey
        fields = ["id", "name", "prefix", "created", "expiry_date", "revoked", "last_used_at"]
        read_only_fields = fields


class PartnerKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50)


class PartnerKeyCreatedSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    key = serializers.CharField(help_text=_("Affichée une seule fois : notez-la."))


class PassSerializer(serializers.ModelSerializer):
    member_name = serializers.CharField(source="member.get_full_name", read_only=True)
    network = serializers.CharField(source="network.slug", read_only=True)
    home_space = serializers.CharField(source="membership.space.slug", read_only=True)

    class Meta:
        model = Pass
        fields = [
            "id",
            "member",
            "member_name",
            "network",
            "home_space",
            "status",
            "issued_at",
            "status_changed_at",
            "status_reason",
        ]
        read_only_fields = fields


class PassActionSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class ScanSerializer(serializers.ModelSerializer):
    host = serializers.CharField(source="host.slug", read_only=True)
    # Empty for an accepted scan: read-only model fields lose `blank`, so the schema must be told.
    reason = serializers.ChoiceField(choices=Scan.Reason.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Scan
        fields = [
            "id",
            "host",
            "pass_obj",
            "kid",
            "counter",
            "scanned_at",
            "received_at",
            "decision",
            "reason",
            "already_checked_in",
            "offline",
            "flagged",
            "nonce",
            "visit",
        ]
        read_only_fields = fields


class VisitSerializer(serializers.ModelSerializer):
    host = serializers.CharField(source="host.slug", read_only=True)
    home = serializers.CharField(source="home.slug", read_only=True)
    member_name = serializers.CharField(source="member.first_name", read_only=True)

    class Meta:
        model = Visit
        fields = [
            "id",
            "date",
            "host",
            "home",
            "member",
            "member_name",
            "uses_allowance",
            "flagged",
            "flag_reason",
            "created_at",
        ]
        read_only_fields = fields
