"""GDPR for members: download all my data, erase my account."""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from coworking.lockout import password_confirm
from coworking.privacy import member_erase, member_export

from .errors import error_response


class MyDataExportView(APIView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "pass_credentials"

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        document = json.dumps(member_export(request.user), ensure_ascii=False, indent=2)
        filename = f"chtipass-{timezone.localdate():%Y-%m-%d}.json"
        return HttpResponse(
            document,
            content_type="application/json; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )


class EraseRequestSerializer(serializers.Serializer):
    password = serializers.CharField(trim_whitespace=False, write_only=True)


class MyAccountEraseView(APIView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    @extend_schema(
        request=EraseRequestSerializer, responses={204: OpenApiResponse(description="Erased.")}
    )
    def post(self, request):
        data = EraseRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # Counted like a login: a stolen token does not give unlimited guesses of the password.
        if not password_confirm(request._request, request.user, data.validated_data["password"]):
            return error_response(
                "invalid_password",
                _("Mot de passe incorrect."),
                status.HTTP_400_BAD_REQUEST,
                {"password": [_("Mot de passe incorrect.")]},
            )
        member_erase(request.user, actor=request.user, reason="self")
        return Response(status=status.HTTP_204_NO_CONTENT)
