from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from workbench.accounts.models import Account, Role


def role_of(user: AbstractBaseUser | AnonymousUser) -> Role | None:
    if not user.is_authenticated:
        return None
    if getattr(user, "is_superuser", False):
        return Role.ADMIN
    account = Account.objects.filter(user_id=user.pk).only("role").first()
    return Role(account.role) if account else None


def can_manage_projects(user: AbstractBaseUser | AnonymousUser) -> bool:
    return role_of(user) in (Role.ADMIN, Role.ML_ENGINEER)


def is_admin(user: AbstractBaseUser | AnonymousUser) -> bool:
    return role_of(user) is Role.ADMIN


def can_see_gold(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Gold answers are the test annotators are scored on: an annotator who read them could pass
    every gold check, so only admins and ML engineers see them."""
    return can_manage_projects(user)
