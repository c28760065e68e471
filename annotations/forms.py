"""
Forms of the reading page and the critique pages: filing a critique of a
passage, editing one, replying to one, flagging one.

They only parse what the browser sent. The rules (categories, evidence,
lengths, whether the quote names one passage) live in
``annotations.services``; its ValidationError is mapped back onto the fields
with ``add_service_errors`` so the scholar sees each message where it belongs.
"""

from functools import partial

from django import forms

from annotations.anchoring.selectors import CONTEXT_LENGTH
from archive.text import normalize_text

from .evidence import FIELD_LABELS, FIELDS, KIND_LABELS, REFERENCE, REFERENCE_ONLY, WEB, evidence_shown
from .models import CATEGORIES_NEEDING_EVIDENCE, CATEGORY_DEFINITIONS, CATEGORY_SIGNS, Category
from .services import MAX_EVIDENCE

EVIDENCE_ROWS_SHOWN = 3
# Every field either kind of source has, in the order the form shows them.
EVIDENCE_FIELDS = ("url", "title", *REFERENCE_ONLY, "note")
EVIDENCE_WIDGETS = {"url": forms.URLInput}
EVIDENCE_ATTRS = {
    "url": {"placeholder": "https://…"},
    "year": {"inputmode": "numeric", "size": 10},
    "locator": {"placeholder": "p. 214, ch. 7…"},
    "doi": {"placeholder": "10.1017/…"},
    "isbn": {"inputmode": "numeric"},
}
EVIDENCE_HELP = {
    "url": "Required for a web page; optional for a book or article.",
    "doi": "Optional.",
    "isbn": "Optional: 10 or 13 digits.",
}
MARKDOWN_HELP = "Markdown is allowed: *emphasis*, **strong**, [a link](https://example.org), lists and > quotations."


def category_guide():
    """Each category with its sign, definition and whether it needs a source, for the form's guide."""
    return [
        {
            "value": value,
            "label": label,
            "sign": CATEGORY_SIGNS[value],
            "definition": CATEGORY_DEFINITIONS[value],
            "needs_evidence": value in CATEGORIES_NEEDING_EVIDENCE,
        }
        for value, label in Category.choices
    ]


def categories_needing_evidence_text():
    """``factual error, disputed figure or misattribution``: the categories that must cite a source."""
    labels = [Category(value).label.lower() for value in Category.values if value in CATEGORIES_NEEDING_EVIDENCE]
    return ", ".join(labels[:-1]) + " or " + labels[-1] if len(labels) > 1 else labels[0]


