"""Forms of the archive's public pages and of the admin."""

from django import forms
from django.core.exceptions import ValidationError

from .models import Document, DocumentKind
from .services import clean_revision_text, clean_summary


class DocumentFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=200)
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind")] + list(DocumentKind.choices))
    language = forms.CharField(required=False, max_length=35)


class DiffForm(forms.Form):
    from_ = forms.IntegerField(label="From revision", min_value=1, max_value=2**31 - 1)
    to = forms.IntegerField(label="To revision", min_value=1, max_value=2**31 - 1)

    def __init__(self, data=None, **kwargs):
        if data is not None:
            data = {"from_": data.get("from"), "to": data.get("to")}
        super().__init__(data, **kwargs)


class DocumentAdminForm(forms.ModelForm):
    """
    Metadata plus the text of a new revision. ``base_revision`` carries the
    revision the archivist opened, so a concurrent save is a conflict and
    never a silent overwrite.
    """

    new_text = forms.CharField(
        label="Text",
        widget=forms.Textarea(attrs={"rows": 30, "cols": 100}),
        required=True,
        strip=False,
        help_text="Saving changed text records a new revision; unchanged text records nothing.",
    )
    edit_summary = forms.CharField(
        label="Edit summary",
        max_length=500,
        required=False,
        help_text="What changed and why. Required when the text changes.",
    )
    base_revision = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)
    original_url = forms.URLField(label="Original URL", max_length=2000, required=False, assume_scheme="https")

    class Meta:
        model = Document
        fields = [
            "slug",
            "title",
            "kind",
            "language",
            "author",
            "site",
            "original_url",
            "published",
            "captured",
            "rights",
            "notes",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.instance.current_revision if self.instance.pk else None
        if current is not None:
            self.fields["new_text"].initial = current.text
            self.fields["base_revision"].initial = current.number
        else:
            self.fields["base_revision"].initial = 0

    def clean_new_text(self):
        try:
            return clean_revision_text(self.cleaned_data["new_text"])
        except ValidationError as error:
            raise ValidationError(error.messages) from None

    def clean(self):
        cleaned = super().clean()
        text = cleaned.get("new_text")
        if text is None:
            return cleaned
        current = self.instance.current_revision if self.instance.pk else None
        base = cleaned.get("base_revision") or 0
        current_number = current.number if current else 0
        if base != current_number:
            raise ValidationError(
                f"This document is now at revision {current_number}; you started from revision "
                f"{base}. Your text was not saved. Reload the page and apply your change again.",
                code="conflict",
            )
        self.text_changed = current is None or current.text != text
        if self.text_changed:
            try:
                cleaned["edit_summary"] = clean_summary(cleaned.get("edit_summary"))
            except ValidationError as error:
                self.add_error("edit_summary", error)
        return cleaned
