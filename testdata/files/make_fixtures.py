#!/usr/bin/env python3
"""Write the tiny workbooks the file-import tests read (standard library only):

* iocs.xlsx: a header row, then observables with dates (a real Excel date cell, a text date, an
  Excel serial as a number), kill chain phases, threats, a description, a cell with two hashes of
  one file, a bad row, and a blank row; the sheet's used range starts at A1.
* iocs.ods: the same rows as an OpenDocument spreadsheet (a date-valued cell included).
* iocs.xls: the same rows as a legacy Excel (BIFF8) workbook, and a second worksheet "More IOCs"
  (a header and two observables), written with `xlwt` (the only
  file that needs a package: `pip install xlwt==1.3.0`; skipped without it).

Run from anywhere: python3 testdata/files/make_fixtures.py (writes beside this script).
"""

from __future__ import annotations

import os
import zipfile
from xml.sax.saxutils import escape

HERE = os.path.dirname(os.path.abspath(__file__))
STAMP = (2024, 5, 7, 0, 0, 0)  # fixed entry times: the files are byte-for-byte reproducible

# (kind, value): "s" string, "d" date (Excel serial / ISO date), "n" number
ROWS = [
    [("s", "Indicator"), ("s", "First seen"), ("s", "Valid until"), ("s", "Kill chain"), ("s", "Threat"),
     ("s", "Comment")],
    [("s", "evil.example"), ("d", (45419, "2024-05-07")), ("s", "2025-01-01"), ("s", "c2, delivery"),
     ("s", "APT29"), ("s", "C2 domain")],
    [("s", "203.0.113.5"), ("s", "2024-05-08 10:00:00"), ("s", ""), ("s", "delivery"), ("s", ""),
     ("s", "=HYPERLINK(\"x\")")],
    [("s", "d30bb9df615a8d1661f843d426ff40eb,4344e695b5f65917dc68f241ecde4b99cf25d930"), ("n", 45420),
     ("s", ""), ("s", ""), ("s", ""), ("s", "two hashes")],
    [("s", "not an ioc"), ("s", "2024-05-07"), ("s", ""), ("s", ""), ("s", ""), ("s", "")],
    [("s", ""), ("s", ""), ("s", ""), ("s", ""), ("s", ""), ("s", "")],
    [("s", "hxxp://phish[.]example/login"), ("s", "yesterday"), ("s", ""), ("s", ""), ("s", ""), ("s", "")],
]


def write_zip(path: str, entries: list[tuple[str, str]], stored_first: bool = False) -> None:
    with zipfile.ZipFile(path, "w") as z:
        for i, (name, data) in enumerate(entries):
            info = zipfile.ZipInfo(name, STAMP)
            info.compress_type = zipfile.ZIP_STORED if (stored_first and i == 0) else zipfile.ZIP_DEFLATED
            z.writestr(info, data)


def col(i: int) -> str:
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[i]


def xlsx(path: str) -> None:
    rows = []
    for r, row in enumerate(ROWS, start=1):
        cells = []
        for c, (kind, v) in enumerate(row):
            ref = f"{col(c)}{r}"
            if kind == "s":
                if v:
                    cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(v)}</t></is></c>')
            elif kind == "d":
                cells.append(f'<c r="{ref}" s="1"><v>{v[0]}</v></c>')
            else:
                cells.append(f'<c r="{ref}"><v>{v}</v></c>')
        rows.append(f'<row r="{r}">{"".join(cells)}</row>')
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<sheetData>{"".join(rows)}</sheetData></worksheet>'
    )
    write_zip(path, [
        ("[Content_Types].xml",
         '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
         '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
         '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
         '<Default Extension="xml" ContentType="application/xml"/>'
         '<Override PartName="/xl/workbook.xml" '
         'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
         '<Override PartName="/xl/worksheets/sheet1.xml" '
         'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
         '<Override PartName="/xl/styles.xml" '
         'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
         '</Types>'),
        ("_rels/.rels",
         '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" '
         'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
         'Target="xl/workbook.xml"/></Relationships>'),
        ("xl/workbook.xml",
         '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
         '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
         'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
         '<sheets><sheet name="IOCs" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        ("xl/_rels/workbook.xml.rels",
         '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" '
         'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
         'Target="worksheets/sheet1.xml"/>'
         '<Relationship Id="rId2" '
         'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
         'Target="styles.xml"/></Relationships>'),
        ("xl/styles.xml",
         '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
         '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
         '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs>'
         '</styleSheet>'),
        ("xl/worksheets/sheet1.xml", sheet),
    ])


def ods(path: str) -> None:
    rows = []
    for row in ROWS:
        cells = []
        for kind, v in row:
            if kind == "s":
                cells.append(f'<table:table-cell office:value-type="string"><text:p>{escape(v)}</text:p>'
                             '</table:table-cell>' if v else '<table:table-cell/>')
            elif kind == "d":
                cells.append(f'<table:table-cell office:value-type="date" office:date-value="{v[1]}">'
                             f'<text:p>{v[1]}</text:p></table:table-cell>')
            else:
                cells.append(f'<table:table-cell office:value-type="float" office:value="{v}">'
                             f'<text:p>{v}</text:p></table:table-cell>')
        rows.append(f'<table:table-row>{"".join(cells)}</table:table-row>')
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="IOCs">'
        f'{"".join(rows)}</table:table></office:spreadsheet></office:body></office:document-content>'
    )
    write_zip(path, [
        ("mimetype", "application/vnd.oasis.opendocument.spreadsheet"),
        ("META-INF/manifest.xml",
         '<?xml version="1.0" encoding="UTF-8"?>'
         '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
         'manifest:version="1.2">'
         '<manifest:file-entry manifest:full-path="/" '
         'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
         '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
         '</manifest:manifest>'),
        ("content.xml", content),
    ], stored_first=True)


def xls(path: str) -> None:
    import datetime

    import xlwt  # type: ignore[import-untyped]

    book = xlwt.Workbook()
    sheet = book.add_sheet("IOCs")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for r, row in enumerate(ROWS):
        for c, (kind, v) in enumerate(row):
            if kind == "s":
                if v:
                    sheet.write(r, c, v)
            elif kind == "d":
                sheet.write(r, c, datetime.datetime.strptime(v[1], "%Y-%m-%d"), date_style)
            else:
                sheet.write(r, c, v)
    more = book.add_sheet("More IOCs")
    more.write(0, 0, "sha256")
    more.write(1, 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    more.write(2, 0, "198.51.100.7")
    book.save(path)


if __name__ == "__main__":
    xlsx(os.path.join(HERE, "iocs.xlsx"))
    ods(os.path.join(HERE, "iocs.ods"))
    try:
        xls(os.path.join(HERE, "iocs.xls"))
    except ImportError:
        print("xlwt is not installed: iocs.xls left as it is")