class CritiqueContentForm(forms.Form):
    """What a critique says: category, explanation and evidence rows."""

    category = forms.ChoiceField(
        choices=[("", "Choose a category…"), *Category.choices],
        error_messages={"required": "Choose a category."},
    )
    # Required-ness and length are the service's rules; it words the messages.
    body = forms.CharField(
        label="Explanation",
        required=False,
        strip=False,
        help_text=MARKDOWN_HELP,
        widget=forms.Textarea(attrs={"rows": 6}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.evidence_errors = self.error_class()
        # Fields for the most evidence a critique may cite; the page shows
        # three rows, or as many as are filled in. Each row is a web page or
        # a reference; without JavaScript every field shows (evidence.js
        # hides and disables a reference's own fields while "web page" is chosen).
        for number in range(1, MAX_EVIDENCE + 1):
            self.fields[f"evidence_{number}_kind"] = forms.ChoiceField(
                label="Kind of source",
                choices=list(KIND_LABELS.items()),
                required=False,
                initial=WEB,
                widget=forms.RadioSelect,
            )
            for field in EVIDENCE_FIELDS:
                self.fields[f"evidence_{number}_{field}"] = forms.CharField(
                    label=FIELD_LABELS[field],
                    required=False,
                    max_length=4000,
                    widget=EVIDENCE_WIDGETS.get(field, forms.TextInput)(attrs=EVIDENCE_ATTRS.get(field, {})),
                    help_text=EVIDENCE_HELP.get(field, ""),
                )

    def _row_kind(self, number):
        value = self[f"evidence_{number}_kind"].value()
        return value if value in KIND_LABELS else WEB

    def evidence_rows(self):
        """The rows to show, each ``{number, kind, kind_field, shared, reference_only, note}`` of bound fields."""
        shown = EVIDENCE_ROWS_SHOWN
        for number in range(1, MAX_EVIDENCE + 1):
            if any(self[f"evidence_{number}_{field}"].value() for field in EVIDENCE_FIELDS):
                shown = max(shown, number)
        rows = []
        for number in range(1, shown + 1):
            field = partial(_bound, self, number)
            rows.append(
                {
                    "number": number,
                    "kind": self._row_kind(number),
                    "kind_field": self[f"evidence_{number}_kind"],
                    "shared": [field("url"), field("title")],
                    "reference_only": [field(name) for name in REFERENCE_ONLY],
                    "note": field("note"),
                }
            )
        return rows

    def cleaned_evidence(self):
        """
        Every row as the service takes it: a web page's fields, or a
        reference's with ``kind``. A web page row keeps any reference field
        filled in, so the service says so rather than the text being lost.
        The service drops empty rows and numbers the rest.
        """
        rows = []
        for number in range(1, MAX_EVIDENCE + 1):
            kind = self.cleaned_data.get(f"evidence_{number}_kind") or WEB
            values = {field: self.cleaned_data.get(f"evidence_{number}_{field}", "") for field in EVIDENCE_FIELDS}
            if kind == REFERENCE:
                rows.append({"kind": REFERENCE, **{field: values[field] for field in FIELDS[REFERENCE]}})
            else:
                web = {field: value for field, value in values.items() if field in FIELDS[WEB] or value}
                rows.append({"kind": WEB, **web})
        # Trailing empty rows would only shift no numbers; drop them to keep the list short.
        while rows and not any(value for field, value in rows[-1].items() if field != "kind"):
            rows.pop()
        return rows

    def content(self):
        return {
            "category": self.cleaned_data["category"],
            "body": self.cleaned_data["body"],
            "evidence": self.cleaned_evidence(),
        }

    # Keys of the service's ValidationError and the field each message is shown next to.
    SERVICE_FIELDS = {"category": "category", "body": "body"}

    def add_service_errors(self, error):
        for key, messages in error.message_dict.items():
            if key == "evidence":
                self._add_evidence_errors(error.error_dict["evidence"])
            elif key in self.SERVICE_FIELDS:
                for message in messages:
                    self.add_error(self.SERVICE_FIELDS[key], message)
            else:
                for message in messages:
                    self.add_error(None, message)

    def _add_evidence_errors(self, errors):
        """Each evidence message next to its field (a row's kind when the row as a whole is wrong)."""
        for error in errors:
            message = error.message
            source, field = getattr(message, "source", None), getattr(message, "field", None)
            if source is not None and source <= MAX_EVIDENCE:
                self.add_error(f"evidence_{source}_{field or 'kind'}", str(message))
            else:
                self.evidence_errors.append(str(message))

    @classmethod
    def initial_from_version(cls, version):
        initial = {"category": version.category, "body": version.body}
        for number, item in enumerate(version.evidence, start=1):
            shown = evidence_shown(item)
            initial[f"evidence_{number}_kind"] = shown["kind"]
            for field in EVIDENCE_FIELDS:
                initial[f"evidence_{number}_{field}"] = shown.get(field, "")
        return initial


class ReplyForm(CritiqueContentForm):
    """A reply to a critique, or its edit: what it says and its evidence (optional); no category."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["category"]
        self.fields["body"].label = "Your reply"

    def content(self):
        return {"body": self.cleaned_data["body"], "evidence": self.cleaned_evidence()}

    SERVICE_FIELDS = {"body": "body"}

    @classmethod
    def initial_from_version(cls, version):
        initial = super().initial_from_version(version)
        del initial["category"]
        return initial


def _bound(form, number, field):
    return form[f"evidence_{number}_{field}"]


class CritiqueForm(CritiqueContentForm):
    """A new critique: the passage (quote and positions) and what is said about it."""

    # The quote is the passage itself, so nothing may be stripped from it.
    exact = forms.CharField(
        label="Quote",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Select the passage in the text, or type or paste it here exactly as it is written.",
    )
    start = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    end = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    prefix = forms.CharField(required=False, strip=False, max_length=4000, widget=forms.HiddenInput)
    suffix = forms.CharField(required=False, strip=False, max_length=4000, widget=forms.HiddenInput)

    field_order = ["exact", "category", "body"]
    SERVICE_FIELDS = {**CritiqueContentForm.SERVICE_FIELDS, "selector": "exact"}

    # Browsers send line breaks in form fields as CRLF; revision texts hold only LF.
    def clean_exact(self):
        return normalize_text(self.cleaned_data["exact"])

    def clean_prefix(self):
        return normalize_text(self.cleaned_data["prefix"])[-CONTEXT_LENGTH:]

    def clean_suffix(self):
        return normalize_text(self.cleaned_data["suffix"])[:CONTEXT_LENGTH]

    def clean(self):
        data = super().clean()
        # The hidden positions come from the page's script; the scholar can only act on the quote.
        if any(name in self.errors for name in ("start", "end", "prefix", "suffix")):
            self.add_error(
                "exact",
                ("The position of the selection was not understood: select the passage again, or type the quote."),
            )
        return data

    def selector(self):
        data = self.cleaned_data
        return {key: data[key] for key in ("exact", "prefix", "suffix", "start", "end")}


class FlagForm(forms.Form):
    reason = forms.CharField(
        label="What is wrong with this critique?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Moderators read every flag. Say what is wrong: a misreading, a broken source, abuse…",
    )

    def add_service_errors(self, error):
        for key, messages in error.message_dict.items():
            for message in messages:
                self.add_error("reason" if key == "reason" else None, message)


class ReattachForm(forms.Form):
    """The passage a detached critique is placed on again: the selection's positions and quote, or a typed quote."""

    exact = forms.CharField(label="Passage in this revision", required=False, strip=False, max_length=20_000)
    start = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    end = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def clean_exact(self):
        return normalize_text(self.cleaned_data["exact"])


class PassageForm(forms.Form):
    """
    A passage selected again on the reading page (``?reselect=``) and carried
    back to the edit page: the revision's number, the quote and its positions.
    The edit page keeps them in hidden fields and shows the quote as text.
    """

    passage_revision = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    passage_exact = forms.CharField(required=False, strip=False, max_length=20_000, widget=forms.HiddenInput)
    passage_start = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    passage_end = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    passage_prefix = forms.CharField(required=False, strip=False, max_length=4000, widget=forms.HiddenInput)
    passage_suffix = forms.CharField(required=False, strip=False, max_length=4000, widget=forms.HiddenInput)

    def clean_passage_exact(self):
        return normalize_text(self.cleaned_data["passage_exact"])

    def clean(self):
        data = super().clean()
        if self.errors:
            raise forms.ValidationError("The new passage was not understood: select it again.")
        if data.get("passage_exact") and not data.get("passage_revision"):
            raise forms.ValidationError("The new passage names no revision: select it again.")
        return data

    def selector(self):
        """``{number, exact, prefix, suffix, start, end}`` of the new passage, or None when none was selected."""
        data = self.cleaned_data
        if not data.get("passage_exact"):
            return None
        return {
            "number": data["passage_revision"],
            "exact": data["passage_exact"],
            "prefix": data["passage_prefix"][-CONTEXT_LENGTH:],
            "suffix": data["passage_suffix"][:CONTEXT_LENGTH],
            "start": data["passage_start"],
            "end": data["passage_end"],
        }
