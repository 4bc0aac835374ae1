"""Writers: Book -> outputs.  html (the print document), pdf (WeasyPrint), epub (ebooklib)."""
