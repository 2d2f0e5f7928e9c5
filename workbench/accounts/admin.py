from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from workbench.accounts import services
from workbench.accounts.models import Account
from workbench.projects.models import Project


class AnnotatorAddForm(forms.ModelForm):
    """Adding an annotator here creates their Label Studio account too."""

    email = forms.EmailField()
    first_name = forms.CharField(required=False)
    last_name = forms.CharField(required=False)
    projects = forms.ModelMultipleChoiceField(Project.objects.all(), required=False)

    class Meta:
        model = Account
        fields: list[str] = []


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "ls_user_id", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email"]
    readonly_fields = ["ls_user_id", "created_at"]

    def get_form(self, request, obj=None, change=False, **kwargs):  # type: ignore[no-untyped-def]
        if obj is None:
            kwargs["form"] = AnnotatorAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        if obj is None:
            return ["email", "first_name", "last_name", "projects"]
        return ["user", "role", "ls_user_id", "created_at"]

    def save_model(self, request: HttpRequest, obj: Account, form: forms.ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        created = services.annotator_create(
            email=form.cleaned_data["email"],
            first_name=form.cleaned_data["first_name"],
            last_name=form.cleaned_data["last_name"],
            projects=list(form.cleaned_data["projects"]),
        )
        obj.pk = Account.objects.get(user_id=created.user.pk).pk
        obj.refresh_from_db()
        messages.info(
            request,
            f"Annotator added. They log in to Label Studio at {created.label_studio_url} as "
            f"{created.login_email} with the password {created.password} (shown once).",
        )

    def save_related(self, request, form, formsets, change):  # type: ignore[no-untyped-def]
        if change:
            super().save_related(request, form, formsets, change)
