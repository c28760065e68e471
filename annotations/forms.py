"""
Forms of the reading page and the critique pages: filing a critique of a
passage, editing one, flagging one.

They only parse what the browser sent. The rules (categories, evidence,
lengths, whether the quote names one passage) live in
``annotations.services``; its ValidationError is mapped back onto the fields
with ``add_service_errors`` so the scholar sees each message where it belongs.
"""

from django import forms

from annotations.anchoring.selectors import CONTEXT_LENGTH
from archive.text import normalize_text

from .models import CATEGORIES_NEEDING_EVIDENCE, CATEGORY_DEFINITIONS, CATEGORY_SIGNS, Category
from .services import MAX_EVIDENCE

EVIDENCE_ROWS_SHOWN = 3
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
        # three rows, or as many as are filled in.
        for number in range(1, MAX_EVIDENCE + 1):
            self.fields[f"evidence_{number}_url"] = forms.CharField(
                label="Web address",
                required=False,
                max_length=4000,
                widget=forms.URLInput(attrs={"placeholder": "https://…"}),
            )
            self.fields[f"evidence_{number}_title"] = forms.CharField(
                label="Title",
                required=False,
                max_length=4000,
            )
            self.fields[f"evidence_{number}_note"] = forms.CharField(
                label="Note",
                required=False,
                max_length=4000,
            )

    def evidence_rows(self):
        """``(number, url, title, note)`` bound fields of the rows to show."""
        shown = EVIDENCE_ROWS_SHOWN
        for number in range(1, MAX_EVIDENCE + 1):
            if any(self[f"evidence_{number}_{part}"].value() for part in ("url", "title", "note")):
                shown = max(shown, number)
        return [
            (number, *(self[f"evidence_{number}_{part}"] for part in ("url", "title", "note")))
            for number in range(1, shown + 1)
        ]

    def cleaned_evidence(self):
        """Every row as ``{url, title, note}``; the service drops empty rows and numbers the rest."""
        rows = []
        for number in range(1, MAX_EVIDENCE + 1):
            rows.append(
                {part: self.cleaned_data.get(f"evidence_{number}_{part}", "") for part in ("url", "title", "note")}
            )
        # Trailing empty rows would only shift no numbers; drop them to keep the list short.
        while rows and not any(rows[-1].values()):
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
                self.evidence_errors.extend(messages)
            elif key in self.SERVICE_FIELDS:
                for message in messages:
                    self.add_error(self.SERVICE_FIELDS[key], message)
            else:
                for message in messages:
                    self.add_error(None, message)

    @classmethod
    def initial_from_version(cls, version):
        initial = {"category": version.category, "body": version.body}
        for number, item in enumerate(version.evidence, start=1):
            for part in ("url", "title", "note"):
                initial[f"evidence_{number}_{part}"] = item.get(part, "")
        return initial


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
