"""The signature stamp's font: DejaVu Sans, embedded, with correct glyph widths.

pyHanko 0.38's ``GlyphAccumulator`` writes glyph widths (the PDF ``/W`` array) and positions in the font's own
units, but PDF wants thousandths of an em. That is right for CFF fonts (1000 units per em) and wrong for
TrueType fonts such as DejaVu Sans (2048): every reader then draws the stamp with letters twice as far apart.
:class:`StampFontFactory` shapes at a scale of 1000 and records widths in thousandths, so the stamp reads
normally. ``test_pdf_sign.py`` checks the widths, so a pyHanko upgrade that fixes this upstream shows up.
"""

from dataclasses import dataclass

from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory

__all__ = ["PDF_UNITS_PER_EM", "StampFontFactory"]

PDF_UNITS_PER_EM = 1000


class _ThousandthsGlyphAccumulator(GlyphAccumulator):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._font_units_per_em = self.units_per_em
        self.units_per_em = PDF_UNITS_PER_EM
        self.hb_font.scale = (PDF_UNITS_PER_EM, PDF_UNITS_PER_EM)

    def _get_cid_and_width(self, glyph_id: int) -> tuple[int, int]:
        if glyph_id in self._glyphs:
            return self._glyphs[glyph_id]
        cid, width = super()._get_cid_and_width(glyph_id)
        self._glyphs[glyph_id] = result = cid, round(width * PDF_UNITS_PER_EM / self._font_units_per_em)
        return result


@dataclass(frozen=True)
class StampFontFactory(GlyphAccumulatorFactory):
    """``GlyphAccumulatorFactory`` whose accumulators write widths in thousandths of an em."""

    def create_font_engine(self, writer, obj_stream=None) -> GlyphAccumulator:
        if obj_stream is None and writer.stream_xrefs and self.create_objstream_if_needed:
            obj_stream = writer.prepare_object_stream()
        return _ThousandthsGlyphAccumulator(
            writer=writer,
            font_handle=open(self.font_file, "rb"),  # noqa: SIM115 - pyHanko reads it while writing
            font_size=self.font_size,
            ot_script_tag=self.ot_script_tag,
            ot_language_tag=self.ot_language_tag,
            writing_direction=self.writing_direction,
            bcp47_lang_code=self.bcp47_lang_code,
            obj_stream=obj_stream,
        )
