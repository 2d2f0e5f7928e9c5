"""Sign-in to the dashboard with failed attempts throttled (Django's cache counts them).

A failure counts against the pair (e-mail, client address) and against the address alone:
``LOGIN_FAILURES_PER_ACCOUNT`` wrong passwords for one e-mail from one address, or
``LOGIN_FAILURES_PER_ADDRESS`` from one address for any e-mails (password spraying), block
further attempts from there for ``LOGIN_LOCKOUT_SECONDS`` (429) even with the right password. A
success clears the pair's count. Counting by pair means a stranger cannot lock a user out from
the user's own address. The counts live in the ``default`` cache: with several server processes
set ``CACHE_URL`` to a shared cache (Redis), or each process counts on its own.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from workbench.accounts.selectors import is_admin

_PREFIX = "workbench:login-failures:"


def _keys(request: HttpRequest) -> tuple[str, str]:
    address = request.META.get("REMOTE_ADDR", "") or "unknown"
    email = str(request.POST.get("username", "")).strip().lower()
    pair = hashlib.sha256(f"{email}\0{address}".encode()).hexdigest()
    return f"{_PREFIX}pair:{pair}", f"{_PREFIX}address:{address}"


def _blocked(request: HttpRequest) -> bool:
    pair, address = _keys(request)
    per_account: int = settings.LOGIN_FAILURES_PER_ACCOUNT
    per_address: int = settings.LOGIN_FAILURES_PER_ADDRESS
    return int(cache.get(pair, 0)) >= per_account or int(cache.get(address, 0)) >= per_address


def _count_failure(request: HttpRequest) -> None:
    for key in _keys(request):
        # add() starts the window; incr() keeps its expiry (no sliding window to game).
        if not cache.add(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS):
            try:
                cache.incr(key)
            except ValueError:  # expired between add() and incr()
                cache.add(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS)


class ThrottledLoginView(auth_views.LoginView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if _blocked(request):
            form = self.get_form()
            form.errors.clear()
            minutes = max(1, settings.LOGIN_LOCKOUT_SECONDS // 60)
            context = self.get_context_data(
                form=form, throttled=f"Too many failed sign-ins; try again in {minutes} minutes."
            )
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        _count_failure(self.request)
        return super().form_invalid(form)

    def get_default_redirect_url(self) -> str:
        """Without a ``next`` link: admins land on label quality, everyone else (ML engineers may
        not open it) on the rounds and releases pages."""
        return reverse("quality:index" if is_admin(self.request.user) else "rounds:index")

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        cache.delete(_keys(self.request)[0])
        return super().form_valid(form)
