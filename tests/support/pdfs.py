"""Real one-page PDFs written with pypdf, for the first-page affiliation reader."""

from __future__ import annotations

import io
from collections.abc import Sequence

from pypdf import PdfWriter
from pypdf.generic import ContentStream, DictionaryObject, NameObject


def _escape(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def one_page_pdf(lines: Sequence[str]) -> bytes:
    """A US-letter PDF whose single page prints `lines` in Helvetica, top down."""
    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
    )
    shown = " ".join(f"({_escape(line)}) Tj T*" for line in lines)
    contents = ContentStream(None, writer)
    contents.set_data(f"BT /F1 11 Tf 72 720 Td 14 TL {shown} ET".encode("latin-1"))
    page.replace_contents(contents)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
