"""The benchmarks' tables, in Markdown. No Django imports."""


def format_table(header, rows):
    rows = [tuple(header), *(tuple(row) for row in rows)]
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    lines = []
    for index, row in enumerate(rows):
        lines.append("| " + " | ".join(str(cell).ljust(width) for cell, width in zip(row, widths)) + " |")
        if index == 0:
            lines.append("|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)
