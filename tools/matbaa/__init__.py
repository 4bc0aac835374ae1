"""matbaa: a publishing toolchain for print (WeasyPrint) and EPUB 3 (ebooklib).

Pipeline: reader -> model -> transforms -> writers (html/pdf, epub).
"""
__version__ = "0.1.0"
