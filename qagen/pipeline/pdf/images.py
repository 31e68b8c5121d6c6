"""Chart PNGs placed in the PDF without decoding them.

A plain 8-bit RGB or grey, non-interlaced PNG is already a Flate stream with PNG
predictors, which PDF reads natively (/DecodeParms /Predictor 15). So the IDAT data goes
into the file as it is: no decode, no re-compression, no hashing of the raw pixels
(reportlab's `drawImage` does all three, on every layout pass). Anything else (palette,
alpha, 16-bit, interlaced) falls back to reportlab's own `Image`.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zlib

from reportlab.pdfbase import pdfdoc
from reportlab.platypus import Flowable
from reportlab.platypus import Image as ReportlabImage

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLORS = {0: 1, 2: 3}  # PNG colour type -> components (grey, RGB)


class PNGData:
    """The parts of a simple PNG that a PDF image XObject needs."""

    def __init__(self, width: int, height: int, colors: int, idat: bytes, digest: str) -> None:
        self.width, self.height, self.colors, self.idat, self.digest = width, height, colors, idat, digest


def parse_png(data: bytes) -> PNGData | None:
    """PNGData for an 8-bit grey/RGB non-interlaced PNG, else None."""
    if not data.startswith(_SIGNATURE):
        return None
    position, idat, header = len(_SIGNATURE), [], None
    try:
        while position + 8 <= len(data):
            length, kind = struct.unpack(">I4s", data[position:position + 8])
            body = data[position + 8:position + 8 + length]
            if len(body) != length:
                return None
            if kind == b"IHDR":
                header = struct.unpack(">IIBBBBB", body)
            elif kind == b"IDAT":
                idat.append(body)
            elif kind == b"IEND":
                break
            elif kind in (b"PLTE", b"tRNS"):
                return None
            position += 12 + length
    except struct.error:
        return None
    if header is None or not idat:
        return None
    width, height, depth, color_type, compression, filtering, interlace = header
    if depth != 8 or color_type not in _COLORS or compression or filtering or interlace or not width or not height:
        return None
    stream = b"".join(idat)
    try:  # a cheap sanity check of the zlib stream header
        zlib.decompressobj().decompress(stream[:64])
    except zlib.error:
        return None
    return PNGData(width, height, _COLORS[color_type], stream, hashlib.md5(data).hexdigest())


class _PNGXObject(pdfdoc.PDFImageXObject):
    def __init__(self, name: str, png: PNGData) -> None:
        self.name = name
        self.png = png
        self.width, self.height = png.width, png.height
        self.bitsPerComponent = 8
        self.colorSpace = "DeviceRGB" if png.colors == 3 else "DeviceGray"
        self._filters = ("FlateDecode",)
        self.streamContent = png.idat
        self.mask = None

    def format(self, document):
        stream = pdfdoc.PDFStream(content=self.streamContent)
        entries = stream.dictionary
        entries["Type"] = pdfdoc.PDFName("XObject")
        entries["Subtype"] = pdfdoc.PDFName("Image")
        entries["Width"] = self.width
        entries["Height"] = self.height
        entries["BitsPerComponent"] = 8
        entries["ColorSpace"] = pdfdoc.PDFName(self.colorSpace)
        entries["Filter"] = pdfdoc.PDFName("FlateDecode")  # a single name, so DecodeParms is a single dict
        entries["DecodeParms"] = pdfdoc.PDFDictionary({"Predictor": 15, "Colors": self.png.colors,
                                                       "BitsPerComponent": 8, "Columns": self.width})
        entries["Length"] = len(self.streamContent)
        return stream.format(document)


class PNGImage(Flowable):
    """A PNG drawn at `width` x `height` points, embedded as it is (see the module docstring)."""

    def __init__(self, png: PNGData, width: float, height: float) -> None:
        super().__init__()
        self.png = png
        self.drawWidth, self.drawHeight = width, height

    def wrap(self, available_width, available_height):
        return self.drawWidth, self.drawHeight

    def draw(self):
        canvas = self.canv
        if getattr(canvas, "draft", False):
            return
        canvas._currentPageHasImages = 1
        document = canvas._doc
        name = "png" + self.png.digest
        registered = document.getXObjectName(name)
        if not document.idToObject.get(registered):
            xobject = _PNGXObject(name, self.png)
            canvas._setXObjects(xobject)
            document.Reference(xobject, registered)
            document.addForm(name, xobject)
        canvas.saveState()
        canvas.scale(self.drawWidth, self.drawHeight)
        canvas._code.append(f"/{registered} Do")
        canvas.restoreState()
        canvas._formsinuse.append(name)


def image_flowable(data: bytes, width: float, height: float) -> Flowable:
    """PNGImage when the PNG allows it, else reportlab's Image (which decodes and re-encodes)."""
    png = parse_png(data)
    if png is not None:
        return PNGImage(png, width, height)
    return ReportlabImage(io.BytesIO(data), width=width, height=height)
