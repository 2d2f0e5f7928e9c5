"""The signed-in user's own page: their API token, and a button that replaces it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from workbench.accounts import services
from workbench.accounts.selectors import role_of


@login_required(login_url="quality:login")
def token_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:  # login_required sent anonymous callers to the sign-in page
        raise PermissionDenied
    if request.method == "POST":
        services.token_rotate(user=user)
        messages.info(request, "A new token was made; the old one no longer works.")
        return redirect("accounts:token")
    role = role_of(user)
    return render(
        request,
        "accounts/token.html",
        {"token": services.token_get(user=user), "role": role.label if role else "no role"},
    )
